// Processes, CPU time and memory of a process tree, from Linux /proc (tests and benchmarks run on Linux).
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux the project targets

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' '); // the name may contain spaces: skip past it
  } catch {
    return undefined;
  }
}

function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(entry));
  }
  return children;
}

/** Direct children of pid (e.g. the cluster workers of a primary). */
export function childPids(pid: number): number[] {
  return childrenByParent().get(pid) ?? [];
}

/** pid and every descendant. */
export function processTree(pid: number): number[] {
  const children = childrenByParent();
  const out: number[] = [];
  const visit = (p: number) => (out.push(p), (children.get(p) ?? []).forEach(visit));
  visit(pid);
  return out;
}

/** User + system CPU seconds used so far by pid and its live descendants. */
export function cpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    const f = statFields(p);
    return f ? sum + (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_SECOND : sum;
  }, 0);
}

/** Resident set size in bytes of pid and its live descendants. */
export function rssBytes(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return sum + (m ? Number(m[1]) * 1024 : 0);
    } catch {
      return sum;
    }
  }, 0);
}
