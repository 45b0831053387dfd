// Capability-aware routing against llm-sim: image, tools and json_schema requests never reach a model that
// declares it cannot take them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';
import { requiredCapabilities } from '../src/routing/capabilities.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 3 } };
const stack = simAndRouter({
  simModels: ['text', 'vis', 'schema', 'cheapvis'].map((id) => ({ id, ...fast })),
  timeScale: 1,
  routerYaml: (simUrl) => {
    const dep = (m: string, price: number) =>
      `[ { id: ${m}-d, api_base: "${simUrl}/v1", model: ${m}, price: { input_per_1m: ${price}, output_per_1m: ${price} } } ]`;
    return `models:
  - { name: text, capabilities: [tools], deployments: ${dep('text', 1)} }
  - { name: vis, capabilities: [vision], fallbacks: [text], deployments: ${dep('vis', 5)} }
  - { name: cheapvis, capabilities: [vision], deployments: ${dep('cheapvis', 2)} }
  - { name: schema, capabilities: [json_schema, tools], deployments: ${dep('schema', 3)} }
policies:
  - name: p
    classifier: task
    routes: {}
    default: text
`;
  },
});

const chat = async (body: Record<string, unknown>) => {
  const res = await fetch(`${stack.router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: res.status,
    headers: res.headers,
    json: (await res.json()) as { model?: string; error?: { code: string; message: string; param: string } },
  };
};
const IMAGE = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };
const TOOLS = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
const SCHEMA = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } };

test('what a request needs: image parts, tools or functions, a json_schema response format', () => {
  assert.deepEqual(requiredCapabilities({ messages: [{ content: 'hi' }] }), []);
  assert.deepEqual(
    requiredCapabilities({
      messages: [{ content: [{ type: 'text', text: 'a' }, IMAGE] }],
      tools: TOOLS,
      response_format: SCHEMA,
    }),
    ['vision', 'tools', 'json_schema'],
  );
  assert.deepEqual(
    requiredCapabilities({
      messages: [{ content: [{ type: 'input_image' }] }],
      tools: [],
      response_format: { type: 'json_object' },
    }),
    ['vision'],
  );
  assert.deepEqual(requiredCapabilities({ messages: [], functions: [{ name: 'f' }] }), ['tools']);
});

test('an image-only prompt is routed by capability, never to the text-only default', async () => {
  const r = await chat({ model: 'router/p', messages: [{ role: 'user', content: [IMAGE] }] });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-router-class'), 'empty');
  assert.equal(r.headers.get('x-router-model'), 'cheapvis', 'the cheapest capable model');
  assert.equal(r.headers.get('x-router-fallback-from'), 'text');
  assert.equal(r.headers.get('x-router-fallback-reason'), 'capability_vision');
  const m = await (await fetch(`${stack.router.url}/metrics`)).text();
  assert.equal(
    metricValue(m, 'llm_router_fallbacks_total', { from: 'text', to: 'cheapvis', reason: 'capability_vision' }),
    1,
  );
});

test('tools by model name: a model without tools passes the request to its first capable fallback', async () => {
  const r = await chat({ model: 'vis', messages: [{ role: 'user', content: 'weather?' }], tools: TOOLS });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-router-model'), 'text');
  assert.equal(r.headers.get('x-router-fallback-reason'), 'capability_tools');
});

test('json_schema through a policy goes to a model that has it', async () => {
  const r = await chat({
    model: 'router/p',
    messages: [{ role: 'user', content: 'Give me a JSON object with a name' }],
    response_format: SCHEMA,
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-router-model'), 'schema');
  assert.equal(r.headers.get('x-router-fallback-reason'), 'capability_json_schema');
});

test('when no model has what the request needs: a clear 400 that says which models have what', async () => {
  const r = await chat({ model: 'router/p', messages: [{ role: 'user', content: [IMAGE] }], response_format: SCHEMA });
  assert.equal(r.status, 400);
  assert.equal(r.json.error?.code, 'no_capable_model');
  assert.match(r.json.error!.message, /supports vision and json_schema/);
  const manual = await chat({ model: 'text', messages: [{ role: 'user', content: [IMAGE] }] });
  assert.equal(manual.status, 400, 'by name, with no capable fallback of its own');
  assert.match(manual.json.error!.message, /models that do: vis, cheapvis/);
});

test('requests with no special needs are routed as before', async () => {
  const r = await chat({ model: 'router/p', messages: [{ role: 'user', content: 'hello there' }] });
  assert.equal(r.headers.get('x-router-model'), 'text');
  assert.equal(r.headers.get('x-router-fallback-from'), null);
});
