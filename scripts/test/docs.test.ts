// The README stays a newcomer's document, and the docs it links to exist and match the code they describe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../test-support/services.ts';

const docs = readdirSync(join(REPO_ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => join('docs', f));
const pages = ['README.md', ...docs, 'docs/routing/README.md'];

test('the README is a few hundred lines (the deep material lives in docs/)', () => {
  const lines = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n').length;
  assert.ok(lines <= 350, `README.md has ${lines} lines`);
});

test('every relative link in the README and docs/ points at a file that exists', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(REPO_ROOT, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // http(s), mailto
      if (!existsSync(join(REPO_ROOT, dirname(page), target!))) broken.push(`${page} -> ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the architecture page names only files that exist', () => {
  const text = readFileSync(join(REPO_ROOT, 'docs/architecture.md'), 'utf8');
  const request = text.slice(text.indexOf('## A chat request'), text.indexOf('## Layout'));
  const named = [...request.matchAll(/`([\w/-]+\.ts)(?::[^`]*)?`/g)].map((m) => m[1]!);
  assert.ok(named.length > 20, `${named.length} files named`);
  // Paths are under router/src, or from the repository root when they name another workspace (common/src/...).
  const path = (f: string) => (/^[\w-]+\/src\//.test(f) ? join(REPO_ROOT, f) : join(REPO_ROOT, 'router/src', f));
  const missing = named.filter((f) => !existsSync(path(f)));
  assert.deepEqual(missing, [], 'files the request path names');
});
