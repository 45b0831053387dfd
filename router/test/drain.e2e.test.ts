// Graceful drain on SIGTERM: /ready turns 503, the listener closes after drain_delay_ms, a stream in progress
// finishes, then the process exits 0; past drain_timeout_ms what is left is cut. Also with --workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startFakeUpstream, type FakeUpstream } from '../../test-support/fake-upstream.ts';
import { ROUTER_MAIN, startService, tempDir, waitFor, type RunningService } from '../../test-support/services.ts';

const tmp = tempDir();
let upstream: FakeUpstream;
const started: RunningService[] = [];

before(async () => {
  // "slow": 20 chunks 50 ms apart then [DONE]; "stuck": one chunk, then nothing.
  upstream = await startFakeUpstream(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (i: number) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'x', choices: [{ index: 0, delta: { content: `t${i} ` } }] })}\n\n`;
    res.write(chunk(0));
    if (req.name === 'stuck') return;
    for (let i = 1; i < 20 && !res.destroyed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res.write(chunk(i));
    }
    res.end('data: [DONE]\n\n');
  });
});
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await upstream.close();
  tmp.remove();
});

async function startRouter(name: string, server: Record<string, number>, args: string[] = []) {
  const dep = {
    id: name,
    api_base: `${upstream.url}/${name}/v1`,
    model: 'x',
    price: { input_per_1m: 1, output_per_1m: 1 },
  };
  const file = tmp.write(
    `${name}-${started.length}.yaml`,
    `server: ${JSON.stringify(server)}\nmodels:\n  - {name: m, deployments: [${JSON.stringify(dep)}]}\n`,
  );
  const r = await startService(ROUTER_MAIN, ['--config', file, ...args]);
  started.push(r);
  return r;
}

/** A stream request: resolves once the first bytes arrived, with a promise of the whole text. */
async function openStream(r: RunningService) {
  const res = await fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'go' }] }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  const rest = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value);
      }
    } catch {
      return `${text}<cut>`;
    }
  })();
  // Wrapped: an async function returning the promise itself would make the caller wait for the whole stream.
  return { rest };
}

const exited = (r: RunningService) =>
  new Promise<number | null>((resolve) => {
    if (r.proc.exitCode !== null) return resolve(r.proc.exitCode);
    r.proc.once('exit', (code) => resolve(code));
  });

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('error', () => resolve(true));
    s.once('connect', () => (s.destroy(), resolve(false)));
  });

test('SIGTERM: /ready 503 during the delay, then no new connections; the open stream finishes; exit 0', async () => {
  const r = await startRouter('slow', { drain_delay_ms: 500, drain_timeout_ms: 20_000 });
  assert.equal((await fetch(`${r.url}/ready`)).status, 200);
  const stream = await openStream(r);
  const exit = exited(r);
  r.proc.kill('SIGTERM');
  const ready = await waitFor('ready says draining', async () => {
    const res = await fetch(`${r.url}/ready`, { headers: { connection: 'close' } });
    return res.status === 503 && ((await res.json()) as { status: string });
  });
  assert.equal(ready.status, 'draining');
  await waitFor('listener closed', () => refused(r.port), 5_000);
  const text = await stream.rest;
  assert.match(text, /t19 /);
  assert.match(text, /data: \[DONE\]/);
  assert.equal(await exit, 0);
});

test('SIGTERM with a stream that never ends: cut at drain_timeout_ms, exit 0', async () => {
  const r = await startRouter('stuck', { drain_timeout_ms: 300 });
  const stream = await openStream(r);
  const exit = exited(r);
  r.proc.kill('SIGTERM');
  assert.equal(await exit, 0);
  const text = await stream.rest;
  assert.doesNotMatch(text, /\[DONE\]/);
  assert.match(r.output(), /drain timed out/);
});

test('--workers 2: SIGTERM to the primary drains the workers; the open stream finishes', async () => {
  const r = await startRouter('slow', { drain_timeout_ms: 20_000 }, ['--workers', '2']);
  const stream = await openStream(r);
  const exit = exited(r);
  r.proc.kill('SIGTERM');
  const text = await stream.rest;
  assert.match(text, /t19 /);
  assert.match(text, /data: \[DONE\]/);
  assert.equal(await exit, 0);
});
