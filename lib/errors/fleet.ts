/** Errors of many hosts: a worker thread died, the queue failed. */
import { SshError } from './base.js';

/**
 * The worker thread running a host's pipeline (`fanOutInWorkers`, `rxssh run --workers`) died
 * before the host's end was known: the remote command may have run, wholly or in part, so the
 * host is reported as `lost` and never run again. `phase` is `connection`: where in its
 * lifecycle the host was is not known. `cause` is what the pool reported.
 *
 * @example
 * ```ts
 * import { WorkerLostError } from 'rxssh';
 *
 * const ranMaybe = (err: unknown) => err instanceof WorkerLostError; // check the host by hand
 * ```
 */
export class WorkerLostError extends SshError {
  override readonly name = 'WorkerLostError' as const;
  readonly code = 'ERR_SSH_WORKER_LOST' as const;
}

/**
 * The queue of a distributed run (`fanOutOnQueue`, `rxssh run --queue`, `rxssh worker`) failed:
 * Redis stayed unreachable, a job could not be submitted, a job failed on its worker outside
 * the host's pipeline, or its output did not all arrive. A host that ends with it has status
 * `lost`: its command may have run, and it is not run again. Run-level errors have host `*`.
 *
 * @example
 * ```ts
 * import { QueueError } from 'rxssh';
 *
 * const queueTrouble = (err: unknown) => err instanceof QueueError; // Redis, not the host
 * ```
 */
export class QueueError extends SshError {
  override readonly name = 'QueueError' as const;
  readonly code = 'ERR_SSH_QUEUE' as const;
}

/**
 * A fan-out host that was never started: the run had more failures than its `maxFail` allowed
 * (`rxssh run --max-fail`, `--fail-fast`), so hosts not yet started end as `skipped` with this
 * error. Nothing was sent to the host. `phase` is `connection`: it never got further.
 *
 * @example
 * ```ts
 * import { HostSkippedError } from 'rxssh';
 *
 * const notTried = (err: unknown) => err instanceof HostSkippedError; // safe to run again later
 * ```
 */
export class HostSkippedError extends SshError {
  override readonly name = 'HostSkippedError' as const;
  readonly code = 'ERR_SSH_HOST_SKIPPED' as const;
}
