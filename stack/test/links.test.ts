// The launcher's links and log formatting, in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { alertmanagerHasUi, graphUrl, prometheusUiPrefix } from '../src/links.ts';
import { readableLog } from '../src/log-format.ts';

async function serve(routes: Record<string, [number, string]>) {
  const server = createServer((req, res) => {
    const [status, body] = routes[req.url!.split('?')[0]!] ?? [404, 'not found'];
    res.writeHead(status).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

test('the Prometheus UI prefix is found by asking: /classic where only that answers, none where /alerts does', async () => {
  const debian = await serve({ '/classic/alerts': [200, 'ok'] });
  const upstream = await serve({ '/alerts': [200, 'ok'], '/classic/alerts': [200, 'ok'] });
  try {
    assert.equal(await prometheusUiPrefix(debian.url), '/classic');
    assert.equal(await prometheusUiPrefix(upstream.url), '');
  } finally {
    debian.close();
    upstream.close();
  }
});

test("Alertmanager without a web application (Debian's build) is told apart", async () => {
  const debian = await serve({
    '/': [200, 'The Debian package of the alertmanager does not include a web\n        application.'],
  });
  const upstream = await serve({ '/': [200, '<html>Alertmanager</html>'] });
  try {
    assert.equal(await alertmanagerHasUi(debian.url), false);
    assert.equal(await alertmanagerHasUi(upstream.url), true);
  } finally {
    debian.close();
    upstream.close();
  }
});

test('the graph link opens several panels on the Graph tab over 15 minutes', () => {
  const u = new URL(graphUrl('http://127.0.0.1:9090', '/classic', ['up', 'sum(x)']));
  assert.equal(u.pathname, '/classic/graph');
  assert.equal(u.searchParams.get('g0.expr'), 'up');
  assert.equal(u.searchParams.get('g1.expr'), 'sum(x)');
  assert.equal(u.searchParams.get('g1.tab'), '0');
  assert.equal(u.searchParams.get('g0.range_input'), '15m');
});

test('logs: pino lines get a readable time, level and message; other lines pass as they are', () => {
  const time = new Date(2026, 11, 7, 9, 30, 5, 123).getTime(); // local time, as printed
  const out = readableLog(
    `${JSON.stringify({ level: 40, time, pid: 7, hostname: 'h', msg: 'upstream failed', model: 'm' })}\nts=2026 level=info msg="Server is ready"\n`,
  ).split('\n');
  assert.equal(out[0], '[2026-12-07 09:30:05.123] WARN: upstream failed {"model":"m"}');
  assert.equal(out[1], 'ts=2026 level=info msg="Server is ready"');
});
