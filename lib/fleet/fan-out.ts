/**
 * Many hosts at once: `fanOut(targets, project, config)` runs one pipeline per host with
 * bounded concurrency, per-host timeouts, a global deadline and retries, and emits exactly one
 * result per host — plus line-framed live output and progress.
 *
 * @module
 */
import { TextDecoder } from 'node:util';
import {
  catchError,
  defer,
  EMPTY,
  filter,
  from,
  fromEvent,
  ignoreElements,
  map,
  merge,
  mergeMap,
  NEVER,
  Observable,
  of,
  retry,
  share,
  take,
  takeUntil,
  tap,
  throwError,
  timer,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import { AuthenticationError, ChannelOpenError, ConnectError, ConnectionLostError, ExitStatusError, HostKeyRejectedError, ProtocolError, QueueError, SshError, TimeoutError, WorkerLostError } from '../errors.js';
import { OutputCapture } from '../channel/capture.js';
import { within } from '../util/deadline.js';
import { LineSplitter } from '../util/line-splitter.js';
import { labelOf, parseHostSpec, type FanOutTarget, type LabelledTarget } from '../config/target.js';
import { checkNumber, MILLISECONDS, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER } from '../util/check.js';

/**
 * How a host's run ended. `failed`: the command ran and failed (a non-zero exit, a signal, no
 * exit status). `connection-error`: the SSH connection failed after it was set up (lost
 * mid-command, a channel refused, a protocol fault) — pssh's "ssh error" (exit code 4), not a
 * failure of the command. `lost`: the worker thread running the host died
 * ({@link WorkerLostError}); the command may have run and is not run again.
 *
 * @example
 * ```ts
 * import { fanOut, type HostStatus } from 'rxssh/fleet';
 *
 * const failed = (s: HostStatus) => s !== 'ok';
 * fanOut(hosts, pipeline).subscribe((r) => failed(r.status) && console.log(r.host, r.status));
 * ```
 */
export type HostStatus = 'ok' | 'failed' | 'timeout' | 'unreachable' | 'auth-failed' | 'host-key-rejected' | 'connection-error' | 'cancelled' | 'lost';

/**
 * When a host's run happened (milliseconds since the epoch, and its duration).
 *
 * @example
 * ```ts
 * import { fanOut } from 'rxssh/fleet';
 *
 * fanOut(hosts, pipeline).subscribe((r) => console.log(r.host, `${r.timings.durationMs} ms`));
 * ```
 */
export interface HostTimings {
  /** When its first attempt started (or when it was given up, if it never started). */
  readonly startedAt: number;
  /** When its result was decided. */
  readonly endedAt: number;
  /** `endedAt - startedAt`. */
  readonly durationMs: number;
}

/**
 * The one result each host gets.
 *
 * @example
 * ```ts
 * import { fanOut } from 'rxssh/fleet';
 *
 * fanOut(hosts, pipeline).subscribe((r) => console.log(r.host, r.status, r.exitCode, r.timings.durationMs));
 * ```
 */
export interface HostResult<T> {
  /** Discriminator (in `events$`). */
  readonly type: 'result';
  /** The target. */
  readonly target: LabelledTarget;
  /** The target's label. */
  readonly host: string;
  /** How it ended. */
  readonly status: HostStatus;
  /** The last value the host's pipeline emitted, if any. */
  readonly value: T | undefined;
  /** The remote exit status, when the pipeline ran a command and it is known. */
  readonly exitCode: number | null;
  /** The signal that ended the remote command, or `null`. */
  readonly signal: string | null;
  /** Captured stdout (UTF-8), at most `capture` bytes. */
  readonly stdout: string;
  /** Captured stderr (UTF-8), at most `capture` bytes. */
  readonly stderr: string;
  /** True when output beyond `capture` bytes was dropped from `stdout`/`stderr`. */
  readonly truncated: boolean;
  /** The error that ended it, if it did not succeed. */
  readonly error: unknown;
  /** Attempts made (retries included); 0 when it never started. */
  readonly attempts: number;
  /** When it ran. */
  readonly timings: HostTimings;
}

/**
 * A whole line of a host's output (never mixed with other hosts' partial lines).
 *
 * @example
 * ```ts
 * import { fanOut } from 'rxssh/fleet';
 *
 * fanOut(hosts, pipeline).lines$.subscribe((l) => console.log(`${l.host}${l.truncated ? ' (cut)' : ''}: ${l.line}`));
 * ```
 */
export interface HostLine {
  /** Discriminator (in `events$`). */
  readonly type: 'line';
  /** The target's label. */
  readonly host: string;
  /** Which stream it came from. */
  readonly stream: 'stdout' | 'stderr';
  /** The line, without its newline. */
  readonly line: string;
  /** The line was longer than `maxLineLength` and was cut there. */
  readonly truncated: boolean;
}

/**
 * Progress of a fan-out run, after every change.
 *
 * @example
 * ```ts
 * import { fanOut } from 'rxssh/fleet';
 *
 * fanOut(hosts, pipeline).progress$.subscribe((p) => console.log(`${p.done}/${p.total}, ${p.inFlight} running`));
 * ```
 */
export interface FanOutProgress {
  /** Discriminator (in `events$`). */
  readonly type: 'progress';
  /** Hosts in the run. */
  readonly total: number;
  /** Hosts with a result. */
  readonly done: number;
  /** Results with status `ok`. */
  readonly ok: number;
  /** Results with any other status. */
  readonly failed: number;
  /** Hosts running now. */
  readonly inFlight: number;
}

/**
 * Everything a run reports, in order.
 *
 * @example
 * ```ts
 * import { fanOut } from 'rxssh/fleet';
 *
 * fanOut(hosts, pipeline).events$.subscribe((e) => e.type === 'line' && console.log(`${e.host}: ${e.line}`));
 * ```
 */
export type FanOutEvent<T> = HostResult<T> | HostLine | FanOutProgress;

/**
 * Options of {@link fanOut}.
 *
 * @example
 * ```ts
 * import type { FanOutConfig } from 'rxssh/fleet';
 *
 * const config: FanOutConfig = { concurrency: 64, timeout: 30_000, deadline: 300_000, retries: 5 };
 * ```
 */
export interface FanOutConfig {
  /** Hosts running at once (default 32). */
  readonly concurrency?: number;
  /** Per-host time limit in ms, retries included; 0 = none (default 60 000). The host ends as `timeout`. */
  readonly timeout?: number;
  /** Time limit for the whole run in ms; hosts still running or waiting end as `timeout` (default none). */
  readonly deadline?: number;
  /**
   * Retries of a connection that the server dropped before its banner or key exchange (sshd's
   * `MaxStartups` does that under load), with jittered exponential backoff (default 5).
   */
  readonly retries?: number;
  /** The first retry's delay in ms, doubled each time, ±50 % jitter (default 100). */
  readonly retryDelay?: number;
  /** Bytes of stdout and of stderr kept per host (default 1 MiB each). */
  readonly capture?: number;
  /**
   * The longest line `lines$` carries, in characters (default 64 Ki): a longer one is cut there
   * and marked `truncated`, the rest up to its newline dropped, so output without newlines costs
   * bounded memory and linear time.
   */
  readonly maxLineLength?: number;
  /** Aborting ends the run: hosts running or waiting end as `cancelled`, then it completes. */
  readonly signal?: AbortSignal;
}

/**
 * Maps an error to a host status: host-key and auth failures, unreachable hosts (DNS, TCP,
 * no SSH handshake), timeouts, and everything else as `failed`.
 *
 * @example
 * ```ts
 * import { AuthenticationError } from 'rxssh';
 * import { statusOf } from 'rxssh/fleet';
 *
 * statusOf(new AuthenticationError('no', [], null, { host: 'h', port: 22, phase: 'auth' })); // 'auth-failed'
 * ```
 */
export function statusOf(error: unknown): HostStatus {
  if (error instanceof WorkerLostError || error instanceof QueueError) return 'lost';
  if (error instanceof HostKeyRejectedError) return 'host-key-rejected';
  if (error instanceof AuthenticationError) return 'auth-failed';
  if (error instanceof ConnectError) return 'unreachable';
  if (error instanceof TimeoutError) return ['dns', 'tcp', 'banner'].includes(error.phase) ? 'unreachable' : 'timeout';
  if (error instanceof SshError && ['dns', 'tcp', 'banner', 'kex'].includes(error.phase)) return 'unreachable';
  if (error instanceof ConnectionLostError || error instanceof ChannelOpenError || error instanceof ProtocolError) return 'connection-error';
  return 'failed';
}

function retriable(error: unknown): boolean {
  // sshd's MaxStartups drops surplus unauthenticated connections right after accept. Only such
  // early failures are retried: the phases before authentication (a failure after it has phase
  // `connection` or later, so a command never runs twice), and never a host-key rejection (a
  // key changed at re-key mid-command has phase `kex` too).
  return error instanceof SshError && !(error instanceof TimeoutError) && !(error instanceof HostKeyRejectedError) &&
    (error.phase === 'banner' || error.phase === 'kex' || error.phase === 'tcp') &&
    !(error instanceof ConnectError && (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED');
}

interface Captured {
  output: OutputCapture;
  decoders: { stdout: TextDecoder; stderr: TextDecoder };
  lines: { stdout: LineSplitter; stderr: LineSplitter };
}

function isChunk(value: unknown): value is { stream: 'stdout' | 'stderr'; data: Uint8Array } {
  return (
    typeof value === 'object' && value !== null && 'stream' in value && 'data' in value &&
    ((value as { stream: unknown }).stream === 'stdout' || (value as { stream: unknown }).stream === 'stderr') &&
    (value as { data: unknown }).data instanceof Uint8Array
  );
}

function isExecResult(value: unknown): value is { stdout: string | Uint8Array; stderr: string | Uint8Array; exitCode: number | null; signal: string | null } {
  if (typeof value !== 'object' || value === null || !('exitCode' in value) || !('stdout' in value)) return false;
  const stdout = (value as { stdout: unknown }).stdout;
  return typeof stdout === 'string' || stdout instanceof Uint8Array;
}

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
export function fanOut<T>(
  targets: Iterable<FanOutTarget | string>,
  project: (target: LabelledTarget) => ObservableInput<T>,
  config: FanOutConfig = {},
): FanOut<T> {
  const list: LabelledTarget[] = [...targets].map((t) => (typeof t === 'string' ? parseHostSpec(t) : { ...t, label: labelOf(t) }));
  const concurrency = checkNumber('fanOut(): concurrency', config.concurrency ?? 32, POSITIVE_INTEGER);
  const timeout = config.timeout ?? 60_000;
  const retries = config.retries ?? 5;
  const retryDelay = config.retryDelay ?? 100;
  const capture = config.capture ?? 1024 * 1024;
  const maxLineLength = checkNumber('fanOut(): maxLineLength', config.maxLineLength ?? 64 * 1024, POSITIVE_INTEGER);
  for (const [name, v] of [['timeout', timeout], ['retryDelay', retryDelay], ['deadline', config.deadline ?? 0]] as const) checkNumber(`fanOut(): ${name}`, v, MILLISECONDS);
  checkNumber('fanOut(): retries', retries, NON_NEGATIVE_INTEGER);
  checkNumber('fanOut(): capture', capture, { min: 0, expected: 'a non-negative number of bytes' });
  if (typeof project !== 'function') throw new TypeError('fanOut(): project must be a function');

  const events$ = new Observable<FanOutEvent<T>>((subscriber) => {
    const total = list.length;
    let started = 0;
    let done = 0;
    let ok = 0;
    const running = new Set<HostRun>();
    const progress = (): void => subscriber.next({ type: 'progress', total, done, ok, failed: done - ok, inFlight: running.size });
    const emitResult = (result: Omit<HostResult<T>, 'type'>): void => {
      done++;
      if (result.status === 'ok') ok++;
      subscriber.next({ type: 'result', ...result });
    };

    /** One host's state: what it emitted, its output, its exit. Its run is an Observable (below). */
    class HostRun {
      readonly startedAt = Date.now();
      attempts = 0;
      finished = false;
      value: T | undefined;
      exit: { exitCode: number | null; signal: string | null } = { exitCode: null, signal: null };
      readonly captured: Captured = {
        output: new OutputCapture(capture),
        decoders: { stdout: new TextDecoder(), stderr: new TextDecoder() },
        lines: {
          stdout: new LineSplitter(maxLineLength, (line, truncated) => this.line('stdout', line, truncated)),
          stderr: new LineSplitter(maxLineLength, (line, truncated) => this.line('stderr', line, truncated)),
        },
      };

      constructor(readonly target: LabelledTarget) {}

      observe(value: T): void {
        this.value = value;
        if (isChunk(value)) {
          this.keep(value.stream, value.data);
        } else if (isExecResult(value)) {
          this.exit = { exitCode: value.exitCode, signal: value.signal };
          this.keep('stdout', typeof value.stdout === 'string' ? Buffer.from(value.stdout) : value.stdout);
          this.keep('stderr', typeof value.stderr === 'string' ? Buffer.from(value.stderr) : value.stderr);
        }
      }

      keep(stream: 'stdout' | 'stderr', data: Uint8Array): void {
        const c = this.captured;
        c.output.keep(stream, data);
        c.lines[stream].push(c.decoders[stream].decode(data, { stream: true }));
      }

      line(stream: 'stdout' | 'stderr', line: string, truncated: boolean): void {
        subscriber.next({ type: 'line', host: this.target.label, stream, line, truncated });
      }

      /** Emits the host's one result (flushing its last partial lines first); later calls do nothing. */
      finish(status: HostStatus, error: unknown): void {
        if (this.finished) return;
        this.finished = true;
        running.delete(this);
        for (const stream of ['stdout', 'stderr'] as const) {
          const lines = this.captured.lines[stream];
          lines.push(this.captured.decoders[stream].decode());
          lines.end();
        }
        const endedAt = Date.now();
        emitResult({
          target: this.target,
          host: this.target.label,
          status,
          value: this.value,
          exitCode: this.exit.exitCode ?? (status === 'ok' && (isChunk(this.value) || this.value === undefined) ? 0 : null),
          signal: this.exit.signal,
          stdout: this.captured.output.text('stdout'),
          stderr: this.captured.output.text('stderr'),
          truncated: this.captured.output.truncated,
          error,
          attempts: this.attempts,
          timings: { startedAt: this.startedAt, endedAt, durationMs: endedAt - this.startedAt },
        });
        progress();
      }
    }

    /**
     * One host: its pipeline, retried (with jittered exponential backoff) only when it failed
     * before emitting anything with an error that happens before authentication; the per-host
     * timeout covers the retries. Completes when the host's result is out.
     */
    const host$ = (target: LabelledTarget): Observable<never> =>
      defer(() => {
        started++;
        const run = new HostRun(target);
        running.add(run);
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
        for (const target of list.slice(started)) {
          const now = Date.now();
          emitResult({
            target, host: target.label, status, value: undefined, exitCode: null, signal: null,
            stdout: '', stderr: '', truncated: false, error: cause, attempts: 0,
            timings: { startedAt: now, endedAt: now, durationMs: 0 },
          });
        }
        if (started < total) progress();
      }),
    );

    progress();
    // Bounded concurrency is mergeMap's; the deadline or an abort ends the hosts still running
    // (their pipelines are unsubscribed, so their remote commands are signalled) and the run.
    return from(list).pipe(mergeMap(host$, concurrency), takeUntil(giveUp$)).subscribe(subscriber);
  }).pipe(share());

  return FanOut.create(events$);
}
