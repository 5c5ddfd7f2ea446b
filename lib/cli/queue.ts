/**
 * The queue flags of the CLI, shared by `rxssh run --queue` (which submits host jobs to a BullMQ
 * queue in Redis) and `rxssh worker` (lib/cli/worker.ts, which runs them). Redis secrets come from an environment variable or a file, never from a flag's value
 * (which `ps` shows); bullmq and ioredis load only here.
 */
import { readFileSync } from 'node:fs';
import type { ExecChunk, FanOutTarget } from '../index.js';
import type { FanOut, FanOutConfig } from '../fleet/index.js';
import type { QueueConfig, QueueJob } from '../queue/index.js';
import type { Io } from './io.js';
import { UsageError } from './usage.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/** Where the queue is: flags shared by `rxssh run --queue` and `rxssh worker`. */
export const QUEUE_OPTIONS = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  'queue-prefix': { type: 'string' },
  'redis-user': { type: 'string' },
  'redis-password-env': { type: 'string' },
  'redis-password-file': { type: 'string' },
  'redis-ca': { type: 'string' },
  'redis-timeout': { type: 'string' },
  'queue-secret-file': { type: 'string' },
  'queue-secret-env': { type: 'string' },
} as const;

export const QUEUE_HELP = `queue (Redis, BullMQ):
      --queue URL         redis://HOST[:PORT][/DB], or rediss://… for TLS (no password in the
                          URL: it would show in ps)
      --queue-name NAME   the queue (default rxssh); workers and runs must agree
      --queue-prefix P    the Redis key prefix (default rxssh)
      --redis-user USER   Redis ACL user (or in the URL: redis://USER@HOST)
      --redis-password-env VAR   the Redis password from an environment variable
      --redis-password-file FILE the Redis password from a file (its first line)
      --redis-ca FILE     CA certificate(s) for rediss://
      --redis-timeout SEC give up when Redis is unreachable this long (run: 10, worker: 30);
                          a run's hosts without a result then end 'lost'
      --queue-secret-file FILE / --queue-secret-env VAR   a secret (16+ bytes) shared by runs
                          and workers: runs sign jobs, workers sign output and results, and
                          both drop what is unsigned or wrongly signed (a Redis writer cannot
                          then run commands or forge results)
`;

/**
 * A secret from `--NAME-env VAR` or `--NAME-file FILE` (never a flag value, which `ps` shows);
 * undefined when neither is given. Throws UsageError for both, an unset variable or an
 * unreadable file.
 */
function secretOf(values: Values, io: Io, name: 'redis-password' | 'queue-secret', fromFile: (text: string) => string): string | undefined {
  const variable = values[`${name}-env`] as string | undefined;
  const file = values[`${name}-file`] as string | undefined;
  if (variable && file) throw new UsageError(`give --${name}-env or --${name}-file, not both`);
  if (variable) {
    const value = io.env[variable];
    if (value === undefined) throw new UsageError(`--${name}-env ${variable}: the variable is not set`);
    return value;
  }
  if (!file) return undefined;
  try {
    return fromFile(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--${name}-file ${file}: ${(err as Error).message}`);
  }
}

/** The QueueConfig from the queue flags; throws UsageError. */
export function queueConfigOf(values: Values, io: Io, redisTimeoutSec = 10): QueueConfig {
  const url = values['queue'] as string | undefined;
  if (!url) throw new UsageError('--queue redis://HOST[:PORT][/DB] is needed');
  // The first line of the file (a password may end in spaces).
  const password = secretOf(values, io, 'redis-password', (text) => text.split(/\r?\n/)[0] ?? '');
  const caFile = values['redis-ca'] as string | undefined;
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile);
    } catch (err) {
      throw new UsageError(`--redis-ca ${caFile}: ${(err as Error).message}`);
    }
  }
  const name = values['queue-name'] as string | undefined;
  const prefix = values['queue-prefix'] as string | undefined;
  const user = values['redis-user'] as string | undefined;
  const timeoutText = values['redis-timeout'] as string | undefined;
  const timeoutSec = timeoutText === undefined ? redisTimeoutSec : Number(timeoutText);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw new UsageError('--redis-timeout takes a positive number of seconds');
  const secret = secretOf(values, io, 'queue-secret', (text) => text.trim());
  if (secret !== undefined && Buffer.byteLength(secret) < 16) throw new UsageError('the queue secret must be at least 16 bytes');
  const config: QueueConfig = {
    ...(secret !== undefined ? { secret } : {}),
    unavailableAfter: timeoutSec * 1000,
    url,
    ...(user ? { username: user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(ca ? { tls: { ca } } : {}),
    ...(name ? { name } : {}),
    ...(prefix ? { prefix } : {}),
  };
  return config;
}

/** Checks a QueueConfig with the library's own checks (a bad URL, a password in it, a name with ":"), as usage errors. */
export async function checked(config: QueueConfig): Promise<QueueConfig> {
  const { redisOptions, queueNames } = await import('../queue/index.js');
  try {
    redisOptions(config);
  } catch (err) {
    throw new UsageError(`--queue: ${(err as Error).message}`, { cause: err });
  }
  try {
    queueNames(config);
  } catch (err) {
    throw new UsageError(`--queue-name: ${(err as Error).message}`, { cause: err });
  }
  return config;
}

/** What `rxssh run --queue` adds to a run. */
export interface QueueRunOptions {
  readonly config: QueueConfig;
  readonly runId?: string;
  readonly retryLost: boolean;
  /** `-l USER`: the user of hosts that name none (it travels with each job). */
  readonly user?: string;
}

/** Submits a run's hosts to the queue (`rxssh run --queue`): the same FanOut as a local run. */
export async function onQueue(
  opts: { readonly targets: readonly FanOutTarget[]; readonly command: string; readonly queue: QueueRunOptions; readonly verbose: boolean; readonly json: boolean; readonly become?: QueueJob['become'] },
  io: Io,
  stdin: Buffer | undefined,
  config: FanOutConfig,
): Promise<FanOut<ExecChunk>> {
  const { fanOutOnQueue } = await import('../queue/index.js');
  const queue = await checked(opts.queue.config);
  const job: QueueJob = { command: opts.command, ...(stdin ? { stdin } : {}), ...(opts.queue.user ? { user: opts.queue.user } : {}), ...(opts.become ? { become: opts.become } : {}) };
  const runId = opts.queue.runId;
  if (opts.verbose && !opts.json) io.stderr.write(`rxssh: submitting ${opts.targets.length} host(s) to queue ${queue.name ?? 'rxssh'}${runId ? ` as run ${runId}` : ''}\n`);
  return fanOutOnQueue(opts.targets, job, {
    ...config,
    queue,
    ...(runId ? { runId } : {}),
    retryLost: opts.queue.retryLost,
    // Without -p, every host goes on the queue at once: the workers' --concurrency bounds the work.
    concurrency: config.concurrency ?? 100_000,
  });
}

