/**
 * What a queued run is configured with: the queue (Redis, names, secret), the job a run submits,
 * and the submitter's options.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type FanOutConfig } from '../fleet/fan-out.js';
import { FAN_OUT_NAMES } from '../fleet/types.js';
import { optionNames } from '../util/check.js';

/**
 * Where the queue is: the Redis server (`redis://host:port[/db]`, `rediss://` for TLS) and the
 * queue's name and key prefix. Secrets are fields, never part of the URL, so that a CLI can take
 * them from the environment or a file rather than from its command line.
 *
 * @example
 * ```ts
 * const queue: QueueConfig = { url: 'rediss://redis.internal:6380/2', username: 'rxssh', password: process.env.REDIS_PASSWORD, name: 'deploys' };
 * ```
 */
export interface QueueConfig {
  /** `redis://host[:port][/db]` or `rediss://…` (TLS). A user in the URL is taken; a password is refused. */
  readonly url: string;
  /** The Redis ACL user (overrides the URL's). */
  readonly username?: string;
  /** The Redis password (AUTH / ACL). */
  readonly password?: string;
  /** TLS options for `rediss://` (CA, client certificate, servername). */
  readonly tls?: TlsOptions;
  /** The queue's name (default `rxssh`); submitters and workers must agree. */
  readonly name?: string;
  /** The Redis key prefix (default `rxssh`); submitters and workers must agree. */
  readonly prefix?: string;
  /**
   * How long Redis may be unreachable before the run (or the worker) ends with a
   * `QueueError` (ms, default 10 000). Redis is pinged every second.
   */
  readonly unavailableAfter?: number;
  /**
   * A secret the submitters and workers of this queue share (at least 16 bytes): the submitter
   * signs each job with it, a worker each output message and result (HMAC-SHA256, bound to the
   * job id). A worker refuses a job that is unsigned or wrongly signed; a submitter drops such
   * output and results and ends the host `lost`. Without it, anyone who can write to Redis can
   * have workers run commands and forge results (see the guide's "Scaling out").
   */
  readonly secret?: string | Uint8Array;
}

/**
 * What every host of a queued run does: data only (it crosses Redis), no credentials: each
 * worker connects with its own.
 *
 * @example
 * ```ts
 * const job: QueueJob = { command: 'systemctl is-active nginx', env: { LC_ALL: 'C' } };
 * ```
 */
export interface QueueJob {
  /** The remote command. */
  readonly command: string;
  /** Bytes written to the command's stdin, then EOF (at most 16 MiB; it is stored in Redis once per host). */
  readonly stdin?: Uint8Array | string;
  /** Environment variables for the command (the server's `AcceptEnv` decides). */
  readonly env?: Readonly<Record<string, string>>;
  /** Ask for a pseudo-terminal. */
  readonly pty?: boolean;
  /** The user for hosts that name none (the worker's ssh_config `User` otherwise). */
  readonly user?: string;
  /**
   * Run the command as another user. Only the method and user travel on the queue: the password
   * is the worker's own (`rxssh worker --become-password-env`), never stored in Redis.
   */
  readonly become?: {
    /** `sudo`, `su` or `doas`. */
    readonly method: 'sudo' | 'su' | 'doas';
    /** The user to become. */
    readonly user: string;
  };
}

/**
 * Options of {@link fanOutOnQueue}: `fanOut`'s, plus the queue, a run id and what to do with
 * lost hosts. `concurrency` bounds the jobs this run keeps on the queue at once (default 1000);
 * how many run at once is the workers' `concurrency`.
 *
 * @example
 * ```ts
 * const config: QueueFanOutConfig = { queue: { url: 'redis://127.0.0.1:6379' }, runId: 'deploy-42', timeout: 60_000 };
 * ```
 */
export interface QueueFanOutConfig extends Omit<FanOutConfig, 'retries' | 'retryDelay'> {
  /** The queue. */
  readonly queue: QueueConfig;
  /**
   * Names this run's jobs (`RUNID/host`): submitting the same run id and host again joins the
   * job already there instead of running the command twice. Default: random. No `:`.
   */
  readonly runId?: string;
  /**
   * A host whose worker died mid-command is `lost` and not run again (default). With
   * `retryLost`, it is run once more on another worker — for idempotent commands only.
   */
  readonly retryLost?: boolean;
  /** How often this run checks for jobs whose worker stopped renewing its lock (ms, default 5 000). */
  readonly stalledInterval?: number;
  /** Retries of connections dropped before the handshake, made by the worker (default 5). */
  readonly retries?: number;
}

/** The names each queue config takes. @internal */
export const QUEUE_NAMES = {
  queue: optionNames<QueueConfig>()(['url', 'username', 'password', 'tls', 'name', 'prefix', 'unavailableAfter', 'secret']),
  job: optionNames<QueueJob>()(['command', 'stdin', 'env', 'pty', 'user', 'become']),
  fanOut: optionNames<QueueFanOutConfig>()([...[...FAN_OUT_NAMES].filter((n): n is Exclude<typeof n, 'retries' | 'retryDelay'> => n !== 'retries' && n !== 'retryDelay'), 'queue', 'runId', 'retryLost', 'stalledInterval', 'retries']),
};
