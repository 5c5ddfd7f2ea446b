/**
 * The submitter: `fanOutOnQueue` puts one job per host on the queue and follows each job's
 * output and result, as the same `FanOut` an in-process run gives.
 */
import { randomBytes } from 'node:crypto';
import type { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { defer, finalize, from, Observable, share, switchMap } from 'rxjs';
import type { ExecChunk } from '../channel/channel.js';
import { QueueError, WorkerLostError } from '../errors.js';
import { FanOut, fanOut, type FanOutConfig, type FanOutEvent } from '../fleet/fan-out.js';
import { parseHostSpec, type FanOutTarget, type LabelledTarget } from '../config/target.js';
import { guardedConnector } from './redis-connector.js';
import { reviveError } from '../fleet/worker-wire.js';
import { toBuffer } from '../util/bytes.js';
import { parseJobData, type JobData } from './job.js';
import { signQueued, unsigned, verifyQueued } from './signing.js';
import { type QueueJob, type QueueFanOutConfig } from './config.js';
import { type JobReturn, type JobProgress, STALLED, MAX_STDIN, KEEP } from './wire.js';
import { redisOptions, connectionFor, queueSecret, queueNames, queuePeers, Health, shut } from './redis.js';

/** The job id of a host in a run: readable, and the same for the same run and host. */
export function jobIdOf(runId: string, label: string, occurrence: number): string {
  return `${runId}/${encodeURIComponent(label)}${occurrence > 1 ? `#${occurrence}` : ''}`;
}

/** What a submitter watches for one job. */
export interface Watcher {
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
    ...(job.become ? { become: { method: job.become.method, user: job.become.user } } : {}),
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
export function jobDifference(found: unknown, wanted: JobData, signing?: { readonly secret: Buffer; readonly id: string } | undefined): string | undefined {
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
    ['become', existing.become, wanted.become],
  ];
  const differing = fields.filter(([, a, b]) => !same(a, b)).map(([name]) => name);
  return differing.length ? differing.join(', ') : undefined;
}
