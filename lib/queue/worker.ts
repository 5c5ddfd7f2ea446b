/**
 * The runner: `queueWorker` (and `rxssh worker`) takes jobs from the queue and runs each host's
 * pipeline with its own credentials, sending output as progress and the result as the job's
 * return value.
 */
import type { Job, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { type Observable, tap, type Subscription } from 'rxjs';
import type { ExecChunk } from '../channel/channel.js';
import { type QueueError } from '../errors.js';
import { fanOut, type HostStatus } from '../fleet/fan-out.js';
import { type LabelledTarget } from '../config/target.js';
import { guardedConnector } from './redis-connector.js';
import { encodeError } from '../fleet/worker-wire.js';
import { toBuffer } from '../util/bytes.js';
import { parseJobData, type JobData } from './job.js';
import { signQueued, unsigned, verifyQueued } from './signing.js';
import { checkNumber, checkOptions, optionNames, POSITIVE_INTEGER } from '../util/check.js';
import { QUEUE_NAMES, type QueueConfig, type QueueJob } from './config.js';
import { type JobReturn, type JobProgress } from './wire.js';
import { connectionFor, queueSecret, queueNames, queuePeers, Health, shut } from './redis.js';

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

const QUEUE_WORKER_NAMES = optionNames<QueueWorkerConfig>()(['queue', 'concurrency', 'name', 'lockDuration', 'stalledInterval', 'onJob', 'allowHosts']);

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
// eslint-disable-next-line max-lines-per-function -- Long by design: every resource the worker opens is closed by its one shutdown.
export function queueWorker(pipeline: QueueHostPipeline, config: QueueWorkerConfig): QueueWorker {
  if (typeof pipeline !== 'function') throw new TypeError('queueWorker(): pipeline must be a function');
  checkOptions('queueWorker()', config, QUEUE_WORKER_NAMES);
  checkOptions('queueWorker(): queue', config?.queue, QUEUE_NAMES.queue);
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
export async function runJob(
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
  const jobView = { command: data.command, ...(stdin ? { stdin } : {}), ...(data.env ? { env: data.env } : {}), ...(data.pty ? { pty: true } : {}), ...(data.user ? { user: data.user } : {}), ...(data.become ? { become: data.become } : {}) };
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
export class ProgressSender {
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
