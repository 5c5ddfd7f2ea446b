/**
 * The submitter: `fanOutOnQueue` puts one job per host on the queue and follows each job's
 * output and result, as the same `FanOut` an in-process run gives.
 */
import { randomBytes } from 'node:crypto';
import { defer, finalize, from, share, switchMap, type Observable } from 'rxjs';
import type { ExecChunk } from '../channel/channel.js';
import { FanOut, fanOut, type FanOutConfig, type FanOutEvent } from '../fleet/fan-out.js';
import { parseHostSpec, type FanOutTarget, type LabelledTarget } from '../config/target.js';
import { toBuffer } from '../util/bytes.js';
import type { JobData } from './job.js';
import { QUEUE_NAMES, type QueueJob, type QueueFanOutConfig } from './config.js';
import { checkOptions, pickOptions } from '../util/check.js';
import { FAN_OUT_NAMES } from '../fleet/types.js';
import { MAX_STDIN } from './wire.js';
import { redisOptions, queueSecret, queueNames, queuePeers } from './redis.js';
import { openQueueRun } from './submit-run.js';
import { hostJob, type HostJobContext } from './host-job.js';

/** The job id of a host in a run: readable, and the same for the same run and host. */
export function jobIdOf(runId: string, label: string, occurrence: number): string {
  return `${runId}/${encodeURIComponent(label)}${occurrence > 1 ? `#${occurrence}` : ''}`;
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
 *   workers) and the host ends `lost` (`WorkerLostError`), unless `retryLost` is set.
 *   Submitting the same `runId` again joins the jobs already there (their status and exit
 *   code; their output went to the first submitter).
 * - **Redis going away**: after `queue.unavailableAfter` ms every host without a result ends
 *   `lost` with a `QueueError`; what finished is kept.
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
  checkOptions('fanOutOnQueue(): job', job, QUEUE_NAMES.job);
  checkOptions('fanOutOnQueue()', config, QUEUE_NAMES.fanOut);
  checkOptions('fanOutOnQueue(): queue', config.queue, QUEUE_NAMES.queue);
  const stdin = job.stdin === undefined ? undefined : toBuffer(job.stdin);
  if (stdin && stdin.length > MAX_STDIN) throw new RangeError('fanOutOnQueue(): stdin is larger than 16 MiB');
  const runId = config.runId ?? randomBytes(6).toString('hex');
  if (runId === '' || runId.includes(':')) throw new TypeError('fanOutOnQueue(): runId must be non-empty and have no ":"');
  const { name, prefix } = queueNames(config.queue);
  const secret = queueSecret(config.queue);
  redisOptions(config.queue); // a bad URL throws here, not at subscribe
  const list = [...targets].map((t) => (typeof t === 'string' ? parseHostSpec(t) : t));
  const fanOutConfig: FanOutConfig = { ...pickOptions(config as FanOutConfig, FAN_OUT_NAMES), concurrency: config.concurrency ?? 1000, retries: 0 };
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

  const context: HostJobContext = { runId, base, secret, retryLost: config.retryLost === true };
  const events$ = defer(() => from(queuePeers())).pipe(
    switchMap((peers) => {
      const run = openQueueRun(peers, config, { name, prefix });
      const seen = new Map<string, number>();
      const project = (target: LabelledTarget): Observable<ExecChunk> => {
        const occurrence = (seen.get(target.label) ?? 0) + 1;
        seen.set(target.label, occurrence);
        return hostJob(run, target, jobIdOf(runId, target.label, occurrence), context);
      };
      return fanOut<ExecChunk>(list, project, fanOutConfig).events$.pipe(finalize(() => run.close()));
    }),
    share(),
  );
  return FanOut.create<ExecChunk>(events$ as Observable<FanOutEvent<ExecChunk>>);
}
