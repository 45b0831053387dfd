// The production router's Node flags are written in three places that cannot import router/node-flags.ts
// (the image's ENTRYPOINT, `make router-prod`, the build's hashbang): each must carry exactly those flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROUTER_NODE_FLAGS } from '../node-flags.ts';
import { REPO_ROOT } from '../../test-support/services.ts';

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

test('docker/Dockerfile starts the router build with its Node flags', () => {
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(read('docker/Dockerfile').split('AS router')[1] ?? '')?.[1];
  assert.ok(entry, 'the router stage has an exec-form ENTRYPOINT');
  assert.deepEqual(JSON.parse(entry), ['node', ...ROUTER_NODE_FLAGS, 'router/dist/main.mjs']);
});

test('make router-prod runs the build with the same flags', () => {
  const r = spawnSync('make', ['-n', 'router-prod', '-o', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes('router/dist/main.mjs'));
  assert.ok(line, r.stdout);
  assert.equal(line.slice(0, line.indexOf(' router/dist/main.mjs')), ['node', ...ROUTER_NODE_FLAGS].join(' '));
});

test('the build is executable on its own with the same flags (hashbang)', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'router/build.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const first = read('router/dist/main.mjs').split('\n', 1)[0];
  assert.equal(first, `#!/usr/bin/env -S node ${ROUTER_NODE_FLAGS.join(' ')}`);
});
