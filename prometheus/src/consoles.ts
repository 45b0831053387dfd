// Prometheus console templates (--web.console.templates): the stack's dashboards without Grafana and the runbooks
// page, in prometheus/consoles. They use the console library that comes with the Prometheus binary (prom.lib: its
// own paths to the JavaScript and CSS it serves, which differ between Debian's build and upstream's).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLES_DIR = fileURLToPath(new URL('../consoles', import.meta.url));

/** Where the local Prometheus's prom.lib lives: upstream tarballs and images, Debian's package (examples). */
const LIBRARY_CANDIDATES = [
  '/usr/share/prometheus/console_libraries',
  '/etc/prometheus/console_libraries',
  '/usr/share/doc/prometheus/examples/console_libraries',
];

export function consoleLibrariesDir(candidates = LIBRARY_CANDIDATES): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, 'prom.lib')));
}

/** The flags that serve prometheus/consoles (and the runbooks page) from a local Prometheus. */
export function consoleFlags(): string[] {
  const libraries = consoleLibrariesDir();
  return [`--web.console.templates=${CONSOLES_DIR}`, ...(libraries ? [`--web.console.libraries=${libraries}`] : [])];
}
