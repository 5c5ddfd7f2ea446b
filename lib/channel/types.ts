/**
 * What a session channel takes and gives: output chunks, exit and channel info, pty and channel
 * options, stdin sources, terminal sizes, and the signal names a channel can send.
 */
import { type NextObserver, type ObservableInput } from 'rxjs';
import type { OutputFlow } from './flow.js';
import { optionNames } from '../util/check.js';

/**
 * One piece of a channel's output, tagged with the stream it came from.
 *
 * @example
 * ```ts
 * connection.exec('ls').subscribe((chunk) => (chunk.stream === 'stdout' ? process.stdout : process.stderr).write(chunk.data));
 * ```
 */
export interface ExecChunk {
  /** Always `'chunk'`: what tells a chunk apart from other values in a pipeline (a fan-out reads it). */
  readonly type: 'chunk';
  /** `stdout` (channel data) or `stderr` (extended data). */
  readonly stream: 'stdout' | 'stderr';
  /** The bytes, as received (never copied). */
  readonly data: Buffer;
}

/**
 * How a channel's command ended. Both fields `null` means the server never said.
 *
 * @example
 * ```ts
 * connection.exec('make', { closeObserver: { next: (e) => console.log(e.exitCode, e.signal) } }).subscribe();
 * ```
 */
export interface ExitInfo {
  /** The exit status, or `null` (killed by a signal, or not reported). */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or `null`. */
  readonly signal: string | null;
}

/**
 * What `openObserver` receives when a channel is open and its request accepted.
 *
 * @example
 * ```ts
 * connection.exec('uptime', { openObserver: { next: (info) => console.log(`channel ${info.id} open`) } }).subscribe();
 * ```
 */
export interface ChannelInfo {
  /** A per-connection sequence number. */
  readonly id: number;
  /** `exec`, `shell` or `subsystem`. */
  readonly kind: ChannelKind;
  /** The command (exec), subsystem name, or `''` for a shell. */
  readonly command: string;
}

/**
 * The kinds of session channel.
 *
 * @example
 * ```ts
 * connection.channel$.subscribe((e) => e.type === 'open' && e.kind === 'subsystem' && console.log('SFTP or another subsystem'));
 * ```
 */
export type ChannelKind = 'exec' | 'shell' | 'subsystem';

/**
 * Pseudo-terminal settings.
 *
 * @example
 * ```ts
 * connection.shell({ pty: { rows: 40, cols: 120, term: 'xterm-256color' } }).subscribe((c) => process.stdout.write(c.data));
 * ```
 */
export interface PtyConfig {
  /** Rows (default 24; 0 = unknown, as ssh sends when it has no terminal). */
  readonly rows?: number;
  /** Columns (default 80; 0 = unknown). */
  readonly cols?: number;
  /** The TERM value (default `vt100`; not empty: ssh2 would send `vt100` for an empty one). */
  readonly term?: string;
}

/** The names {@link PtyConfig} takes. @internal */
export const PTY_NAMES = optionNames<PtyConfig>()(['rows', 'cols', 'term']);

/** A terminal's rows or columns: the protocol's uint32 (RFC 4254 6.2). @internal */
export const TERMINAL_DIMENSION = { min: 0, max: 0xffff_ffff, integer: true, expected: 'a whole number of characters, 0-4294967295' } as const;

/**
 * What may be written to stdin.
 *
 * @example
 * ```ts
 * const line: StdinChunk = 'hello\n';
 * connection.exec('cat').next(line);
 * ```
 */
export type StdinChunk = string | Uint8Array;

/**
 * A stdin source, consumed with backpressure (pull for iterables and streams).
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 *
 * connection.exec('sha256sum', { stdin: createReadStream('./big.iso') }).subscribe((c) => process.stdout.write(c.data));
 * ```
 */
export type StdinSource =
  | ObservableInput<StdinChunk>
  | Iterable<StdinChunk>
  | AsyncIterable<StdinChunk>
  | NodeJS.ReadableStream;

/**
 * Options of a session channel.
 *
 * @example
 * ```ts
 * import type { ChannelConfig } from 'rxssh';
 *
 * const config: ChannelConfig = { env: { LANG: 'C' }, check: false, cancelSignal: 'INT' };
 * ```
 */
export interface ChannelConfig {
  /** Environment variables to request (sshd accepts only those in its `AcceptEnv`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Allocate a pseudo-terminal. */
  readonly pty?: boolean | PtyConfig;
  /**
   * Stdin to send, consumed with backpressure; EOF follows when it ends. Without it, use
   * `next()`/`write()` and `complete()` on the Subject.
   */
  readonly stdin?: StdinSource;
  /**
   * When true (the default) a non-zero exit, a signal or a missing exit status errors with
   * `ExitStatusError`; when false the output completes and the exit is reported to
   * `closeObserver`.
   */
  readonly check?: boolean;
  /**
   * The signal sent to the remote process when the last subscriber leaves before it exits
   * (default `TERM`); `null` only closes the channel (sshd then leaves a non-pty process running).
   */
  readonly cancelSignal?: string | null;
  /** The most bytes `next()` may queue before the channel is aborted (default 16 MiB). */
  readonly stdinLimit?: number;
  /**
   * Inactivity deadline in milliseconds (default 0 = none): when the server sends nothing on the
   * open channel (no output on either stream) for this long, the remote command is signalled
   * (`cancelSignal`) and the channel ends with `TimeoutError` (phase `exec`). A server that
   * stalls a channel then never leaves it waiting without an end.
   */
  readonly idleTimeout?: number;
  /**
   * A valve on this channel's output (see `OutputFlow`): while it is paused the channel is not
   * read and the server waits. For pipelines (the `exec` operator), whose subscribers cannot
   * slow a channel down otherwise.
   */
  readonly flow?: OutputFlow;
  /** Told when the channel is open and its request accepted. */
  readonly openObserver?: NextObserver<ChannelInfo>;
  /** Told how the command ended, just before the output completes or errors. */
  readonly closeObserver?: NextObserver<ExitInfo>;
}

/** The names {@link ChannelConfig} takes. @internal */
export const CHANNEL_NAMES = optionNames<ChannelConfig>()(['env', 'pty', 'stdin', 'check', 'cancelSignal', 'stdinLimit', 'idleTimeout', 'flow', 'openObserver', 'closeObserver']);

/**
 * Signal names RFC 4254 defines (without `SIG`).
 *
 * @example
 * ```ts
 * import { SIGNALS } from 'rxssh';
 *
 * SIGNALS.includes('TERM'); // true
 * ```
 */
export const SIGNALS: readonly string[] = ['ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2'];

/** What a channel asks the server for. @internal */
export interface ChannelRequest {
  readonly kind: ChannelKind;
  readonly command: string;
}

/**
 * Normalizes a signal name (`SIGTERM`, `term` → `TERM`); throws TypeError on an unknown one.
 *
 * @example
 * ```ts
 * import { normalizeSignal } from 'rxssh';
 *
 * normalizeSignal('SIGTERM'); // 'TERM'
 * ```
 */
export function normalizeSignal(name: string): string {
  const upper = String(name).toUpperCase().replace(/^SIG/, '');
  if (!SIGNALS.includes(upper)) throw new TypeError(`Unknown signal ${JSON.stringify(name)}; one of ${SIGNALS.join(', ')}`);
  return upper;
}

/** A terminal's size in character cells. */
export interface TerminalSize {
  /** Lines. */
  readonly rows: number;
  /** Columns. */
  readonly cols: number;
}
