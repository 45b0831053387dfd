import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
      .once('error', rej)
      .listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
  });
}

/** Environment where every ${X_PORT:-n} of the compose file is a free port instead of its default. */
export async function freePortEnv(
  composeFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NodeJS.ProcessEnv> {
  const out = { ...env };
  for (const [, name] of readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z_]+_PORT):-\d+\}/g))
    out[name!] = String(await freePort());
  return out;
}
