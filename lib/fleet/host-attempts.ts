/**
 * One host's attempts in a fan-out: its pipeline, retried (with jittered exponential backoff)
 * only when it failed before emitting anything with an error that happens before
 * authentication; the per-host timeout covers the retries. The host's run hears every value and
 * is finished with the outcome; the Observable completes (never errors) once the result is out.
 */
import { catchError, defer, EMPTY, from, ignoreElements, retry, tap, throwError, timer, type Observable, type ObservableInput } from 'rxjs';
import { ExitStatusError } from '../errors.js';
import { within } from '../util/deadline.js';
import type { LabelledTarget } from '../config/target.js';
import type { HostRun } from './host-run.js';
import { retriable, statusOf } from './host-status.js';

/** How many times, how far apart, and for how long in all. */
export interface AttemptLimits {
  readonly retries: number;
  readonly retryDelay: number;
  /** The per-host timeout in ms (0: none). */
  readonly timeout: number;
}

/** Runs `project(target)` into `run` as the limits allow. */
export function hostAttempts<T>(target: LabelledTarget, project: (target: LabelledTarget) => ObservableInput<T>, run: HostRun<T>, { retries, retryDelay, timeout }: AttemptLimits): Observable<never> {
  let emitted = false;
  const attempts$ = defer(() => {
    run.attempts++;
    emitted = false;
    return from(project(target));
  }).pipe(
    tap((value) => {
      emitted = true;
      run.observe(value);
    }),
    retry({
      count: retries,
      delay: (err: unknown, count: number) =>
        !emitted && retriable(err) ? timer(retryDelay * 2 ** (count - 1) * (0.5 + Math.random())) : throwError(() => err),
    }),
    ignoreElements(),
  );
  const limited$ =
    timeout > 0
      ? attempts$.pipe(within(timeout, { host: target.host, port: target.port ?? 22 }))
      : attempts$;
  return limited$.pipe(
    tap({
      complete: () => {
        const failedExit = run.exit.exitCode !== null && run.exit.exitCode !== 0;
        run.finish(failedExit || run.exit.signal !== null ? 'failed' : 'ok', undefined);
      },
      error: (err: unknown) => {
        if (err instanceof ExitStatusError) run.exit = { exitCode: err.exitCode, signal: err.signal };
        run.finish(statusOf(err), err);
      },
    }),
    catchError(() => EMPTY),
  );
}
