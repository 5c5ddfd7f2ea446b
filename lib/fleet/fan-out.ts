/**
 * Many hosts at once: `fanOut(targets, project, config)` runs one pipeline per host with
 * bounded concurrency, per-host timeouts, a global deadline and retries, and emits exactly one
 * result per host — plus line-framed live output and progress.
 *
 * @module
 */
import {
  concat,
  defer,
  EMPTY,
  filter,
  from,
  fromEvent,
  map,
  merge,
  mergeMap,
  NEVER,
  Observable,
  of,
  share,
  switchMap,
  take,
  takeUntil,
  tap,
  timer,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import { HostSkippedError, TimeoutError } from '../errors.js';
import { planWaves, startPacer } from './rollout.js';
import { HostRun, type HostRunSink } from './host-run.js';
import { hostAttempts } from './host-attempts.js';
import { fanOutSettings } from './fan-out-settings.js';
export { statusOf } from './host-status.js';
import { FAN_OUT_NAMES, type FanOutConfig, type FanOutEvent, type FanOutProgress, type HostLine, type HostResult, type HostStatus } from './types.js';
import { checkOptions } from '../util/check.js';

export type { FanOutConfig, FanOutEvent, FanOutProgress, HostLine, HostResult, HostStatus, HostTimings } from './types.js';
import { labelOf, parseHostSpec, type FanOutTarget, type LabelledTarget } from '../config/target.js';


/**
 * The Observable of a fan-out run's results, with its live side channels. Subscribing to it,
 * to `events$`, `lines$` or `progress$` joins one shared run (started by the first subscriber,
 * cancelled when the last leaves).
 *
 * @example
 * ```ts
 * import { run } from 'rxssh';
 * import { fanOut } from 'rxssh/fleet';
 *
 * const run$ = fanOut(['web1', 'web2'], (t) => connectTo(t).pipe(run('uptime')));
 * run$.progress$.subscribe((p) => console.log(`${p.done}/${p.total}`));
 * run$.subscribe((r) => console.log(r.host, r.status));
 * ```
 */
export class FanOut<T> extends Observable<HostResult<T>> {
  /** Every event of the run: results, lines and progress, in order. */
  readonly events$: Observable<FanOutEvent<T>>;
  /** Line-framed live output of every host. */
  readonly lines$: Observable<HostLine>;
  /** Progress after every change. */
  readonly progress$: Observable<FanOutProgress>;

  /** Made by `fanOut`, `fanOutInWorkers` and `fanOutOnQueue`, never by users. @internal */
  static override create<T>(events$: Observable<FanOutEvent<T>>): FanOut<T> {
    return new FanOut<T>(events$);
  }

  private constructor(events$: Observable<FanOutEvent<T>>) {
    super((subscriber) => events$.pipe(ofType<FanOutEvent<T>, 'result'>('result')).subscribe(subscriber));
    this.events$ = events$;
    this.lines$ = events$.pipe(ofType<FanOutEvent<T>, 'line'>('line'));
    this.progress$ = events$.pipe(ofType<FanOutEvent<T>, 'progress'>('progress'));
  }
}

/** Keeps the events of one type (narrowed). */
function ofType<E extends { type: string }, K extends E['type']>(type: K): OperatorFunction<E, Extract<E, { type: K }>> {
  return filter((e): e is Extract<E, { type: K }> => e.type === type);
}

/**
 * Runs `project(target)` for every target with bounded concurrency and emits exactly one
 * {@link HostResult} per host; one host's failure never affects another.
 *
 * @remarks
 * - **Results**: `ok` when the host's pipeline completed (and, for `run()` results, exited 0);
 *   `failed` (non-zero exit, signal, other errors), `timeout` (per-host `timeout` or the global
 *   `deadline`), `unreachable`, `auth-failed`, `host-key-rejected`, `cancelled` (`signal`
 *   aborted), `connection-error`, `lost` (in worker threads: the worker died). Results arrive as hosts finish; the run completes after the last one.
 * - **Output**: when the pipeline emits exec chunks (`exec()`) or `run()` results, stdout and
 *   stderr are captured (bounded by `capture`) and split into whole lines per host with their
 *   own UTF-8 decoder, so lines never interleave (`lines$`).
 * - **Retries**: connections dropped before the handshake (sshd `MaxStartups`) are retried with
 *   jittered backoff. Commands on one host share that host's connection limits (`maxChannels`).
 * - **Cancel**: unsubscribing ends every host's pipeline at once (signals remote commands,
 *   closes sockets); nothing is emitted afterwards.
 *
 * @param targets - host specs (`[user@]host[:port]`) or targets.
 * @param project - builds one host's pipeline (usually `connect … authenticate … run`).
 * @param config - concurrency, timeouts, retries, capture, cancel signal.
 * @example
 * ```ts
 * import { connect, verifyHostKey, knownHosts, authenticate, agent, run } from 'rxssh';
 * import { fanOut } from 'rxssh/fleet';
 *
 * const run$ = fanOut(['web1', 'web2', 'deploy@db1:2222'], (t) =>
 *   connect({ host: t.host, port: t.port ?? 22, username: t.username ?? 'ops' }).pipe(
 *     verifyHostKey(knownHosts()),
 *     authenticate(agent()),
 *     run('uptime'),
 *   ), { concurrency: 50, timeout: 30_000 });
 * run$.progress$.subscribe((p) => console.error(`${p.done}/${p.total}`));
 * run$.subscribe((r) => console.log(r.host, r.status, r.stdout.trim()));
 * ```
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: one Observable: the waves, pacing, failure budget, deadline and abort share its counters and its teardown (settings, attempts and statuses are in files of their own).
export function fanOut<T>(
  targets: Iterable<FanOutTarget | string>,
  project: (target: LabelledTarget) => ObservableInput<T>,
  config: FanOutConfig = {},
): FanOut<T> {
  checkOptions('fanOut()', config, FAN_OUT_NAMES);
  const list: LabelledTarget[] = [...targets].map((t) => (typeof t === 'string' ? parseHostSpec(t) : { ...t, label: labelOf(t) }));
  if (typeof project !== 'function') throw new TypeError('fanOut(): project must be a function');
  const { concurrency, timeout, retries, retryDelay, capture, maxLineLength, canary, batch, maxFail } = fanOutSettings(config, list.length);

  // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
  const events$ = new Observable<FanOutEvent<T>>((subscriber) => {
    const total = list.length;
    const handled = new Set<LabelledTarget>();
    let done = 0;
    let ok = 0;
    /** More failures than `maxFail`: no host starts any more. */
    let stopped = false;
    const pace = startPacer(config.rate);
    const running = new Set<HostRun<T>>();
    const progress = (): void => subscriber.next({ type: 'progress', total, done, ok, failed: done - ok, inFlight: running.size });
    const emitResult = (result: Omit<HostResult<T>, 'type'>): void => {
      done++;
      if (result.status === 'ok') ok++;
      else if (result.status !== 'skipped' && done - ok > maxFail) stopped = true;
      subscriber.next({ type: 'result', ...result });
    };
    /** A host that never ran: given up (deadline, abort) or skipped (past the failure budget). */
    const notRun = (target: LabelledTarget, status: HostStatus, cause: unknown): void => {
      handled.add(target);
      const now = Date.now();
      emitResult({
        target, host: target.label, status, value: undefined, exitCode: null, signal: null,
        stdout: '', stderr: '', truncated: false, error: cause, attempts: 0,
        timings: { startedAt: now, endedAt: now, durationMs: 0 },
      });
    };
    const sink: HostRunSink<T> = {
      line: (line) => subscriber.next(line),
      finished: (run, result) => {
        running.delete(run);
        emitResult(result);
        progress();
      },
    };

    /** One host: its run, counted as running until its result is out (host-attempts.ts). */
    const host$ = (target: LabelledTarget): Observable<never> =>
      defer(() => {
        handled.add(target);
        const run = new HostRun<T>(target, { capture, maxLineLength }, sink);
        running.add(run);
        return hostAttempts(target, project, run, { retries, retryDelay, timeout });
      });

    /** The global deadline or the abort signal: every host not finished ends with that status. */
    type GiveUp = { readonly status: 'timeout' | 'cancelled'; readonly cause: unknown };
    const deadline$: Observable<GiveUp> = config.deadline
      ? timer(config.deadline).pipe(map(() => ({ status: 'timeout' as const, cause: new TimeoutError(config.deadline ?? 0, { host: '*', port: 0, phase: 'exec' }) })))
      : NEVER;
    const signal = config.signal;
    const abort$: Observable<unknown> = !signal ? NEVER : signal.aborted ? of(null) : fromEvent(signal, 'abort').pipe(take(1));
    const giveUp$ = merge(deadline$, abort$.pipe(map((): GiveUp => ({ status: 'cancelled', cause: signal?.reason as unknown })))).pipe(
      take(1),
      tap(({ status, cause }) => {
        for (const run of [...running]) run.finish(status, cause);
        const left = list.filter((t) => !handled.has(t));
        for (const target of left) notRun(target, status, cause);
        if (left.length > 0) progress();
      }),
    );

    /** A host's turn: skipped past the failure budget, else started when the rate allows. */
    const turn$ = (target: LabelledTarget): Observable<never> =>
      defer(() => {
        const skip = (): Observable<never> => {
          notRun(target, 'skipped', new HostSkippedError('Not started: the run had more failures than maxFail allows', { host: target.host, port: target.port ?? 22, phase: 'connection' }));
          progress();
          return EMPTY;
        };
        if (stopped) return skip();
        // Its place in line first, then a start no sooner than the rate allows after the last one.
        const after = (wait: number, then: () => Observable<never>): Observable<never> => (wait > 0 ? timer(wait).pipe(switchMap(() => (stopped ? skip() : then()))) : then());
        const start = (): Observable<never> => {
          const wait = pace.begin();
          return wait > 0 ? after(wait, start) : host$(target);
        };
        return after(pace.reserve(), start);
      });

    progress();
    // Waves one after another (canary, then batches), bounded concurrency within each (mergeMap);
    // the deadline or an abort ends the hosts still running (their pipelines are unsubscribed, so
    // their remote commands are signalled) and the run.
    const waves = planWaves(list, canary, batch).map((wave) => from(wave).pipe(mergeMap(turn$, concurrency)));
    return concat(...waves).pipe(takeUntil(giveUp$)).subscribe(subscriber);
  }).pipe(share());

  return FanOut.create(events$);
}
