// A cancellation flag with an 'abort' event. undici accepts an EventEmitter as a request's `signal`, and
// constructing one is far cheaper than an AbortController: two controllers per request (client + attempt)
// plus their listeners were ~7% of the router's CPU in profiles.
import { EventEmitter } from 'node:events';

export class AbortEmitter extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
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
      this.once('abort', done);
    });
  }
}
