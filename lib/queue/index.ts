/**
 * `rxssh/queue`: a fleet run on a BullMQ queue in Redis. `fanOutOnQueue` submits one job per
 * host and follows their output and results; `queueWorker` (and `rxssh worker`) runs them on
 * other machines. Needs the optional peers `bullmq` and `ioredis`.
 *
 * @module rxssh/queue
 */
export type { QueueConfig, QueueJob, QueueFanOutConfig } from './config.js';
export { redisOptions, queueNames, type QueueNames } from './redis.js';
export { fanOutOnQueue } from './submit.js';
export { queueWorker, type QueueHostPipeline, type QueueWorkerConfig, type QueueWorkerEvent, type QueueWorker } from './worker.js';
