/**
 * `holdWhile(project)`: keep the source's resource (a connection, a test server) subscribed
 * while the Observable projected from its first value runs, and end with that Observable.
 */
import { defer, Observable, type ObservableInput, type OperatorFunction } from 'rxjs';

export function holdWhile<T, R>(project: (value: T) => ObservableInput<R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let innerActive = false;
      const upstream = source.subscribe({
        next: (value) => {
          if (inner) return; // the resource stage emits once
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
        },
        complete: () => {
          if (!innerActive) subscriber.complete();
        },
      });
      return () => {
        inner?.unsubscribe();
        upstream.unsubscribe();
      };
    });
}
