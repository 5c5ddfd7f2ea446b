/**
 * One host's job on the queue, as an Observable of its output: submitted (signed when the queue
 * has a secret) once the run's queue is ready; its progress messages are its output, checked
 * against the secret; its result ends it — a non-zero status as an exit, an error revived into
 * its typed class, a stalled worker as `WorkerLostError` (or one retry with `retryLost`), a
 * result that is forged, incomplete or for another job as a `QueueError`. Unsubscribing takes
 * the job back (removed if waiting, stopped if running).
 */
import { Observable } from 'rxjs';
import type { ExecChunk } from '../channel/channel.js';
import { ExitStatusError, QueueError, WorkerLostError } from '../errors.js';
import type { LabelledTarget } from '../config/target.js';
import { reviveError } from '../fleet/worker-wire.js';
import { jobDifference, type JobData } from './job.js';
import { signQueued, unsigned, verifyQueued } from './signing.js';
import { type JobReturn, type JobProgress, STALLED, KEEP } from './wire.js';
import type { QueueRun, Watcher } from './submit-run.js';

/** What every host job of a run shares. */
export interface HostJobContext {
  readonly runId: string;
  /** The job's data less its target. */
  readonly base: Omit<JobData, 'target'>;
  readonly secret: Buffer | undefined;
  /** Submit a stalled host's job once more (`retryLost`). */
  readonly retryLost: boolean;
}

/** The job of `target` (first submitted as `firstId`) on the run's queue. */
// eslint-disable-next-line max-lines-per-function -- Long by design: one job's life (submit, signed progress, result, stall, retry, cancel) shares one closure's state and the teardown that takes the job back.
export function hostJob(run: QueueRun, target: LabelledTarget, firstId: string, job: HostJobContext): Observable<ExecChunk> {
  const { runId, base, secret } = job;
  // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
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
      run.watchers.delete(jobId);
      if (err === undefined) subscriber.complete();
      else subscriber.error(err);
    };
    const submit = (id: string): void => {
      jobId = id;
      run.watchers.set(id, watcher);
      run.ready
        .then(() => {
          const data: JobData = { ...base, target };
          const signed: JobData = secret ? { ...data, sig: signQueued(secret, 'job', id, data) } : data;
          return run.queue.add('host', signed, { jobId: id, attempts: 1, removeOnComplete: KEEP, removeOnFail: KEEP });
        })
        .then(() => {
          submitted = true;
        })
        .catch((err: unknown) => {
          // The client's own error says why (a certificate, WRONGPASS) better than the command's.
          const why = run.health.lastError instanceof Error ? run.health.lastError : err;
          if (!ended && !run.broken) end(new QueueError(`the job ${id} was never submitted: ${(why as Error).message}`, { ...where, phase: 'connection', cause: why }));
        });
    };
    /** Its worker stopped renewing the job's lock: lost (or submitted once more with retryLost). */
    const lost = (): void => {
      if (ended) return;
      if (job.retryLost && !retried) {
        retried = true;
        run.watchers.delete(jobId);
        received = 0;
        return submit(`${firstId}~retry`);
      }
      end(new WorkerLostError(`the worker running ${target.label} stopped renewing its job's lock (it died, was stopped, or lost Redis); the command may have run and is not run again`, { ...where, phase: 'connection' }));
    };
    const watcher: Watcher = {
      duplicated: () => {
        const id = jobId;
        void run.bullmq.Job.fromId(run.queue, id).then(async (existing) => {
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
        for (const [stream, text] of p.c) subscriber.next({ type: 'chunk', stream: stream === 0 ? 'stdout' : 'stderr', data: Buffer.from(text, 'base64') });
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
        if (r.status === 'ok') return end();
        // A command that ended with a status or a signal but no error (a pipeline of run()
        // results): the same failure an exec pipeline reports.
        if (r.status === 'failed' && (r.exitCode !== null || r.signal !== null)) return end(new ExitStatusError(base.command, r.exitCode, r.signal, '', { ...where, phase: 'exec' }));
        // Any other end without an error (cancelled on its worker) is no result: never an ok.
        end(new QueueError(`job ${jobId} ended ${r.status} on its worker without a result`, { ...where, phase: 'connection' }));
      },
      failed: (reason) => (reason.includes(STALLED) ? lost() : end(new QueueError(`job ${jobId} failed on its worker: ${reason}`, { ...where, phase: 'connection' }))),
      stalled: () => {
        // BullMQ moves a stalled job back to wait (to fail it when a worker next takes it): take
        // it out, so that it never runs again, and end the host now rather than when a worker comes.
        run.cancel(jobId);
        lost();
      },
      broken: (err) => end(new QueueError(`${err.message}; ${target.label} has no result (${submitted ? 'its command may have run' : 'its job was never submitted'})`, { ...where, phase: 'connection', cause: err })),
      submitted: () => submitted,
      vanished: () => end(new QueueError(`job ${jobId} vanished from Redis (restarted empty, failed over or flushed); ${target.label} has no result and its command may have run`, { ...where, phase: 'connection' })),
    };
    if (run.broken) watcher.broken(run.broken);
    else submit(firstId);
    return () => {
      run.watchers.delete(jobId);
      if (!ended) run.cancel(jobId);
      ended = true; // a submission or lookup still under way reports to no one
    };
  });
}
