/** Observables as async iterables and as promises, with an AbortSignal (for transfers). */
import { type Observable } from 'rxjs';
import { DemandQueue } from '../util/demand-queue.js';

/**
 * An Observable's chunks as an async iterable: subscribed when first iterated, unsubscribed when
 * the loop ends early or `signal` aborts (what it pushes ahead of the reader waits in memory).
 */
export function observableChunks(source: Observable<Uint8Array>, signal: AbortSignal): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      const queue = new DemandQueue<Uint8Array>({ stop: () => subscription.unsubscribe() });
      const subscription = source.subscribe({ next: (chunk) => queue.push(chunk), error: (error: unknown) => queue.fail(error), complete: () => queue.end() });
      signal.addEventListener('abort', () => void queue.return(), { once: true });
      return queue;
    },
  };
}

/** Runs an Observable to its end; an abort unsubscribes it and rejects. */
export function untilDone(work: Observable<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      subscription.unsubscribe();
      reject(new Error('cancelled'));
    };
    const subscription = work.subscribe({
      error: (err: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(err);
      },
      complete: () => {
        signal.removeEventListener('abort', stop);
        resolve();
      },
    });
    if (signal.aborted) stop();
    else if (!subscription.closed) signal.addEventListener('abort', stop, { once: true });
  });
}
