// What one client can hold on the router is bounded: idle connections, open connections, request body bytes
// in flight; and the CLI refuses a busy port or a bad --port in one line, with or without workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { ROUTER_MAIN, routerYaml, runToEnd, waitFor } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const stack = simAndRouter({
  simModels: [
    { id: 'slow', ttft_ms: { mean: 1500 }, tokens_per_second: { mean: 1000 }, output_tokens: { mean: 3 } },
    { id: 'fast', ttft_ms: { mean: 1 }, output_tokens: { mean: 3 }, context_window: 10_000_000 },
  ],
  timeScale: 1,
  routerYaml: (simUrl) =>
    `server: { idle_timeout_ms: 500, max_connections: 40, max_body_bytes: 2000000, max_body_bytes_in_flight: 1000000 }\n${routerYaml(simUrl, { slow: { deployments: [{ model: 'slow' }] }, fast: { deployments: [{ model: 'fast' }] } })}`,
});
/** The router's config file (the CLI tests start more routers from it). */
const config = () => join(stack.tmp.dir, 'router.yaml');

const openSocket = () =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect(stack.router.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
const closedWithin = (s: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => (clearTimeout(t), resolve(true)));
  });
const chat = (model: string, body?: string) =>
  fetch(`${stack.router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body ?? JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(15_000),
  });

test('a connection that never sends a request is closed after idle_timeout_ms; one waiting on a slow model is not', async () => {
  const idle = await openSocket();
  idle.on('error', () => {});
  const slow = chat('slow'); // 1.5 s of silence on its connection, three idle timeouts
  assert.equal(await closedWithin(idle, 3000), true, 'the silent connection was closed');
  assert.equal((await slow).status, 200, 'the slow request was answered');
});

test('open connections are capped at server.max_connections', async () => {
  const sockets = await Promise.all(Array.from({ length: 50 }, () => openSocket().catch(() => null)));
  const live = sockets.filter((s): s is Socket => s !== null);
  for (const s of live) s.on('error', () => {});
  const closed = await Promise.all(live.map((s) => closedWithin(s, 300)));
  assert.ok(
    live.length - closed.filter(Boolean).length <= 40,
    `${live.length - closed.filter(Boolean).length} connections held`,
  );
  assert.ok(closed.filter(Boolean).length >= 10, 'the ones over the cap were refused at once');
  for (const s of live) s.destroy();
  await waitFor(
    'a real request is served again',
    async () => (await chat('fast').catch(() => null))?.status === 200,
    5000,
    100,
  );
});

test('request body bytes held at once are capped: a fast 503 with retry-after past it, served again once released', async () => {
  const big = JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'x'.repeat(700_000) }] });
  // Request A sends most of its body, then waits.
  const a = request({
    host: '127.0.0.1',
    port: stack.router.port,
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) },
  });
  const aDone = new Promise<number>((resolve, reject) =>
    a
      .once('response', (r) => {
        let text = '';
        r.on('data', (d: Buffer) => (text += d.toString())).on(
          'end',
          () => (r.statusCode !== 200 && console.error(text), resolve(r.statusCode!)),
        );
      })
      .once('error', reject),
  );
  a.write(big.slice(0, 690_000));
  await new Promise((r) => setTimeout(r, 300));
  const b = await chat('fast', big);
  assert.equal(b.status, 503);
  assert.equal(((await b.json()) as { error: { code: string } }).error.code, 'server_busy');
  assert.equal(b.headers.get('retry-after'), '1');
  a.end(big.slice(690_000));
  assert.equal(await aDone, 200);
  assert.equal((await chat('fast', big)).status, 200, 'the budget was released');
});

test('--port abc and --port 70000 are usage errors (exit 2, one line, no stack trace)', async () => {
  for (const port of ['abc', '70000']) {
    const r = await runToEnd(ROUTER_MAIN, ['--config', config(), '--port', port], 30_000);
    assert.equal(r.code, 2, port);
    assert.match(r.stderr, /--port must be a port number from 0 to 65535/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('a busy port: one line and a non-zero exit, with one process or with workers (no respawn loop)', async () => {
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = String((blocker.address() as { port: number }).port);
  try {
    for (const workers of ['1', '2']) {
      const t0 = Date.now();
      const r = await runToEnd(ROUTER_MAIN, ['--config', config(), '--port', port, '--workers', workers], 30_000);
      assert.equal(r.code, 1, `workers ${workers}: ${r.stderr}`);
      assert.ok(Date.now() - t0 < 20_000);
      const lines = r.stderr.split('\n').filter((l) => l.includes('cannot listen'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /the port is in use by another program/);
      assert.doesNotMatch(r.stderr, /starting a new one/);
    }
  } finally {
    blocker.close();
  }
});
