/**
 * A counting semaphore as an Observable: subscribing waits for a slot, the emitted release
 * function gives it back. Unsubscribing while still queued leaves the queue.
 *
 * Why not `mergeMap(…, limit)`, as fan-out and tree transfers use: those limit one source of
 * work that a single subscription drives. A connection's channel limit is shared by channels
 * that independent subscribers open at any time (pipelines, handles, forwardings), each with its
 * own lifetime and cancel; funnelling them through one merging subscription would tie their
 * teardown and errors together. `acquire()` keeps each channel's own subscription and is cold
 * and cancellable like any other Observable.
 */
import { Observable } from 'rxjs';
import { checkNumber, POSITIVE_INTEGER } from './check.js';

/** A release function; calling it more than once is harmless. */
export type Release = () => void;

export class Semaphore {
  #available: number;
  readonly #queue: Array<() => void> = [];
  readonly #idle = new Set<() => void>();

  constructor(readonly limit: number) {
    checkNumber('a limit', limit, POSITIVE_INTEGER);
    this.#available = limit;
  }

  /** Slots in use. */
  get inUse(): number {
    return this.limit - this.#available;
  }

  /** Waiters in the queue. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Emits a release function once a slot is free, then completes. */
  acquire(): Observable<Release> {
    return new Observable<Release>((subscriber) => {
      const grant = (): void => {
        let released = false;
        subscriber.next(() => {
          if (released) return;
          released = true;
          this.#release();
        });
        subscriber.complete();
      };
      if (this.#available > 0) {
        this.#available--;
        grant();
        return undefined;
      }
      const waiter = (): void => grant();
      this.#queue.push(waiter);
      return () => {
        const at = this.#queue.indexOf(waiter);
        if (at !== -1) this.#queue.splice(at, 1);
      };
    });
  }

  /** Calls `listener` (once) when no slot is in use: now, or at the next release that empties it. */
  whenIdle(listener: () => void): () => void {
    if (this.inUse === 0) {
      listener();
      return () => undefined;
    }
    this.#idle.add(listener);
    return () => this.#idle.delete(listener);
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#available++;
    if (this.inUse === 0 && this.#idle.size > 0) {
      // After the releasing code has finished (a channel reports its own outcome first).
      queueMicrotask(() => {
        if (this.inUse !== 0) return;
        const listeners = [...this.#idle];
        this.#idle.clear();
        for (const l of listeners) l();
      });
    }
  }
}
