/**
 * A submitter's hold on the queue for one run: the BullMQ queue it adds jobs to, a stall checker
 * (so a host is reported lost even when every worker is gone), the event reader (from the Redis
 * server's "now": reading from "$" would miss a quick job's whole life), a health check, a
 * periodic look for jobs that vanished without an event, and cancellation. One `Watcher` per
 * job hears what happens to it.
 */
import type { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { QueueError } from '../errors.js';
import { guardedConnector } from './redis-connector.js';
import type { QueueFanOutConfig } from './config.js';
import { KEEP } from './wire.js';
import { connectionFor, Health, shut, type QueueNames, type QueuePeers } from './redis.js';

/** What a submitter watches for one job. */
export interface Watcher {
  /** The job id was there already (the same run id submitted again): it may have ended. */
  duplicated(): void;
  progress(data: unknown): void;
  completed(value: unknown): void;
  failed(reason: string): void;
  /** Its job stalled: its worker stopped renewing the lock (died, stopped, lost Redis). */
  stalled(): void;
  broken(err: QueueError): void;
  /** Whether its job reached Redis (only then can it vanish). */
  submitted(): boolean;
  /** Its job is no longer in Redis (restarted empty, failed over, flushed). */
  vanished(): void;
}

/** The run's queue, as its host jobs use it. */
export interface QueueRun {
  readonly bullmq: QueuePeers[0];
  readonly queue: Queue;
  /** Job id → who hears of that job. */
  readonly watchers: Map<string, Watcher>;
  /** Settles once the event reader and the queue are ready (jobs are added after it). */
  readonly ready: Promise<unknown>;
  readonly health: Health;
  /** Why Redis is given up on, once it is. */
  readonly broken: QueueError | undefined;
  /** Takes a job back: removed if waiting, told to stop if running. */
  cancel(jobId: string): void;
  /** Lets go of Redis: timers, the checker, the event reader, the queue, the monitor. */
  close(): void;
}

/** Opens the queue side of a run. */
// eslint-disable-next-line max-lines-per-function -- Long by design: every Redis resource it opens is let go by the one close it returns.
export function openQueueRun([bullmq, { Redis: RedisClient, AbstractConnector }]: QueuePeers, config: QueueFanOutConfig, { name, prefix }: QueueNames): QueueRun {
  const { options: redisBase, stopReconnecting } = connectionFor(config.queue);
  const connection = { ...redisBase, Connector: guardedConnector(AbstractConnector) };
  const watchers = new Map<string, Watcher>();
  const queue: Queue = new bullmq.Queue(name, { connection, prefix });
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
      events.on('stalled', ({ jobId }) => watchers.get(jobId)?.stalled());
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
  return {
    bullmq,
    queue,
    watchers,
    ready,
    health,
    get broken() {
      return broken;
    },
    cancel: (jobId) => {
      if (broken) return;
      // Workers check the set before they start a job and hear the message while it runs.
      void monitor.multi().sadd(cancelKey, jobId).expire(cancelKey, KEEP.age).publish(`${prefix}:${name}:rxssh:cancel`, jobId).exec().catch(() => undefined);
      void queue.remove(jobId).catch(() => undefined); // a waiting job; an active one is locked
    },
    close: () => {
      clearInterval(vanishCheck);
      health.stop();
      stopReconnecting();
      void Promise.all([shut({ close: () => checker.close(true), disconnect: () => checker.disconnect() }), shut(queueEvents), shut(queue)]).then(() => shut(monitor));
    },
  };
}
