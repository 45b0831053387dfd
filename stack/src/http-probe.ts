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
