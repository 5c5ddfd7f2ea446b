/**
 * `holdWhile(project)`: keep the source's resource (a connection, a test server) subscribed
 * while the Observable projected from its first value runs, and end with that Observable.
 */
import { defer, Observable, type ObservableInput, type OperatorFunction } from 'rxjs';

/** How {@link holdWhile} treats a source that ends while the projected Observable still runs. */
export interface HoldEnd<T> {
  /**
   * Calls back once the work on the resource has had its chance to report (e.g. when a
   * connection's channels have all closed); returns a cancel function. Without it, one turn of
   * the event loop.
   */
  readonly settle?: (value: T, done: () => void) => () => void;
  /**
   * The error for a source that completed while the projected work was unfinished: the
   * resource is gone, so the work cannot have succeeded (a transfer cut by a clean TCP FIN is
   * a failure, never a completion).
   */
  readonly lost: (value: T) => Error;
}

/**
 * @param end - what happens when the source ends first: the projected Observable gets the
 *   chance to end by itself (its channels report `ConnectionLostError` after every byte
 *   received); if it has not once `settle` calls back, the pipeline errors with the source's
 *   error or, for a completion, with `lost(value)`. Without `end`, the projected Observable
 *   alone decides (for resources that outlive it, such as a test server).
 */
export function holdWhile<T, R>(project: (value: T) => ObservableInput<R>, end?: HoldEnd<T>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let innerActive = false;
      let held: T | undefined;
      let cancelSettle: (() => void) | undefined;
      let settleTimer: NodeJS.Immediate | undefined;
      const endLater = (error: (value: T) => unknown): void => {
        if (!end || held === undefined) return;
        const value = held;
        const fail = (): void => {
          if (!innerActive) return;
          innerActive = false;
          subscriber.error(error(value));
        };
        // Let the channels report first (ssh2 closes them right after the connection).
        settleTimer = setImmediate(() => {
          if (end.settle) cancelSettle = end.settle(value, fail);
          else fail();
        });
      };
      const upstream = source.subscribe({
        next: (value) => {
          if (inner) return; // the resource stage emits once
          held = value;
          innerActive = true;
          inner = defer(() => project(value)).subscribe({
            next: (v) => subscriber.next(v),
            error: (err: unknown) => {
              innerActive = false;
              subscriber.error(err);
            },
            complete: () => {
              innerActive = false;
              subscriber.complete();
            },
          });
        },
        // While the inner Observable runs it decides the outcome first: a lost connection
        // reaches a running channel as ConnectionLostError, after every byte received before
        // the loss. Work still unfinished after that fails; it never completes.
        error: (err: unknown) => {
          if (!innerActive) subscriber.error(err);
          else endLater(() => err);
        },
        complete: () => {
          if (!innerActive) subscriber.complete();
          else endLater((value) => end?.lost(value));
        },
      });
      return () => {
        if (settleTimer) clearImmediate(settleTimer);
        cancelSettle?.();
        inner?.unsubscribe();
        upstream.unsubscribe();
      };
    });
}
