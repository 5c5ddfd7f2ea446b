/**
 * A command run to completion: `run` (the operator), `Connection.run` and the async handle's
 * `run` all collect one {@link ExecResult} here, with the same options ({@link RunConfig}):
 * bounded output capture, text or bytes, a directory, stdin as text, a deadline and an
 * AbortSignal.
 *
 * ```text
 * run('make', { timeout: 60_000 }):  open ─ stdout/stderr kept (≤ maxBuffer) ─ exit ─ CLOSE ─► ExecResult |
 *   timeout or abort:  TERM to the command, CLOSE, then TimeoutError / the signal's reason
 * ```
 */
import { defer, fromEvent, mergeMap, Observable, raceWith, throwError } from 'rxjs';
import type { ChannelConfig, ExecChunk, ExitInfo, StdinSource } from './channel.js';
import { CHANNEL_NAMES } from './types.js';
import { becoming, type BecomeConfig, type ChannelOpener } from './become.js';
import { OutputCapture } from './capture.js';
import { checkNumber, checkOptions, checkString, optionNames } from '../util/check.js';
import { within } from '../util/deadline.js';
import { shellQuote } from '../util/shell.js';

/**
 * Options of `run`, `Connection.run` and `ConnectionHandle.run`.
 *
 * @example
 * ```ts
 * import { run } from 'rxssh';
 *
 * connection$.pipe(run('make test', { cwd: '/srv/app', check: true, timeout: 600_000, env: { CI: '1' } }));
 * ```
 */
export interface RunConfig extends Omit<ChannelConfig, 'check' | 'stdin'> {
  /** The command's stdin: a string, bytes, or any stdin source `exec` takes (default none: EOF at once). */
  readonly stdin?: string | Uint8Array | StdinSource;
  /** The directory to run in (the command becomes `cd -- DIR && COMMAND`). */
  readonly cwd?: string;
  /** When true a non-zero exit, a signal or a missing status errors with `ExitStatusError` (default false). */
  readonly check?: boolean;
  /** The most bytes kept per stream; the rest is counted but dropped and `truncated` set (default 64 MiB). */
  readonly maxBuffer?: number;
  /** `'buffer'`: `stdout` and `stderr` are the bytes as received (binary output); default `'utf8'` strings. */
  readonly encoding?: 'utf8' | 'buffer';
  /** Stop the command after this many ms: it is signalled (TERM), its channel closed, and the run errors with `TimeoutError`. */
  readonly timeout?: number;
  /** Aborting stops the command the same way; the run errors with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Run it as another user (`sudo`, `su`): the exit status and output are the command's; a
   * method that refuses (wrong or missing password, not allowed) is a `BecomeError`.
   */
  readonly become?: BecomeConfig;
}

/** The names {@link RunConfig} takes. @internal */
export const RUN_NAMES = optionNames<RunConfig>()([...CHANNEL_NAMES, 'cwd', 'maxBuffer', 'encoding', 'timeout', 'signal', 'become']);

/**
 * The outcome of a command run to completion.
 *
 * @example
 * ```ts
 * import type { ExecResult } from 'rxssh';
 *
 * const ok = (r: ExecResult) => r.exitCode === 0;
 * // { type: 'exec-result', command: 'id -u', stdout: '1000\n', stderr: '', exitCode: 0, signal: null, truncated: false }
 * const png = (r: ExecResult<Buffer>) => r.stdout.subarray(0, 8); // run('cat logo.png', { encoding: 'buffer' })
 * ```
 */
export interface ExecResult<O extends string | Buffer = string> {
  /** Always `'exec-result'`: what tells a result apart from other values in a pipeline (a fan-out reads it). */
  readonly type: 'exec-result';
  /** The command that ran (with `cwd`, the `cd -- DIR && …` form). */
  readonly command: string;
  /** Everything written to stdout, up to `maxBuffer` bytes: UTF-8 text, or bytes with `encoding: 'buffer'`. */
  readonly stdout: O;
  /** Everything written to stderr, up to `maxBuffer` bytes: UTF-8 text, or bytes with `encoding: 'buffer'`. */
  readonly stderr: O;
  /** The exit status; `null` when killed by a signal or when the server sent no status. */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or `null`. */
  readonly signal: string | null;
  /** True when output beyond `maxBuffer` was dropped. */
  readonly truncated: boolean;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/** The options of a run that are not the channel's. */
const RUN_ONLY = new Set(['stdin', 'cwd', 'check', 'maxBuffer', 'encoding', 'timeout', 'signal', 'closeObserver', 'become']);

/**
 * Runs `command` on a channel `open` makes and collects an ExecResult (what `run`,
 * `Connection.run` and the handle's `run` do). Options are checked at call time. @internal
 */
export function runOn(
  channel: ChannelOpener,
  command: string,
  config: RunConfig,
  where: { readonly host: string; readonly port: number },
): Observable<ExecResult<string | Buffer>> {
  checkString('run(): command', command);
  checkOptions('run()', config, RUN_NAMES);
  const open = config.become === undefined ? channel : becoming(channel, config.become, where);
  const maxBuffer = checkNumber('run(): maxBuffer', config.maxBuffer ?? DEFAULT_MAX_BUFFER, { min: 0, expected: 'a non-negative number of bytes' });
  const encoding = config.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'buffer') throw new TypeError("run(): encoding must be 'utf8' or 'buffer'");
  if (config.cwd !== undefined) checkString('run(): cwd', config.cwd);
  if (config.timeout !== undefined) checkNumber('run(): timeout', config.timeout, { min: Number.MIN_VALUE, expected: 'a positive number of milliseconds' });
  const full = config.cwd === undefined ? command : `cd -- ${shellQuote(config.cwd)} && ${command}`;
  // A string or bytes is one chunk (a string is iterable too: it must not become one chunk per character).
  const stdin = config.stdin === undefined ? [] : typeof config.stdin === 'string' || config.stdin instanceof Uint8Array ? [config.stdin] : config.stdin;
  const { timeout, signal } = config;
  // What the channel takes: the run's own options are not channel options.
  const channelConfig: ChannelConfig = Object.fromEntries(Object.entries(config).filter(([key]) => !RUN_ONLY.has(key)));
  let run$: Observable<ExecResult<string | Buffer>> = defer(() => {
    let exit: ExitInfo = { exitCode: null, signal: null };
    const channel = open(full, {
      ...channelConfig,
      stdin,
      check: config.check ?? false,
      closeObserver: {
        next: (info) => {
          exit = info;
          config.closeObserver?.next(info);
        },
      },
    });
    const output = new OutputCapture(maxBuffer);
    const read = (stream: 'stdout' | 'stderr'): string | Buffer => (encoding === 'buffer' ? output.bytes(stream) : output.text(stream));
    return collect(channel, output, () => ({ type: 'exec-result', command: full, stdout: read('stdout'), stderr: read('stderr'), exitCode: exit.exitCode, signal: exit.signal, truncated: output.truncated }));
  });
  // Unsubscribing the run (a deadline, an abort) signals the remote command and closes its channel.
  if (timeout !== undefined) run$ = run$.pipe(within(timeout, where));
  if (signal) {
    const stopped = run$;
    run$ = defer(() => {
      signal.throwIfAborted();
      return stopped.pipe(raceWith(fromEvent(signal, 'abort').pipe(mergeMap(() => throwError(() => signal.reason as unknown)))));
    });
  }
  return run$;
}

/** The channel's output into `output`; at its clean end, the one result. */
function collect(channel: Observable<ExecChunk>, output: OutputCapture, result: () => ExecResult<string | Buffer>): Observable<ExecResult<string | Buffer>> {
  return new Observable<ExecResult<string | Buffer>>((subscriber) =>
    channel.subscribe({
      next: ({ stream, data }) => output.keep(stream, data),
      error: (e: unknown) => subscriber.error(e),
      complete: () => {
        subscriber.next(result());
        subscriber.complete();
      },
    }),
  );
}
