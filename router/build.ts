// Production build: the router as one ES module (router/dist/main.mjs) run by plain `node`, without the
// TypeScript loader. Our workspace packages are bundled in; npm packages stay in node_modules. Saves ~30 MB
// of resident memory (tsx's loader thread) and start-up time. Usage: make build
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROUTER_NODE_FLAGS } from './node-flags.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const outdir = here('./dist');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [here('./src/main.ts')],
  outfile: `${outdir}/main.mjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  banner: { js: '// Built by router/build.ts from router/src: edit the TypeScript, then `make build`.' },
  plugins: [
    {
      name: 'npm-packages-external',
      setup(b) {
        // Bare imports other than our own @llm-router/* workspaces resolve from node_modules at run time.
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@llm-router/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
  logLevel: 'warning',
});
// The entry's hashbang asks for tsx; the build needs only node, with the router's flags when run as ./main.mjs.
const main = `${outdir}/main.mjs`;
writeFileSync(
  main,
  readFileSync(main, 'utf8').replace(/^#!.*\n/, `#!/usr/bin/env -S node ${ROUTER_NODE_FLAGS.join(' ')}\n`),
);
// The classifiers read their models next to their module: ./model/*.json.
mkdirSync(`${outdir}/model`, { recursive: true });
for (const model of ['task-model.json', 'strong-need-model.json'])
  copyFileSync(here(`./src/classify/model/${model}`), `${outdir}/model/${model}`);
console.log(`built ${outdir}/main.mjs`);
