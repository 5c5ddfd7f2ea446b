/**
 * `rxssh/queue`: a fleet run on a BullMQ queue in Redis. `fanOutOnQueue` submits one job per
 * host and follows their output and results; `queueWorker` (and `rxssh worker`) runs them on
 * other machines. Needs the optional peers `bullmq` and `ioredis`.
 *
 * @module rxssh/queue
 */
export {
  fanOutOnQueue,
  queueWorker,
  redisOptions,
  queueNames,
  type QueueNames,
  type QueueConfig,
  type QueueJob,
  type QueueFanOutConfig,
  type QueueHostPipeline,
  type QueueWorkerConfig,
  type QueueWorkerEvent,
  type QueueWorker,
} from './queue.js';
