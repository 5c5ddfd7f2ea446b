/**
 * Fan-out past one machine: each host becomes a job on a BullMQ queue in Redis, run by worker
 * processes (`queueWorker`, `rxssh worker`) that use their own credentials, known_hosts and
 * ssh_config. The submitter (`fanOutOnQueue`, `rxssh run --queue`) gets the same `FanOut` as
 * in-process: one result per host, live lines and progress, timeouts and cancel.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { defer, finalize, from, Observable, share, switchMap, tap, type Subscription } from 'rxjs';
import type { ExecChunk } from '../channel/channel.js';
import { QueueError, WorkerLostError } from '../errors.js';
import { FanOut, fanOut, type FanOutConfig, type FanOutEvent, type HostStatus } from '../fleet/fan-out.js';
import { parseHostSpec, type FanOutTarget, type LabelledTarget } from '../config/target.js';
import { guardedConnector } from './redis-connector.js';
import { encodeError, reviveError, type WireError } from '../fleet/worker-wire.js';
import { toBuffer } from '../util/bytes.js';
import { loadPeer } from '../util/peer.js';
import { parseJobData, type JobData } from './job.js';
import { signQueued, unsigned, verifyQueued } from './signing.js';
import { checkNumber, POSITIVE_INTEGER } from '../util/check.js';

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
   * {@link QueueError} (ms, default 10 000). Redis is pinged every second.
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


/** A finished job's return value. */
interface JobReturn {
  readonly status: HostStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly error: WireError | null;
  /** Progress messages sent (the submitter checks it saw them all). */
  readonly sent: number;
  /** The worker's signature, with a queue secret. */
  readonly sig?: string;
}

/** A progress message: numbered output chunks (`0` stdout, `1` stderr; base64). */
interface JobProgress {
  readonly seq: number;
  readonly c: ReadonlyArray<readonly [0 | 1, string]>;
  /** The worker's signature, with a queue secret. */
  readonly sig?: string;
}

const STALLED = 'stalled more than allowable limit';
const MAX_STDIN = 16 * 1024 * 1024;
const KEEP = { age: 24 * 3600, count: 100_000 };

/**
 * The ioredis connection options a {@link QueueConfig} stands for (host, port, database, ACL
 * user, password, TLS for `rediss://`). Throws a TypeError for a URL that is not `redis://` or
 * `rediss://`, or that holds a password.
 *
 * @example
 * ```ts
 * import { redisOptions } from 'rxssh/queue';
 *
 * redisOptions({ url: 'rediss://ops@redis.internal:6380/2', password: process.env.REDIS_PASSWORD });
 * // { host: 'redis.internal', port: 6380, db: 2, username: 'ops', password: '…', tls: { servername: 'redis.internal' }, … }
 * ```
 */
export function redisOptions(queue: QueueConfig): Record<string, unknown> {
  let url: URL;
  try {
    url = new URL(queue.url);
  } catch {
    throw new TypeError(`queue url ${JSON.stringify(queue.url)}: expected redis://host[:port][/db] or rediss://...`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new TypeError(`queue url ${JSON.stringify(queue.url)}: expected redis:// or rediss://`);
  if (url.password) throw new TypeError('queue url: no password in the URL (it would show in `ps` and logs); give it as `password`');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new TypeError(`queue url ${JSON.stringify(queue.url)}: the path is a database number`);
  const username = queue.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: url.port ? Number(url.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(username ? { username } : {}),
    ...(queue.password !== undefined ? { password: queue.password } : {}),
    // SNI carries names only (RFC 6066): an address is checked against the certificate's IP SANs.
    ...(url.protocol === 'rediss:' ? { tls: { ...(isIP(host) ? {} : { servername: host }), ...queue.tls } } : {}),
    maxRetriesPerRequest: null,
    // Keep reconnecting (BullMQ's clients); the health check decides when Redis is gone.
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

/**
 * The options of one run's (or worker's) Redis clients, and a switch that stops their
 * reconnecting: thrown when the run ends or Redis is declared gone, so that no client keeps a
 * reconnect timer (and the process) alive.
 */
function connectionFor(queue: QueueConfig): { options: Record<string, unknown>; stopReconnecting: () => void } {
  let stopped = false;
  return {
    options: { ...redisOptions(queue), retryStrategy: (times: number) => (stopped ? null : Math.min(100 * times, 1000)) },
    stopReconnecting: () => {
      stopped = true;
    },
  };
}

/** The queue's shared secret as bytes, checked (at least 16 bytes). @internal */
export function queueSecret(queue: QueueConfig): Buffer | undefined {
  if (queue.secret === undefined) return undefined;
  const secret = typeof queue.secret === 'string' ? Buffer.from(queue.secret, 'utf8') : Buffer.from(queue.secret);
  if (secret.length < 16) throw new TypeError('queue secret: at least 16 bytes');
  return secret;
}

/** The BullMQ queue name and Redis key prefix of a run (see {@link queueNames}). */
export interface QueueNames {
  /** The BullMQ queue name (`QueueConfig.name`, default `rxssh`). */
  readonly name: string;
  /** The Redis key prefix (`QueueConfig.prefix`, default `rxssh`). */
  readonly prefix: string;
}

/**
 * The BullMQ queue name and Redis key prefix a run uses (default `rxssh` and `rxssh`), checked:
 * throws TypeError for an empty name or one with `:`. The keys of a run live under
 * `PREFIX:NAME:*` in Redis.
 *
 * @example
 * ```ts
 * import { queueNames } from 'rxssh/queue';
 *
 * queueNames({ url: 'redis://127.0.0.1:6379', name: 'deploys' }); // { name: 'deploys', prefix: 'rxssh' }
 * ```
 */
export function queueNames(queue: QueueConfig): QueueNames {
  const name = queue.name ?? 'rxssh';
  const prefix = queue.prefix ?? 'rxssh';
  if (name.includes(':') || name === '') throw new TypeError('queue name: not empty, no ":"');
  return { name, prefix };
}

/** bullmq and ioredis, the queue's optional peers: loaded when a run or a worker starts. */
function queuePeers() {
  return Promise.all([loadPeer('bullmq', 'rxssh/queue', () => import('bullmq')), loadPeer('ioredis', 'rxssh/queue', () => import('ioredis'))]);
}

/** Pings Redis every second; calls `onDown` with a QueueError once it has been unreachable for `after` ms. */
class Health {
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #stopListening: () => void;
  #lastOk = Date.now();
  /** The last error the client saw (a refused connection, a certificate, WRONGPASS). */
  lastError: unknown;

  constructor(client: Redis, after: number, what: string, onDown: (err: QueueError) => void) {
    const onError = (err: unknown): void => {
      this.lastError = err;
    };
    client.on('error', onError);
    this.#stopListening = () => client.off('error', onError);
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastOk > after) {
        this.stop();
        onDown(new QueueError(`${what}: Redis has been unreachable for ${Math.round(after / 1000)} s${this.lastError instanceof Error ? ` (${this.lastError.message})` : ''}`, { host: '*', port: 0, phase: 'connection', cause: this.lastError }));
        return;
      }
      client.ping().then(
        () => {
          this.#lastOk = Date.now();
        },
        (err: unknown) => {
          this.lastError ??= err;
        },
      );
    }, Math.min(1000, Math.max(100, after / 4)));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#stopListening();
  }
}

/** A BullMQ object's or client's end: close, but never wait longer than a moment each way (Redis may be gone). */
async function shut(closable: { close(): Promise<unknown>; disconnect?(): Promise<unknown> } | { quit(): Promise<unknown>; disconnect(): void } | undefined): Promise<void> {
  if (!closable) return;
  const within = async (work: () => unknown): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 1000)));
    const done = Promise.resolve()
      .then(work)
      .then(
        () => true,
        () => false,
      );
    const ok = await Promise.race([done, late]);
    clearTimeout(timer);
    return ok;
  };
  if (await within(() => ('close' in closable ? closable.close() : closable.quit()))) return;
  await within(() => closable.disconnect?.());
}

/** The job id of a host in a run: readable, and the same for the same run and host. */
function jobIdOf(runId: string, label: string, occurrence: number): string {
  return `${runId}/${encodeURIComponent(label)}${occurrence > 1 ? `#${occurrence}` : ''}`;
}

/** What a submitter watches for one job. */
interface Watcher {
  /** The job id was there already (the same run id submitted again): it may have ended. */
  duplicated(): void;
  progress(data: unknown): void;
  completed(value: unknown): void;
  failed(reason: string): void;
  broken(err: QueueError): void;
  /** Whether its job reached Redis (only then can it vanish). */
  submitted(): boolean;
  /** Its job is no longer in Redis (restarted empty, failed over, flushed). */
  vanished(): void;
}

/**
 * Runs `job` on every target through a BullMQ queue in Redis: one job per host (id
 * `RUNID/host`), taken by `rxssh worker` processes (or {@link queueWorker}) that connect with
 * their own credentials. It behaves as {@link fanOut} does (and is built on it): exactly one
 * result per host, `lines$` and `progress$` live (output streams back as job progress), the
 * per-host `timeout` and the global `deadline`, and cancel: unsubscribing or `signal` removes
 * the waiting jobs and stops the running ones (their remote commands are signalled).
 *
 * @remarks
 * - **Never twice by accident**: a worker that dies mid-command leaves its job without a lock;
 *   the job fails as stalled (BullMQ `maxStalledCount: 0`, checked by this run and by the
 *   workers) and the host ends `lost` ({@link WorkerLostError}), unless `retryLost` is set.
 *   Submitting the same `runId` again joins the jobs already there (their status and exit
 *   code; their output went to the first submitter).
 * - **Redis going away**: after `queue.unavailableAfter` ms every host without a result ends
 *   `lost` with a {@link QueueError}; what finished is kept.
 * - **Output**: each stream is sent up to `capture` bytes (and one more, so that `truncated`
 *   is right); `lines$` carries the lines of that.
 * - bullmq and ioredis are loaded when the run starts.
 *
 * @example
 * ```ts
 * import { fanOutOnQueue } from 'rxssh/queue';
 *
 * const run$ = fanOutOnQueue(['web1', 'web2'], { command: 'uptime' }, { queue: { url: 'redis://127.0.0.1:6379', password: process.env.REDIS_PASSWORD } });
 * run$.lines$.subscribe((l) => console.log(`${l.host}: ${l.line}`));
 * run$.subscribe((r) => console.log(r.host, r.status));
 * ```
 */
export function fanOutOnQueue(targets: Iterable<FanOutTarget | string>, job: QueueJob, config: QueueFanOutConfig): FanOut<ExecChunk> {
  if (typeof job?.command !== 'string' || job.command === '') throw new TypeError('fanOutOnQueue(): the job needs a command');
  const stdin = job.stdin === undefined ? undefined : toBuffer(job.stdin);
  if (stdin && stdin.length > MAX_STDIN) throw new RangeError('fanOutOnQueue(): stdin is larger than 16 MiB');
  const runId = config.runId ?? randomBytes(6).toString('hex');
  if (runId === '' || runId.includes(':')) throw new TypeError('fanOutOnQueue(): runId must be non-empty and have no ":"');
  const { name, prefix } = queueNames(config.queue);
  const secret = queueSecret(config.queue);
  redisOptions(config.queue); // a bad URL throws here, not at subscribe
  const list = [...targets].map((t) => (typeof t === 'string' ? parseHostSpec(t) : t));
  const fanOutConfig: FanOutConfig = { ...config, concurrency: config.concurrency ?? 1000, retries: 0 };
  const timeout = config.timeout ?? 60_000;
  const capture = config.capture ?? 1024 * 1024;
  const base: Omit<JobData, 'target'> = {
    v: 1,
    runId,
    command: job.command,
    ...(stdin ? { stdin: stdin.toString('base64') } : {}),
    ...(job.env ? { env: job.env } : {}),
    ...(job.pty ? { pty: true } : {}),
    ...(job.user ? { user: job.user } : {}),
    timeout,
    capture,
    retries: config.retries ?? 5,
  };

  const events$ = defer(() => from(queuePeers())).pipe(
    switchMap(([bullmq, { Redis: RedisClient, AbstractConnector }]) => {
      const { options: redisBase, stopReconnecting } = connectionFor(config.queue);
      const connection = { ...redisBase, Connector: guardedConnector(AbstractConnector) };
      const watchers = new Map<string, Watcher>();
      const seen = new Map<string, number>();
      const queue: Queue = new bullmq.Queue(name, { connection, prefix });
      // The stall check runs here too, so that a host is reported lost even when every worker is gone.
      const checker: Worker = new bullmq.Worker(name, null, { connection, prefix, autorun: false, maxStalledCount: 0, stalledInterval: config.stalledInterval ?? 5000 });
      const monitor: Redis = new RedisClient({ ...connection, maxRetriesPerRequest: 1 } as RedisOptions);
      // Redis errors: the health check reports them.
      queue.on('error', () => undefined);
      checker.on('error', () => undefined);
      monitor.on('error', () => undefined);
      let broken: QueueError | undefined;
      const health = new Health(monitor, config.queue.unavailableAfter ?? 10_000, `queue ${name}`, (err) => {
        broken = err;
        for (const w of [...watchers.values()]) w.broken(err);
      });
      const cancelKey = `${prefix}:${name}:rxssh:cancelled`;
      const cancel = (jobId: string): void => {
        if (broken) return;
        // Workers check the set before they start a job and hear the message while it runs.
        void monitor.multi().sadd(cancelKey, jobId).expire(cancelKey, KEEP.age).publish(`${prefix}:${name}:rxssh:cancel`, jobId).exec().catch(() => undefined);
        void queue.remove(jobId).catch(() => undefined); // a waiting job; an active one is locked
      };
      // Events are read from the Redis server's "now" on: reading from "$" would miss what
      // happens between the reader's start and its first XREAD (a quick job's whole life).
      let queueEvents: QueueEvents | undefined;
      const ready = monitor
        .time()
        .then(([seconds, micros]) => {
          const events: QueueEvents = new bullmq.QueueEvents(name, { connection, prefix, lastEventId: `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)}-0` });
          queueEvents = events;
          events.on('error', () => undefined);
          events.on('duplicated', ({ jobId }) => watchers.get(jobId)?.duplicated());
          events.on('progress', ({ jobId, data }) => watchers.get(jobId)?.progress(data));
          events.on('completed', ({ jobId, returnvalue }) => watchers.get(jobId)?.completed(returnvalue));
          events.on('failed', ({ jobId, failedReason }) => watchers.get(jobId)?.failed(failedReason));
          return Promise.all([events.waitUntilReady(), queue.waitUntilReady()]);
        })
        .then(() => {
          void checker.startStalledCheckTimer().catch(() => undefined);
        });
      ready.catch(() => undefined); // each submission reports it; the health check too
      // A job can vanish without an event (a Redis restarted empty, a failover, FLUSHALL): look
      // for each submitted job now and then; a missing one ends its host as lost.
      const vanishCheck = setInterval(() => {
        const watched = [...watchers].filter(([, w]) => w.submitted());
        if (watched.length === 0 || broken) return;
        const pipeline = monitor.pipeline();
        for (const [id] of watched) pipeline.exists(`${prefix}:${name}:${id}`);
        pipeline.exec().then(
          (answers) => {
            answers?.forEach(([err, found], i) => {
              const [id, w] = watched[i] as [string, Watcher];
              if (!err && found === 0 && watchers.get(id) === w) w.vanished();
            });
          },
          () => undefined, // Redis unreachable: the health check reports it
        );
      }, config.stalledInterval ?? 5000);

      const project = (target: LabelledTarget): Observable<ExecChunk> => {
        const occurrence = (seen.get(target.label) ?? 0) + 1;
        seen.set(target.label, occurrence);
        const firstId = jobIdOf(runId, target.label, occurrence);
        return new Observable<ExecChunk>((subscriber) => {
          let jobId = firstId;
          let ended = false;
          let received = 0;
          let forged = 0;
          let retried = false;
          let submitted = false;
          const where = { host: target.host, port: target.port ?? 22 };
          const end = (err?: unknown): void => {
            if (ended) return;
            ended = true;
            watchers.delete(jobId);
            if (err === undefined) subscriber.complete();
            else subscriber.error(err);
          };
          const submit = (id: string): void => {
            jobId = id;
            watchers.set(id, watcher);
            ready
              .then(() => {
                const data: JobData = { ...base, target };
                const signed: JobData = secret ? { ...data, sig: signQueued(secret, 'job', id, data) } : data;
                return queue.add('host', signed, { jobId: id, attempts: 1, removeOnComplete: KEEP, removeOnFail: KEEP });
              })
              .then(() => {
                submitted = true;
              })
              .catch((err: unknown) => {
                // The client's own error says why (a certificate, WRONGPASS) better than the command's.
                const why = health.lastError instanceof Error ? health.lastError : err;
                if (!ended && !broken) end(new QueueError(`the job ${id} was never submitted: ${(why as Error).message}`, { ...where, phase: 'connection', cause: why }));
              });
          };
          const watcher: Watcher = {
            duplicated: () => {
              const id = jobId;
              void bullmq.Job.fromId(queue, id).then(async (existing) => {
                const state = await existing?.getState();
                if (ended || jobId !== id || !existing) return;
                // A run id joins only the same job: another command (or host, stdin, env) under
                // it is an error, never the old job's result reported for a command that never ran.
                const differs = jobDifference(existing.data, { ...base, target }, secret && { secret, id });
                if (differs) {
                  return end(new QueueError(`run id ${runId} already holds job ${id} with another ${differs}: a run id joins only the same host, command, stdin and env (use a new run id)`, { ...where, phase: 'connection' }));
                }
                if (state === 'completed') watcher.completed(existing.returnvalue);
                else if (state === 'failed') watcher.failed(existing.failedReason ?? 'failed');
              }, () => undefined);
            },
            progress: (data) => {
              const p = data as JobProgress;
              if (typeof p !== 'object' || p === null || !Array.isArray(p.c)) return;
              if (secret && !verifyQueued(secret, 'progress', jobId, unsigned(p), p.sig)) {
                forged++; // dropped, and the host fails when it ends
                return;
              }
              received++;
              for (const [stream, text] of p.c) subscriber.next({ stream: stream === 0 ? 'stdout' : 'stderr', data: Buffer.from(text, 'base64') });
            },
            completed: (value) => {
              const r = (typeof value === 'string' ? JSON.parse(value) : value) as JobReturn | undefined;
              if (!r || typeof r.status !== 'string') return end(new QueueError(`job ${jobId} ended without a result`, { ...where, phase: 'connection' }));
              if (secret && !verifyQueued(secret, 'result', jobId, unsigned(r), r.sig)) {
                return end(new QueueError(`job ${jobId}: its result is unsigned or wrongly signed (a worker without this queue's secret, or written by someone else); dropped`, { ...where, phase: 'connection' }));
              }
              if (forged > 0) {
                return end(new QueueError(`job ${jobId}: ${forged} output message(s) were unsigned or wrongly signed; dropped`, { ...where, phase: 'connection' }));
              }
              if (received < r.sent) {
                return end(new QueueError(`job ${jobId}: ${r.sent - received} of its ${r.sent} output message(s) did not arrive (a run id submitted again, or the event stream was trimmed); it ended ${r.status}`, { ...where, phase: 'connection' }));
              }
              if (r.error) return end(reviveError(r.error));
              if (r.status !== 'ok') subscriber.next({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: r.exitCode, signal: r.signal } as unknown as ExecChunk);
              end();
            },
            failed: (reason) => {
              if (reason.includes(STALLED)) {
                if (config.retryLost && !retried) {
                  retried = true;
                  watchers.delete(jobId);
                  received = 0;
                  return submit(`${firstId}~retry`);
                }
                return end(new WorkerLostError(`the worker running ${target.label} stopped renewing its job's lock (it died or lost Redis); the command may have run and is not run again`, { ...where, phase: 'connection' }));
              }
              end(new QueueError(`job ${jobId} failed on its worker: ${reason}`, { ...where, phase: 'connection' }));
            },
            broken: (err) => end(new QueueError(`${err.message}; ${target.label} has no result (${submitted ? 'its command may have run' : 'its job was never submitted'})`, { ...where, phase: 'connection', cause: err })),
            submitted: () => submitted,
            vanished: () => end(new QueueError(`job ${jobId} vanished from Redis (restarted empty, failed over or flushed); ${target.label} has no result and its command may have run`, { ...where, phase: 'connection' })),
          };
          if (broken) watcher.broken(broken);
          else submit(firstId);
          return () => {
            watchers.delete(jobId);
            if (!ended) cancel(jobId);
            ended = true; // a submission or lookup still under way reports to no one
          };
        });
      };
      return fanOut<ExecChunk>(list, project, fanOutConfig).events$.pipe(
        finalize(() => {
          clearInterval(vanishCheck);
          health.stop();
          stopReconnecting();
          void Promise.all([shut({ close: () => checker.close(true), disconnect: () => checker.disconnect() }), shut(queueEvents), shut(queue)]).then(() => shut(monitor));
        }),
      );
    }),
    share(),
  );
  return FanOut.create<ExecChunk>(events$ as Observable<FanOutEvent<ExecChunk>>);
}

/** What differs between a job found in Redis and the one this run would submit (`command`, `env`, …), or undefined. */
function jobDifference(found: unknown, wanted: JobData, signing?: { readonly secret: Buffer; readonly id: string } | undefined): string | undefined {
  let existing: JobData;
  try {
    existing = parseJobData(found);
  } catch {
    return 'shape (not a job of this format)';
  }
  if (signing && !verifyQueued(signing.secret, 'job', signing.id, unsigned(existing), existing.sig)) return 'signature (not signed with this queue secret)';
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const sorted = (env: Readonly<Record<string, string>> | undefined) => (env ? Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)) : null);
  const fields: Array<[string, unknown, unknown]> = [
    ['host', [existing.target.host, existing.target.port ?? 22, existing.target.username ?? null], [wanted.target.host, wanted.target.port ?? 22, wanted.target.username ?? null]],
    ['command', existing.command, wanted.command],
    ['stdin', existing.stdin, wanted.stdin],
    ['env', sorted(existing.env), sorted(wanted.env)],
    ['pty', existing.pty === true, wanted.pty === true],
    ['user', existing.user, wanted.user],
  ];
  const differing = fields.filter(([, a, b]) => !same(a, b)).map(([name]) => name);
  return differing.length ? differing.join(', ') : undefined;
}

/**
 * One host of a queued run, as a worker runs it: `(target, job)` to an Observable of exec chunks
 * (usually a connection made with the worker's own credentials, then `exec(job.command, …)`).
 *
 * @example
 * ```ts
 * const pipeline: QueueHostPipeline = (t, job) =>
 *   connect({ host: t.host, port: t.port ?? 22, username: job.user ?? 'ops' }).pipe(verifyHostKey(knownHosts()), authenticate(agent()), exec(job.command, { env: job.env }));
 * ```
 */
export type QueueHostPipeline = (target: LabelledTarget, job: QueueJob & { readonly stdin?: Uint8Array }) => Observable<ExecChunk>;

/**
 * Options of {@link queueWorker}.
 *
 * @example
 * ```ts
 * const config: QueueWorkerConfig = { queue: { url: 'redis://10.1.0.5:6379' }, concurrency: 200, name: 'runner-eu-1' };
 * ```
 */
export interface QueueWorkerConfig {
  /** The queue. */
  readonly queue: QueueConfig;
  /** Hosts this worker runs at once (default 32). */
  readonly concurrency?: number;
  /** This worker's name, stored on every job it takes (default: host name and pid). */
  readonly name?: string;
  /**
   * How long a job's lock lasts without renewal (ms, default 30 000; renewed at half of it).
   * A worker that dies is noticed this long after, plus a stall check.
   */
  readonly lockDuration?: number;
  /** How often this worker checks for stalled jobs (ms, default 5 000). */
  readonly stalledInterval?: number;
  /** Told about every job this worker takes, ends or refuses (for logs). */
  readonly onJob?: (event: QueueWorkerEvent) => void;
  /**
   * The hosts this worker may run jobs for (an allow-list): a job for any other target is
   * refused before anything is done with it. Default: every host this worker can reach.
   */
  readonly allowHosts?: (target: LabelledTarget) => boolean;
}

/**
 * A job a worker took or ended.
 *
 * @example
 * ```ts
 * queueWorker(pipeline, { queue, onJob: (e) => console.error(e.type, e.host, e.status ?? '') });
 * ```
 */
export interface QueueWorkerEvent {
  /** The worker took the job, or finished it. */
  readonly type: 'started' | 'ended' | 'refused';
  /** The job's id (`RUNID/host`). */
  readonly jobId: string;
  /** The host's label (for a refused job, as the job claims it). */
  readonly host: string;
  /** For `ended`: the host's status. */
  readonly status?: HostStatus;
  /** For `refused`: why (not a job of this format, unsigned or wrongly signed, a host outside `allowHosts`). */
  readonly reason?: string;
}

/**
 * A running queue worker: {@link queueWorker}'s handle.
 *
 * @example
 * ```ts
 * const worker = queueWorker(pipeline, { queue });
 * process.once('SIGTERM', () => void worker.close());
 * await worker.closed; // rejects with a QueueError if Redis went away
 * ```
 */
export interface QueueWorker {
  /** Resolves when the worker has closed; rejects with a {@link QueueError} when Redis stayed unreachable. */
  readonly closed: Promise<void>;
  /** Resolves once connected and taking jobs. */
  readonly ready: Promise<void>;
  /** Stops taking jobs, lets the running ones finish (`{ cancel: true }`: stops them), then closes. */
  close(options?: { readonly cancel?: boolean }): Promise<void>;
}

/**
 * Takes host jobs from a BullMQ queue and runs each through `pipeline`, with this process's own
 * credentials: no secret is ever read from Redis. Output streams back as job progress; the end
 * (status, exit code, the error as data) is the job's return value. A job cancelled by its
 * submitter is unsubscribed (its remote command is signalled). Retries of connections dropped
 * before the handshake and the job's per-host timeout are applied here, as `fanOut` applies them.
 *
 * @remarks
 * Jobs run with BullMQ's `maxStalledCount: 0`: if this process dies mid-command its jobs fail as
 * stalled and are reported `lost`, never run again by another worker. When Redis stays
 * unreachable for `queue.unavailableAfter` ms the running jobs are stopped (nobody could collect
 * their results) and `closed` rejects with a {@link QueueError}.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, knownHosts, authenticate, agent, exec } from 'rxssh';
 * import { queueWorker } from 'rxssh/queue';
 *
 * const worker = queueWorker((t, job) =>
 *   connect({ host: t.host, port: t.port ?? 22, username: t.username ?? job.user ?? 'ops' }).pipe(
 *     verifyHostKey(knownHosts()), authenticate(agent()), exec(job.command, { stdin: job.stdin ? [job.stdin] : [] })),
 *   { queue: { url: 'redis://127.0.0.1:6379' }, concurrency: 100 });
 * await worker.closed;
 * ```
 */
export function queueWorker(pipeline: QueueHostPipeline, config: QueueWorkerConfig): QueueWorker {
  if (typeof pipeline !== 'function') throw new TypeError('queueWorker(): pipeline must be a function');
  const { options: redisBase, stopReconnecting } = connectionFor(config.queue);
  const { name, prefix } = queueNames(config.queue);
  const guard = { secret: queueSecret(config.queue), allowHosts: config.allowHosts };
  const concurrency = config.concurrency ?? 32;
  checkNumber('queueWorker(): concurrency', concurrency, POSITIVE_INTEGER);
  const running = new Map<string, Subscription>();
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  let rejectClosed!: (err: unknown) => void;
  const closed = new Promise<void>((resolve, reject) => {
    resolveClosed = resolve;
    rejectClosed = reject;
  });
  let shutdown: (cancel: boolean, err?: QueueError) => Promise<void> = () => Promise.resolve();
  const ready = queuePeers().then(async ([bullmq, { Redis: RedisClient, AbstractConnector }]) => {
    const connection = { ...redisBase, Connector: guardedConnector(AbstractConnector) };
    const monitor: Redis = new RedisClient({ ...connection, maxRetriesPerRequest: 1 } as RedisOptions);
    const listener: Redis = new RedisClient({ ...connection } as RedisOptions);
    for (const c of [monitor, listener]) c.on('error', () => undefined);
    const cancelKey = `${prefix}:${name}:rxssh:cancelled`;
    const processor = (job: Job<JobData>, _token: string | undefined, signal: AbortSignal | undefined): Promise<JobReturn> =>
      runJob(job, signal, pipeline, running, monitor, cancelKey, config.onJob, guard);
    const worker: Worker<JobData, JobReturn> = new bullmq.Worker<JobData, JobReturn>(name, processor, {
      connection,
      prefix,
      concurrency,
      maxStalledCount: 0,
      lockDuration: config.lockDuration ?? 30_000,
      stalledInterval: config.stalledInterval ?? 5000,
      ...(config.name ? { name: config.name } : {}),
    });
    worker.on('error', () => undefined); // Redis errors: the health check reports them
    await listener.subscribe(`${prefix}:${name}:rxssh:cancel`);
    listener.on('message', (_channel: string, jobId: string) => {
      running.get(jobId)?.unsubscribe();
      worker.cancelJob(jobId, 'cancelled by the submitter');
    });
    const health = new Health(monitor, config.queue.unavailableAfter ?? 10_000, `queue worker ${config.name ?? ''}`.trim(), (err) => void shutdown(true, err));
    shutdown = (cancel, err) => {
      closing ??= (async () => {
        health.stop();
        if (err) stopReconnecting();
        if (cancel) for (const sub of running.values()) sub.unsubscribe();
        await (err ? shut({ close: () => worker.close(true), disconnect: () => worker.disconnect() }) : worker.close(cancel));
        stopReconnecting();
        await Promise.all([shut(listener), shut(monitor)]);
        if (err) rejectClosed(err);
        else resolveClosed();
      })();
      return closing;
    };
    await worker.waitUntilReady();
  });
  ready.catch((err: unknown) => rejectClosed(err));
  return {
    closed,
    ready,
    close: async (options) => {
      await ready.catch(() => undefined);
      await shutdown(options?.cancel === true);
    },
  };
}

/** One job on a worker: the host's pipeline through a one-host `fanOut` (retries, timeout), output sent as progress. */
async function runJob(
  job: Job<JobData>,
  signal: AbortSignal | undefined,
  pipeline: QueueHostPipeline,
  running: Map<string, Subscription>,
  monitor: Redis,
  cancelKey: string,
  onJob: QueueWorkerConfig['onJob'],
  guard: { readonly secret: Buffer | undefined; readonly allowHosts: QueueWorkerConfig['allowHosts'] },
): Promise<JobReturn> {
  const jobId = job.id ?? '';
  const refuse = (reason: string): never => {
    const claimed = (job.data as { target?: { label?: unknown } } | undefined)?.target?.label;
    onJob?.({ type: 'refused', jobId, host: typeof claimed === 'string' ? claimed : '?', reason });
    throw new Error(`refused: ${reason}`);
  };
  // Job data is data: anyone who can write to Redis wrote it (see parseJobData).
  let data: JobData;
  try {
    data = parseJobData(job.data);
  } catch (err) {
    return refuse((err as Error).message);
  }
  if (guard.secret && !verifyQueued(guard.secret, 'job', jobId, unsigned(data), data.sig)) refuse('the job is unsigned or wrongly signed (not from a submitter with this queue secret)');
  if (guard.allowHosts && !guard.allowHosts(data.target)) refuse(`${data.target.host} is outside this worker's allowed hosts`);
  if ((await monitor.sismember(cancelKey, jobId)) === 1) throw new Error('cancelled by the submitter before it started');
  onJob?.({ type: 'started', jobId, host: data.target.label });
  const sender = new ProgressSender(job, data.capture, guard.secret);
  const stdin = data.stdin === undefined ? undefined : Buffer.from(data.stdin, 'base64');
  const jobView = { command: data.command, ...(stdin ? { stdin } : {}), ...(data.env ? { env: data.env } : {}), ...(data.pty ? { pty: true } : {}), ...(data.user ? { user: data.user } : {}) };
  const result = await new Promise<JobReturn>((resolve) => {
    const run$ = fanOut([data.target], (t) => pipeline(t, jobView).pipe(tap((chunk) => sender.push(chunk))), {
      concurrency: 1,
      timeout: data.timeout,
      retries: data.retries,
      capture: 0,
      ...(signal ? { signal } : {}),
    });
    const sub = run$.subscribe((r) =>
      resolve({ status: r.status, exitCode: r.exitCode, signal: r.signal, error: r.error === undefined ? null : encodeError(r.error), sent: 0 }),
    );
    running.set(jobId, sub);
    // Cancelled (unsubscribed) before a result: the host ends cancelled.
    sub.add(() => resolve({ status: 'cancelled', exitCode: null, signal: null, error: null, sent: 0 }));
  });
  running.delete(jobId);
  const sent = await sender.end();
  onJob?.({ type: 'ended', jobId, host: data.target.label, status: result.status });
  const done: JobReturn = { ...result, sent };
  return guard.secret ? { ...done, sig: signQueued(guard.secret, 'result', jobId, done) } : done;
}

/**
 * Sends a job's output as progress messages, in order (one at a time), batched every 50 ms or
 * 256 KiB; each stream up to `capture` bytes and one more (the submitter then marks it truncated).
 */
class ProgressSender {
  #pending: Array<readonly [0 | 1, string]> = [];
  #pendingBytes = 0;
  #sent = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #left: [number, number];

  constructor(
    readonly job: Job<JobData>,
    capture: number,
    readonly secret?: Buffer,
  ) {
    this.#left = [capture + 1, capture + 1];
  }

  push(chunk: ExecChunk): void {
    const stream = chunk.stream === 'stdout' ? 0 : 1;
    const n = Math.min(chunk.data.length, this.#left[stream]);
    if (n <= 0) return;
    this.#left[stream] -= n;
    this.#pending.push([stream, toBuffer(chunk.data).toString('base64', 0, n)]);
    this.#pendingBytes += n;
    if (this.#pendingBytes >= 256 * 1024) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), 50);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const body: JobProgress = { seq: this.#sent++, c: this.#pending };
    const message: JobProgress = this.secret ? { ...body, sig: signQueued(this.secret, 'progress', this.job.id ?? '', body) } : body;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#chain = this.#chain.then(() => this.job.updateProgress(message as unknown as object)).catch(() => undefined);
  }

  /** Flushes what is left; resolves with the number of messages sent. */
  async end(): Promise<number> {
    this.#flush();
    await this.#chain;
    return this.#sent;
  }
}
