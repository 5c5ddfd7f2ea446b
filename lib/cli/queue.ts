/**
 * The queue flags of the CLI, shared by `rxssh run --queue` (which submits host jobs to a BullMQ
 * queue in Redis) and `rxssh worker` (lib/cli/worker.ts, which runs them). Redis secrets come from an environment variable or a file, never from a flag's value
 * (which `ps` shows); bullmq and ioredis load only here.
 */
import { readFileSync } from 'node:fs';
import type { ExecChunk } from '../channel.js';
import type { FanOut, FanOutConfig, FanOutTarget } from '../fan-out.js';
import type { QueueConfig, QueueJob } from '../queue.js';
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

/** The QueueConfig from the queue flags; throws UsageError. */
export function queueConfigOf(values: Values, io: Io, redisTimeoutSec = 10): QueueConfig {
  const url = values['queue'] as string | undefined;
  if (!url) throw new UsageError('--queue redis://HOST[:PORT][/DB] is needed');
  const passwordEnv = values['redis-password-env'] as string | undefined;
  const passwordFile = values['redis-password-file'] as string | undefined;
  if (passwordEnv && passwordFile) throw new UsageError('give --redis-password-env or --redis-password-file, not both');
  let password: string | undefined;
  if (passwordEnv) {
    password = io.env[passwordEnv];
    if (password === undefined) throw new UsageError(`--redis-password-env ${passwordEnv}: the variable is not set`);
  } else if (passwordFile) {
    try {
      password = readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (err) {
      throw new UsageError(`--redis-password-file ${passwordFile}: ${(err as Error).message}`);
    }
  }
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
  const secretFile = values['queue-secret-file'] as string | undefined;
  const secretEnv = values['queue-secret-env'] as string | undefined;
  if (secretFile && secretEnv) throw new UsageError('give --queue-secret-file or --queue-secret-env, not both');
  let secret: string | undefined;
  if (secretEnv) {
    secret = io.env[secretEnv];
    if (secret === undefined) throw new UsageError(`--queue-secret-env ${secretEnv}: the variable is not set`);
  } else if (secretFile) {
    try {
      secret = readFileSync(secretFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--queue-secret-file ${secretFile}: ${(err as Error).message}`);
    }
  }
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
  const { redisOptions, queueNames } = await import('../queue.js');
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
  opts: { readonly targets: readonly FanOutTarget[]; readonly command: string; readonly queue: QueueRunOptions; readonly verbose: boolean; readonly json: boolean },
  io: Io,
  stdin: Buffer | undefined,
  config: FanOutConfig,
): Promise<FanOut<ExecChunk>> {
  const { fanOutOnQueue } = await import('../queue.js');
  const queue = await checked(opts.queue.config);
  const job: QueueJob = { command: opts.command, ...(stdin ? { stdin } : {}), ...(opts.queue.user ? { user: opts.queue.user } : {}) };
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

