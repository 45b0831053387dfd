// Graceful drain on SIGTERM: /ready turns 503, the listener closes after drain_delay_ms, a stream in progress
// finishes, then the process exits 0; past drain_timeout_ms what is left is cut. Also with --workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { completion, startFakeUpstream, type FakeUpstream } from '../../test-support/fake-upstream.ts';
import { ROUTER_MAIN, startService, tempDir, waitFor, type RunningService } from '../../test-support/services.ts';

const tmp = tempDir();
let upstream: FakeUpstream;
const started: RunningService[] = [];

before(async () => {
  // "slow": 20 chunks 50 ms apart then [DONE]; "stuck": one chunk, then nothing.
  upstream = await startFakeUpstream(async (req, res) => {
    if (req.body.stream !== true)
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(completion('x'));
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

test('SIGTERM with a stream that never ends: cut at drain_timeout_ms with an error event, exit 0', async () => {
  const r = await startRouter('stuck', { drain_timeout_ms: 300 });
  const stream = await openStream(r);
  const exit = exited(r);
  r.proc.kill('SIGTERM');
  assert.equal(await exit, 0);
  const text = await stream.rest;
  assert.doesNotMatch(text, /\[DONE\]/);
  // Ended like every other mid-stream failure: an error event, then the end of the body (not a bare cut).
  assert.match(
    text,
    /data: \{"error":\{"message":"The router is shutting down[^\n]*"code":"server_shutting_down"\}\}\n\n$/,
  );
  assert.doesNotMatch(text, /<cut>/);
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

/** One chat request on a new connection: its status, or how it failed (a reset, a refusal, a hang). */
function oneRequest(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/chat/completions',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', (e) => resolve(`response ${(e as NodeJS.ErrnoException).code}`));
      },
    );
    req.setTimeout(5_000, () => (req.destroy(), resolve('hang')));
    req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    req.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
  });
}

test('--workers 2, drain_delay_ms > 0: requests sent as SIGTERM lands, and until /ready says 503, are all answered', async () => {
  const r = await startRouter('slow', { drain_delay_ms: 800, drain_timeout_ms: 10_000 }, ['--workers', '2']);
  const exit = exited(r);
  // Load like a balancer's: new connections until the instance's /ready turns 503, then none.
  let ready = true;
  const results: string[] = [];
  const loops = Array.from({ length: 6 }, async () => {
    while (ready) results.push(await oneRequest(r.port));
  });
  await new Promise((res) => setTimeout(res, 300));
  const readyStatus = () =>
    new Promise<number>((resolve) =>
      request({ host: '127.0.0.1', port: r.port, path: '/ready', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', () => resolve(0))
        .end(),
    );
  r.proc.kill('SIGTERM');
  // A burst in the first milliseconds after the signal: each is answered, none hangs until its worker exits.
  const burst = Promise.all(Array.from({ length: 10 }, () => oneRequest(r.port)));
  await waitFor('/ready says 503', async () => (await readyStatus()) === 503, 5_000, 20);
  ready = false;
  await Promise.all(loops);
  const sent = [...(await burst), ...results];
  assert.deepEqual(
    sent.filter((x) => x !== '200'),
    [],
    `every request answered: ${sent.length} sent`,
  );
  assert.ok(results.length > 0);
  assert.equal(await exit, 0);
});

test('a connection accepted just before the listener closes still gets its request answered (not reset as idle)', async () => {
  const r = await startRouter('slow', { drain_delay_ms: 300, drain_timeout_ms: 10_000 });
  const exit = exited(r);
  r.proc.kill('SIGTERM');
  await new Promise((res) => setTimeout(res, 200));
  // Connected before the close, its request sent after it (a slow client, or one behind a busy proxy).
  const socket = connect(r.port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  const ended = new Promise<string>((res) => {
    socket.on('close', () => res('closed'));
    socket.on('error', (e) => res((e as NodeJS.ErrnoException).code ?? 'error'));
  });
  await new Promise<void>((res) => socket.once('connect', () => res()));
  await new Promise((res) => setTimeout(res, 300));
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
  assert.equal(await ended, 'closed');
  assert.match(answer, /^HTTP\/1\.1 200 /, answer || '(nothing: the connection was reset)');
  assert.match(answer, /connection: close/i, 'and told the connection closes (the router is draining)');
  assert.equal(await exit, 0);
});
