// The compatibility matrix: every client library people use (openai chat and Responses, @anthropic-ai/sdk,
// LangChain, the Vercel AI SDK over Responses and over Chat, the OpenAI Agents SDK) × every provider behind the router (OpenAI, Azure,
// Anthropic, Gemini, Bedrock, each spoken by llm-sim) × plain, streamed and a tool round trip (the call, then the
// tool's result and the model's text). Each case checks what the client reads (text, the call and its arguments,
// usage); at the end the router's token and cost metrics must equal the usage the clients were told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ChatOpenAI } from '@langchain/openai';
import { type AIMessageChunk, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import {
  Agent,
  type ModelResponse,
  run,
  setDefaultOpenAIClient,
  setTracingDisabled,
  tool as agentTool,
} from '@openai/agents';
import { z } from 'zod';
import { metricValue } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const PROVIDERS = ['openai', 'azure', 'anthropic', 'gemini', 'bedrock'] as const;
type Provider = (typeof PROVIDERS)[number];
/** llm-sim's text answers have exactly this many tokens, so usage can be checked per answer. */
const TOKENS = 7;
const PROMPT = 'What is the weather like in Paris today?';
const WEATHER = {
  name: 'get_weather',
  description: 'The current weather in a city',
  parameters: {
    type: 'object' as const,
    properties: {
      city: { type: 'string' as const },
      unit: { type: 'string' as const, enum: ['celsius', 'fahrenheit'] },
    },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
};
/** What llm-sim fills WEATHER's schema with (its first enum value, "sim" for a string). */
const ARGS = { city: 'sim', unit: 'celsius' };
const RESULT = 'Sunny, 21 degrees';

const stack = simAndRouter({
  simModels: [
    { id: 'm', ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: TOKENS, stddev: 0 } },
  ],
  timeScale: 1,
  routerYaml: (sim) => {
    const dep: Record<Provider, string> = {
      openai: `api_base: "${sim}/v1", api_key: k`,
      azure: `api_base: "${sim}", api_key: k, azure_deployment: m, api_version: "2024-10-21"`,
      anthropic: `api_base: "${sim}/v1", api_key: k`,
      gemini: `api_base: "${sim}/v1beta", api_key: k`,
      bedrock: `api_base: "${sim}", api_key: k, aws_region: us-east-1`,
    };
    // OpenAI-compatible providers serve Responses themselves (pass-through); the others by translation from chat.
    const endpoints = (p: Provider) => (p === 'openai' || p === 'azure' ? 'endpoints: [chat, responses], ' : '');
    return `models:\n${PROVIDERS.map(
      (p) =>
        `  - { name: via-${p}, ${endpoints(p)}deployments: [ { id: ${p}-1, provider: ${p}, model: m, ${dep[p]}, price: { input_per_1m: 1, output_per_1m: 2 } } ] }`,
    ).join('\n')}\n`;
  },
});

/** What a client read from one request. */
interface Usage {
  input: number;
  output: number;
}
interface Read {
  text?: string;
  call?: { name: string; args: unknown };
  usage: Usage;
}
interface Client {
  plain(model: string): Promise<Read>;
  stream(model: string): Promise<Read>;
  /** The call (plain, and streamed where the client streams calls), then the result sent back and the text after. */
  tools(model: string): Promise<{ calls: Read[]; answer: Read }>;
}

const seen = new Map<Provider, Usage>(PROVIDERS.map((p) => [p, { input: 0, output: 0 }]));
function book(provider: Provider, ...reads: Read[]): void {
  const total = seen.get(provider)!;
  for (const r of reads) {
    total.input += r.usage.input;
    total.output += r.usage.output;
  }
}

function openaiChat(): Client {
  const client = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const usage = (u: OpenAI.CompletionUsage | undefined) => ({ input: u!.prompt_tokens, output: u!.completion_tokens });
  const tools = [{ type: 'function' as const, function: WEATHER }];
  const user = { role: 'user' as const, content: PROMPT };
  async function streamed(model: string, withTools: boolean): Promise<Read & { id?: string }> {
    const s = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [user],
      ...(withTools ? { tools } : {}),
    });
    let text = '';
    let name = '';
    let args = '';
    let u: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const c of s) {
      const d = c.choices[0]?.delta;
      text += d?.content ?? '';
      for (const t of d?.tool_calls ?? []) {
        name += t.function?.name ?? '';
        args += t.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
      u = c.usage ?? u;
    }
    assert.equal(finish, withTools ? 'tool_calls' : 'stop');
    return withTools ? { call: { name, args: JSON.parse(args) }, usage: usage(u) } : { text, usage: usage(u) };
  }
  return {
    async plain(model) {
      const r = await client.chat.completions.create({ model, messages: [user] });
      assert.equal(r.choices[0]!.finish_reason, 'stop');
      return { text: r.choices[0]!.message.content ?? '', usage: usage(r.usage) };
    },
    stream: (model) => streamed(model, false),
    async tools(model) {
      const r = await client.chat.completions.create({ model, messages: [user], tools });
      assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
      const call = r.choices[0]!.message.tool_calls![0]!;
      assert.equal(call.type, 'function');
      if (call.type !== 'function') throw new Error('not a function call');
      const first = {
        call: { name: call.function.name, args: JSON.parse(call.function.arguments) },
        usage: usage(r.usage),
      };
      const answer = await client.chat.completions.create({
        model,
        tools,
        messages: [user, r.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: RESULT }],
      });
      assert.equal(answer.choices[0]!.finish_reason, 'stop');
      return {
        calls: [first, await streamed(model, true)],
        answer: { text: answer.choices[0]!.message.content ?? '', usage: usage(answer.usage) },
      };
    },
  };
}

function openaiResponses(): Client {
  const client = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const usage = (u: OpenAI.Responses.ResponseUsage | undefined) => ({
    input: u!.input_tokens,
    output: u!.output_tokens,
  });
  const tools = [{ type: 'function' as const, strict: false, ...WEATHER }];
  return {
    async plain(model) {
      const r = await client.responses.create({ model, input: PROMPT });
      assert.equal(r.status, 'completed');
      return { text: r.output_text, usage: usage(r.usage) };
    },
    async stream(model) {
      const s = await client.responses.create({ model, input: PROMPT, stream: true });
      let text = '';
      let u: OpenAI.Responses.ResponseUsage | undefined;
      for await (const e of s) {
        if (e.type === 'response.output_text.delta') text += e.delta;
        if (e.type === 'response.completed') u = e.response.usage;
      }
      return { text, usage: usage(u) };
    },
    async tools(model) {
      const r = await client.responses.create({ model, input: PROMPT, tools });
      const call = r.output.find((o) => o.type === 'function_call');
      assert.ok(call && call.type === 'function_call', JSON.stringify(r.output));
      const answer = await client.responses.create({
        model,
        tools,
        input: [
          { role: 'user', content: PROMPT },
          call,
          { type: 'function_call_output', call_id: call.call_id, output: RESULT },
        ],
      });
      return {
        calls: [{ call: { name: call.name, args: JSON.parse(call.arguments) }, usage: usage(r.usage) }],
        answer: { text: answer.output_text, usage: usage(answer.usage) },
      };
    },
  };
}

function anthropicMessages(): Client {
  const client = new Anthropic({ baseURL: stack.router.url, apiKey: 'unused', maxRetries: 0 });
  const usage = (u: Anthropic.Usage) => ({ input: u.input_tokens, output: u.output_tokens });
  const tools = [{ name: WEATHER.name, description: WEATHER.description, input_schema: WEATHER.parameters }];
  const user = { role: 'user' as const, content: PROMPT };
  const text = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  const called = (m: Anthropic.Message): Read => {
    assert.equal(m.stop_reason, 'tool_use');
    const use = m.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use', JSON.stringify(m.content));
    return { call: { name: use.name, args: use.input }, usage: usage(m.usage) };
  };
  return {
    async plain(model) {
      const m = await client.messages.create({ model, max_tokens: 64, messages: [user] });
      assert.equal(m.stop_reason, 'end_turn');
      return { text: text(m), usage: usage(m.usage) };
    },
    async stream(model) {
      const m = await client.messages.stream({ model, max_tokens: 64, messages: [user] }).finalMessage();
      assert.equal(m.stop_reason, 'end_turn');
      return { text: text(m), usage: usage(m.usage) };
    },
    async tools(model) {
      const m = await client.messages.create({ model, max_tokens: 64, messages: [user], tools });
      const first = called(m);
      const streamed = called(
        await client.messages.stream({ model, max_tokens: 64, messages: [user], tools }).finalMessage(),
      );
      const use = m.content.find((b) => b.type === 'tool_use')!;
      const answer = await client.messages.create({
        model,
        max_tokens: 64,
        tools,
        messages: [
          user,
          { role: 'assistant', content: m.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: use.type === 'tool_use' ? use.id : '', content: RESULT }],
          },
        ],
      });
      assert.equal(answer.stop_reason, 'end_turn');
      return { calls: [first, streamed], answer: { text: text(answer), usage: usage(answer.usage) } };
    },
  };
}

function langchain(): Client {
  const chat = (model: string) =>
    new ChatOpenAI({ model, apiKey: 'unused', configuration: { baseURL: `${stack.router.url}/v1` }, maxRetries: 0 });
  const usage = (m: AIMessageChunk) => ({
    input: m.usage_metadata!.input_tokens,
    output: m.usage_metadata!.output_tokens,
  });
  return {
    async plain(model) {
      const m = await chat(model).invoke(PROMPT);
      return { text: String(m.content), usage: usage(m) };
    },
    async stream(model) {
      let all: AIMessageChunk | undefined;
      for await (const c of await chat(model).stream(PROMPT)) all = all ? all.concat(c) : c;
      return { text: String(all!.content), usage: usage(all!) };
    },
    async tools(model) {
      const withTools = chat(model).bindTools([{ type: 'function', function: WEATHER }]);
      const question = new HumanMessage(PROMPT);
      const m = await withTools.invoke([question]);
      const call = m.tool_calls![0]!;
      const answer = await withTools.invoke([
        question,
        m,
        new ToolMessage({ tool_call_id: call.id!, content: RESULT }),
      ]);
      assert.equal(answer.tool_calls?.length ?? 0, 0);
      return {
        calls: [{ call: { name: call.name, args: call.args }, usage: usage(m) }],
        answer: { text: String(answer.content), usage: usage(answer) },
      };
    },
  };
}

function vercel(api: 'responses' | 'chat'): Client {
  const openai = createOpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
  const model = (name: string) => (api === 'chat' ? openai.chat(name) : openai.responses(name));
  const usage = (u: { inputTokens?: number; outputTokens?: number }) => ({
    input: u.inputTokens!,
    output: u.outputTokens!,
  });
  return {
    async plain(name) {
      const r = await generateText({ model: model(name), prompt: PROMPT, maxRetries: 0 });
      assert.equal(r.finishReason, 'stop');
      return { text: r.text, usage: usage(r.usage) };
    },
    async stream(name) {
      const s = streamText({ model: model(name), prompt: PROMPT, maxRetries: 0 });
      let text = '';
      for await (const delta of s.textStream) text += delta;
      return { text, usage: usage(await s.usage) };
    },
    async tools(name) {
      const r = await generateText({
        model: model(name),
        prompt: PROMPT,
        maxRetries: 0,
        stopWhen: stepCountIs(3),
        tools: {
          [WEATHER.name]: tool({
            description: WEATHER.description,
            inputSchema: jsonSchema<{ city: string; unit: string }>(WEATHER.parameters),
            execute: async () => RESULT,
          }),
        },
      });
      assert.equal(r.steps.length, 2, 'a call, then the answer');
      const [first, last] = r.steps;
      const call = first!.toolCalls[0]!;
      assert.equal(first!.finishReason, 'tool-calls');
      return {
        calls: [{ call: { name: call.toolName, args: call.input }, usage: usage(first!.usage) }],
        answer: { text: last!.text, usage: usage(last!.usage) },
      };
    },
  };
}

/** The OpenAI Agents SDK (Responses API): an agent run, streamed, and a run whose tool the SDK calls itself. */
function agents(): Client {
  // Its traces would go to OpenAI's servers: off, and the client pointed at the router.
  setTracingDisabled(true);
  setDefaultOpenAIClient(new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
  const usage = (responses: ModelResponse[]) => ({
    input: responses.reduce((n, r) => n + r.usage.inputTokens, 0),
    output: responses.reduce((n, r) => n + r.usage.outputTokens, 0),
  });
  const agent = (model: string, tools: Agent['tools'] = []) =>
    new Agent({ name: 'weather', instructions: 'Answer briefly.', model, tools });
  return {
    async plain(model) {
      const r = await run(agent(model), PROMPT);
      return { text: String(r.finalOutput), usage: usage(r.rawResponses) };
    },
    async stream(model) {
      const r = await run(agent(model), PROMPT, { stream: true });
      let text = '';
      for await (const e of r.toTextStream()) text += e;
      await r.completed;
      assert.equal(text, r.finalOutput);
      return { text, usage: usage(r.rawResponses) };
    },
    async tools(model) {
      const weather = agentTool({
        name: WEATHER.name,
        description: WEATHER.description,
        parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
        execute: async () => RESULT,
      });
      const r = await run(agent(model, [weather]), PROMPT);
      assert.equal(r.rawResponses.length, 2, 'a call, then the answer');
      const item = r.newItems.find((i) => i.type === 'tool_call_item')?.rawItem;
      assert.ok(item && item.type === 'function_call', JSON.stringify(r.newItems));
      return {
        calls: [
          { call: { name: item.name, args: JSON.parse(item.arguments) }, usage: usage(r.rawResponses.slice(0, 1)) },
        ],
        answer: { text: String(r.finalOutput), usage: usage(r.rawResponses.slice(1)) },
      };
    },
  };
}

const CLIENTS: Record<string, () => Client> = {
  'openai chat': openaiChat,
  'openai responses': openaiResponses,
  '@anthropic-ai/sdk': anthropicMessages,
  langchain,
  'vercel ai (responses)': () => vercel('responses'),
  'vercel ai (chat)': () => vercel('chat'),
  'openai agents': agents,
};

const textAnswer = (r: Read, what: string) => {
  assert.ok((r.text ?? '').length > 0, `${what}: text`);
  assert.ok(r.usage.input > 0, `${what}: input tokens`);
  assert.equal(r.usage.output, TOKENS, `${what}: output tokens`);
};

for (const [clientName, makeClient] of Object.entries(CLIENTS))
  for (const provider of PROVIDERS) {
    const model = `via-${provider}`;
    test(`${clientName} × ${provider}: plain, streamed, tools`, async () => {
      const client = makeClient();
      const plain = await client.plain(model);
      textAnswer(plain, 'plain');
      const streamed = await client.stream(model);
      textAnswer(streamed, 'streamed');
      const { calls, answer } = await client.tools(model);
      for (const [i, c] of calls.entries()) {
        assert.deepEqual(c.call, { name: WEATHER.name, args: ARGS }, `call ${i}`);
        assert.ok(c.usage.input > 0 && c.usage.output > 0, `call ${i}: usage`);
      }
      textAnswer(answer, 'the answer after the tool result');
      book(provider, plain, streamed, ...calls, answer);
    });
  }

test('the router counted the tokens every client was told, and priced them', async () => {
  const m = await (await fetch(`${stack.router.url}/metrics`)).text();
  for (const provider of PROVIDERS) {
    const model = `via-${provider}`;
    const { input, output } = seen.get(provider)!;
    assert.ok(input > 0 && output > 0, `${provider}: the cases ran`);
    assert.equal(metricValue(m, 'llm_router_tokens_total', { model, type: 'prompt' }), input, `${provider} prompt`);
    assert.equal(metricValue(m, 'llm_router_tokens_total', { model, type: 'completion' }), output, provider);
    const cost = metricValue(m, 'llm_router_cost_usd_total', { model });
    assert.ok(Math.abs(cost - (input * 1 + output * 2) / 1e6) < 1e-9, `${provider}: cost ${cost}`);
  }
});
