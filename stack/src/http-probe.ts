import { connect } from 'node:net';

/**
 * Does `url` answer HTTP within `timeoutMs`? The timeout is a normal (ref'd) timer on purpose: with
 * AbortSignal.timeout (unref'd), a fetch stuck on a socket that a port proxy accepted but nobody
 * serves leaves Node's event loop empty, and the process exits 0 in the middle of the wait.
 */
export async function answersHttp(url: string, opts: { timeoutMs?: number; okOnly?: boolean } = {}): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs ?? 1000);
  try {
    const res = await fetch(url, { signal: abort.signal });
    await res.body?.cancel();
    return opts.okOnly ? res.ok : true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Does a Redis server answer PING on 127.0.0.1:port? */
export function answersRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}
