/**
 * `holdWhile(project)`: keep the source's resource (a connection, a test server) subscribed
 * while the Observable projected from its first value runs, and end with that Observable.
 */
import { defer, Observable, type ObservableInput, type OperatorFunction } from 'rxjs';

/**
 * @param settle - when the source ends while the projected Observable still runs, the source's
 *   end is passed on once `settle(value)` calls back (e.g. when the connection's channels have
 *   all closed and so reported their own outcome); without it the projected Observable decides.
 */
export function holdWhile<T, R>(
  project: (value: T) => ObservableInput<R>,
  settle?: (value: T, done: () => void) => () => void,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let innerActive = false;
      let held: T | undefined;
      let cancelSettle: (() => void) | undefined;
      let settleTimer: NodeJS.Immediate | undefined;
      const endLater = (end: () => void): void => {
        if (!settle || held === undefined) return;
        const value = held;
        // Let the channels report first (ssh2 closes them right after the connection).
        settleTimer = setImmediate(() => {
          cancelSettle = settle(value, () => {
            if (innerActive) {
              innerActive = false;
              end();
            }
          });
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
        // While the inner Observable runs it decides the outcome: a lost connection reaches a
        // running channel as ConnectionLostError, after every byte received before the loss.
        error: (err: unknown) => {
          if (!innerActive) subscriber.error(err);
          else endLater(() => subscriber.error(err));
        },
        complete: () => {
          if (!innerActive) subscriber.complete();
          else endLater(() => subscriber.complete());
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
