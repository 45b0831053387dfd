// What a `stack up` started, so `stack down` stops exactly that. Kept in the project's .state/ folder.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StartedService {
  name: string;
  url?: string;
  /** Native backend: process id; docker backend: container id. */
  pid?: number;
  containerId?: string;
  logFile?: string;
}
export interface StackState {
  backend: 'docker' | 'native';
  project: string;
  startedAt: string;
  services: StartedService[];
  skipped: Array<{ name: string; reason: string }>;
}

export class StateStore {
  constructor(readonly dir: string) {}
  private get file() {
    return join(this.dir, 'stack.json');
  }
  read(): StackState | undefined {
    return existsSync(this.file) ? (JSON.parse(readFileSync(this.file, 'utf8')) as StackState) : undefined;
  }
  write(state: StackState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.file, JSON.stringify(state, null, 2));
  }
  clear(): void {
    rmSync(this.file, { force: true });
  }
}
