// The router's log (router/src/log.ts) in a child process writing to a pipe, with the periodic flush set to an
// hour so that only the mechanisms under test can write: info lines wait in the batch, a warning takes them out
// with it, in order; exit writes what is left; the router log still redacts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { REPO_ROOT, waitFor } from '../../test-support/services.ts';

const LINE = JSON.stringify({
  request_id: 'r-1',
  endpoint: 'chat',
  policy: undefined,
  class: undefined,
  model: 'm',
  deployment: 'd',
  status: 200,
  ms: 3,
});

/** Runs `body` (with `log` and `requests` from createLogs in scope) in a child; its stdout so far, and its exit. */
function child(body: string) {
  const script = `import { createLogs } from './router/src/log.ts';
const { log, requests } = createLogs('info', 3_600_000);
${body}`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const messages = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; api_key?: string });
  return { proc, messages, exited };
}

test('a warning writes the batch of info lines waiting before it, in order, while the process runs', async (t) => {
  const c = child(`log.info('first'); requests.write(${LINE}); log.warn('a warning'); setInterval(() => {}, 1000);`);
  t.after(() => c.proc.kill());
  const lines = await waitFor('the warning on stdout', () => {
    const m = c.messages();
    return m.some((l) => l.msg === 'a warning') && m;
  });
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['first', 'request', 'a warning'],
  );
});

test("warnings in a row are all written while the process runs, the next ones during the first one's write", async (t) => {
  const c = child(`log.warn('w1'); log.warn('w2'); setImmediate(() => log.error('w3')); setInterval(() => {}, 1000);`);
  t.after(() => c.proc.kill());
  const lines = await waitFor('every warning on stdout', () => {
    const m = c.messages();
    return m.some((l) => l.msg === 'w3') && m.some((l) => l.msg === 'w2') && m;
  });
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['w1', 'w2', 'w3'],
  );
});

test('info lines still in the batch are written at exit', async () => {
  const c = child(`log.info('one'); requests.write(${LINE}); process.exit(0);`);
  assert.equal(await c.exited, 0);
  assert.deepEqual(
    c.messages().map((l) => l.msg),
    ['one', 'request'],
  );
});

test('request lines keep their order around pino lines across several batches', async (t) => {
  const c = child(`for (let i = 0; i < 60; i++) {
  requests.write({ ...${LINE}, request_id: 'r' + i });
  if (i === 30) log.info('middle');
}
log.warn('end'); setInterval(() => {}, 1000);`);
  t.after(() => c.proc.kill());
  const lines = await waitFor('the warning on stdout', () => {
    const m = c.messages();
    return m.some((l) => l.msg === 'end') && m;
  });
  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`);
  assert.deepEqual(
    lines.map((l) => (l.msg === 'request' ? (l as unknown as { request_id: string }).request_id : l.msg)),
    [...ids(0, 31), 'middle', ...ids(31, 60), 'end'],
  );
});

test('request lines still in the batch are written when the process dies of an uncaught exception', async () => {
  const c = child(`requests.write({ ...${LINE}, request_id: 'a-é' }); requests.write({ ...${LINE}, model: 'm/☃' });
throw new Error('boom');`);
  assert.equal(await c.exited, 1);
  const lines = c.messages() as unknown as Array<{ request_id: string; model: string }>;
  assert.deepEqual(
    lines.map((l) => [l.request_id, l.model]),
    [
      ['a-é', 'm'],
      ['r-1', 'm/☃'],
    ],
  );
});

test('the router log still redacts api_key fields', async () => {
  const c = child(`log.info({ deployment: { api_key: 'sk-secret-1' } }, 'config'); process.exit(0);`);
  await c.exited;
  const [line] = c.messages();
  assert.ok(line && !JSON.stringify(line).includes('sk-secret-1'));
});

test('the request line is the line pino would write for the same fields (order, escaping, undefined left out)', async () => {
  const fields = {
    request_id: 'id "quoted" \\ é',
    endpoint: 'chat',
    policy: 'p\n1',
    class: undefined,
    model: 'm/☃',
    deployment: undefined,
    status: 429,
    ms: 12,
  };
  const c = child(`import { pino } from 'pino';
const f = ${JSON.stringify(fields)};
const p = pino({ level: 'info' }, pino.destination({ dest: 1, sync: true }));
p.info(f, 'request');
requests.write(f);
process.exit(0);`);
  await c.exited;
  const [viaPino, viaWriter] = c.messages() as Array<Record<string, unknown>>;
  assert.ok(viaPino && viaWriter);
  // Same keys in the same order, same values; the times are a moment apart.
  assert.deepEqual(Object.keys(viaWriter), Object.keys(viaPino));
  assert.deepEqual({ ...viaWriter, time: 0 }, { ...viaPino, time: 0 });
  assert.ok(Math.abs((viaWriter.time as number) - (viaPino.time as number)) < 5_000);
});

test('the request line is not written below info', async () => {
  const script = `import { createLogs } from './router/src/log.ts';
const { log, requests } = createLogs('warn', 3_600_000);
requests.write(${LINE}); log.warn('only this'); process.exit(0);`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => proc.once('exit', resolve));
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string });
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['only this'],
  );
});
