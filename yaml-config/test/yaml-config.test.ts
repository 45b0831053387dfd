import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, parseYamlConfig } from '../src/index.ts';

const schema = z
  .object({ name: z.string(), port: z.number().int().max(65535), mode: z.enum(['fast', 'slow']).default('fast') })
  .strict();

test('substitutes ${VAR} and ${VAR:-default} inside values', () => {
  const cfg = parseYamlConfig('c.yaml', 'name: "${WHO}-${MISSING:-x}"\nport: 80\n', schema, { env: { WHO: 'me' } });
  assert.deepEqual(cfg, { name: 'me-x', port: 80, mode: 'fast' });
});

test('a secret containing YAML syntax cannot change the document shape', () => {
  const cfg = parseYamlConfig('c.yaml', 'name: ${SECRET}\nport: 1\n', schema, { env: { SECRET: 'a\nport: 99' } });
  assert.equal(cfg.name, 'a\nport: 99');
  assert.equal(cfg.port, 1);
});

test('a missing environment variable names the file, the path and the fix', () => {
  assert.throws(
    () => parseYamlConfig('conf/r.yaml', 'name: ${NOPE}\nport: 1\n', schema, { env: {} }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /conf\/r\.yaml/.test(err.message) &&
      /name: environment variable NOPE is not set\. Fix: export NOPE=/.test(err.message),
  );
});

test('schema errors name the path and a fix, all at once', () => {
  try {
    parseYamlConfig('r.yaml', 'name: 5\nport: 70000\nmode: medium\nextra: 1\n', schema, { env: {} });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const m = err.message;
    assert.match(m, /^Invalid config r\.yaml:/);
    assert.match(m, /name: .*Fix: give a value of type string/);
    assert.match(m, /port: .*Fix: use a value <= 65535/);
    assert.match(m, /mode: .*Fix: use one of: "fast", "slow"/);
    assert.match(m, /Fix: remove or rename "extra"/);
  }
});

test('YAML syntax errors are reported as such', () => {
  assert.throws(
    () => parseYamlConfig('r.yaml', 'name: [unclosed\n', schema, { env: {} }),
    /r\.yaml:\n {2}- YAML syntax/,
  );
});

test('allowMissingEnv substitutes empty strings instead of failing', () => {
  const cfg = parseYamlConfig('c.yaml', 'name: "k=${NOPE}"\nport: 1\n', schema, { env: {}, allowMissingEnv: true });
  assert.equal(cfg.name, 'k=');
});
