// Azure OpenAI deployments through the router, against llm-sim speaking Azure's URLs: per-deployment paths with
// api-version and the api-key header, and the newer /openai/v1 form; answers and streams pass through as OpenAI's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { metricValue } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 6, stddev: 0 } };
const stack = simAndRouter({
  simModels: [{ id: 'gpt-4o-sim', ...fast }],
  timeScale: 1,
  routerYaml: (simUrl) => `models:
  - name: azure-gpt
    endpoints: [chat, embeddings]
    deployments:
      - { id: az-1, provider: azure, api_base: "${simUrl}", api_key: az-key, model: gpt-4o, azure_deployment: gpt-4o-sim,
          api_version: "2024-10-21", price: { input_per_1m: 2.5, output_per_1m: 10 } }
  - name: azure-v1
    deployments:
      - { id: az-v1, provider: azure, api_base: "${simUrl}/openai/v1", api_key: az-key, model: gpt-4o-sim, api_version: v1,
          price: { input_per_1m: 2.5, output_per_1m: 10 } }
`,
});

test('an Azure deployment (per-deployment URL, api-version, api-key) serves chat, streams and embeddings', async () => {
  const client = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
  const r = await client.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.model, 'gpt-4o-sim', 'llm-sim took the model from the deployment in the URL');
  assert.equal(r.usage!.completion_tokens, 6);
  const stream = await client.chat.completions.create({
    model: 'azure-gpt',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  assert.ok(text.length > 0);
  const e = await client.embeddings.create({ model: 'azure-gpt', input: 'vector me' });
  assert.ok(e.data[0]!.embedding.length > 0);
  const v1 = await client.chat.completions.create({ model: 'azure-v1', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(v1.model, 'gpt-4o-sim');
  const m = await (await fetch(`${stack.router.url}/metrics`)).text();
  assert.equal(metricValue(m, 'llm_router_requests_total', { model: 'azure-gpt', status: '200' }), 3);
  assert.ok(metricValue(m, 'llm_router_cost_usd_total', { model: 'azure-gpt' }) > 0);
});

test("llm-sim answers Azure's way: no api-key is a 401, no api-version a 404", async () => {
  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${stack.sim.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
  assert.equal((await post('/openai/deployments/gpt-4o-sim/chat/completions?api-version=2024-10-21', {})).status, 401);
  assert.equal((await post('/openai/deployments/gpt-4o-sim/chat/completions', { 'api-key': 'k' })).status, 404);
  assert.equal(
    (await post('/openai/deployments/gpt-4o-sim/chat/completions?api-version=2024-10-21', { 'api-key': 'k' })).status,
    200,
  );
});
