/** What a fan-out gives: one result per host (with its status and timings), live lines, progress, and what it takes. */
import type { LabelledTarget } from '../config/target.js';
import type { HostAmount } from './rollout.js';
import { optionNames } from '../util/check.js';

/**
 * How a host's run ended. `failed`: the command ran and failed (a non-zero exit, a signal, no
 * exit status). `connection-error`: the SSH connection failed after it was set up (lost
 * mid-command, a channel refused, a protocol fault) — pssh's "ssh error" (exit code 4), not a
 * failure of the command. `lost`: the worker thread running the host died
 * (`WorkerLostError`); the command may have run and is not run again.
 *
 * @example
 * ```ts
 * import { fanOut, type HostStatus } from 'rxssh/fleet';
 *
 * const failed = (s: HostStatus) => s !== 'ok';
 * fanOut(hosts, pipeline).subscribe((r) => failed(r.status) && console.log(r.host, r.status));
 * ```
 */
export type HostStatus = 'ok' | 'failed' | 'timeout' | 'unreachable' | 'auth-failed' | 'host-key-rejected' | 'connection-error' | 'cancelled' | 'lost' | 'skipped';

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
  /**
   * The last value the host's pipeline emitted, if any. A fan-out reads two kinds of value by
   * their `type` alone: an `ExecChunk` (`'chunk'`) is output, captured and split into lines; an
   * `ExecResult` (`'exec-result'`) gives `exitCode`, `signal`, `stdout` and `stderr`. Any other
   * value is kept here as it is.
   */
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
  /**
   * Hosts per wave (a number, or a percentage of the run's hosts, rounded up: `'25%'`): the next
   * wave starts when every host of the previous one has its result. Default: one wave.
   */
  readonly batch?: HostAmount;
  /** The first N hosts as a wave of their own before the others (default 0). */
  readonly canary?: number;
  /**
   * Failures (any status but `ok`) the run may have: once there are more (`0`: the first one,
   * fail fast; `'10%'`: more than 10 % of the run's hosts), no new host starts and every host not
   * started ends as `skipped`. Hosts running then finish. Default: no limit.
   */
  readonly maxFail?: HostAmount;
  /**
   * Host starts per second, at most (a fleet behind one sshd or bastion then stays under its
   * `MaxStartups` and `PerSourcePenalties`). Default: no limit.
   */
  readonly rate?: number;
}

/** The names {@link FanOutConfig} takes. @internal */
export const FAN_OUT_NAMES = optionNames<FanOutConfig>()(['concurrency', 'timeout', 'deadline', 'retries', 'retryDelay', 'capture', 'maxLineLength', 'signal', 'batch', 'canary', 'maxFail', 'rate']);
