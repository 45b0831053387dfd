// A cancellation flag with an 'abort' event, two per request (the client's, and each attempt's). undici takes
// any object with on/removeListener as a request's `signal`. This is a listener list and a flag, nothing more:
// AbortController + AbortSignal.any showed in CPU profiles of the request path, and a full EventEmitter per
// signal still showed (construction, once-wrappers).
type Listener = () => void;

export class AbortEmitter {
  aborted = false;
  private listeners: Listener[] | undefined;

  /** `event` is always 'abort' (the name is kept so undici and EventEmitter-style callers work unchanged). */
  on(_event: 'abort', listener: Listener): this {
    (this.listeners ??= []).push(listener);
    return this;
  }

  /** Same as on(): 'abort' fires at most once. */
  once(event: 'abort', listener: Listener): this {
    return this.on(event, listener);
  }

  off(_event: 'abort', listener: Listener): this {
    const ls = this.listeners;
    const i = ls ? ls.lastIndexOf(listener) : -1;
    if (i !== -1) ls!.splice(i, 1);
    return this;
  }

  removeListener(event: 'abort', listener: Listener): this {
    return this.off(event, listener);
  }

  listenerCount(_event: 'abort'): number {
    return this.listeners?.length ?? 0;
  }

  /** Sets the flag and calls each listener once, in order (listeners removed meanwhile still run, as with emit). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const ls = this.listeners;
    this.listeners = undefined;
    if (ls) for (const listener of ls) listener();
  }

  /** Wait `ms`, or less if aborted meanwhile (never rejects). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.off('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.on('abort', done);
    });
  }
}
