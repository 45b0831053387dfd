// Every service's command line: --help prints the usage (exit 0); a bad option is one clear line plus the
// usage (exit 2), never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runToEnd, LOADTEST_MAIN, ROUTER_MAIN, SIM_MAIN, REPO_ROOT } from '../../test-support/services.ts';
import { join } from 'node:path';

const STACK_MAIN = join(REPO_ROOT, 'stack/src/main.ts');
const programs: Array<[string, string]> = [
  ['llm-router', ROUTER_MAIN],
  ['llm-sim', SIM_MAIN],
  ['loadtest', LOADTEST_MAIN],
  ['stack', STACK_MAIN],
];

for (const [name, main] of programs) {
  test(`${name}: --help and an unknown option`, async () => {
    const help = await runToEnd(main, ['--help'], 20_000);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--\w/, 'the usage lists options');

    const unknown = await runToEnd(main, ['--no-such-option'], 20_000);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, new RegExp(`^${name}: Unknown option '--no-such-option'`));
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('llm-router: a missing value and an invalid --workers are named', async () => {
  const missing = await runToEnd(ROUTER_MAIN, ['--port'], 20_000);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Option '--port <value>' argument missing/);
  const workers = await runToEnd(ROUTER_MAIN, ['--workers', 'zero'], 20_000);
  assert.equal(workers.code, 2);
  assert.match(workers.stderr, /--workers must be a whole number >= 1 \(got 'zero'\)/);
});
