// One error catalog: every error the router answers comes from it (status, type, default param), but the
// upstream's own errors passed through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ERROR_CATALOG } from '../src/http/error-catalog.ts';
import { apiError } from '../src/http/errors.ts';
import { REPO_ROOT } from '../../test-support/services.ts';

test('apiError takes status, type and the default param from the catalog; the call site may name its param', () => {
  const e = apiError('model_not_found', 'no such model');
  assert.deepEqual([e.status, e.type, e.code, e.param], [404, 'invalid_request_error', 'model_not_found', 'model']);
  assert.equal(apiError('model_not_found', 'x', { param: 'nim-llm-router.model' }).param, 'nim-llm-router.model');
  assert.equal(apiError('server_busy', 'x').param, null);
  assert.deepEqual(apiError('rate_limit_exceeded', 'x', { headers: { 'retry-after': '2' } }).headers, {
    'retry-after': '2',
  });
  assert.deepEqual(apiError('bad_request', 'Malformed').toJSON(), {
    error: { message: 'Malformed', type: 'invalid_request_error', param: null, code: 'bad_request' },
  });
});

test('every catalog entry is a client (4xx) or server (5xx) error; 5xx are never invalid_request_error', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
    assert.ok(spec.status >= 400 && spec.status < 600, code);
    if (spec.status >= 500) assert.notEqual(spec.type, 'invalid_request_error', code);
  }
});

test('no error is made outside the catalog but the upstream pass-through', () => {
  const hits = execFileSync('grep', ['-rn', 'new ApiError(', 'router/src'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .trim()
    .split('\n');
  assert.deepEqual(
    hits.map((h) => h.split(':')[0]).sort(),
    ['router/src/http/errors.ts', 'router/src/http/upstream-errors.ts'],
    hits.join('\n'),
  );
});
