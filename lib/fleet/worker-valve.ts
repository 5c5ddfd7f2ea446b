/**
 * Flow control between a worker thread and the main thread, per host. A MessagePort queues
 * without limit, so a worker that reads its channels faster than the main thread takes the
 * output (splitting lines, a full stdout) would pile it up there. The worker counts the output
 * bytes it posted, the main thread acknowledges what it took, and the host's `OutputFlow` is
 * paused while too much is unacknowledged — or while the main thread's own flow is paused.
 */
import { OutputFlow } from '../channel/flow.js';
import { isExecChunk } from './values.js';

/** Unacknowledged output bytes above which a host's flow is paused, and below which it reads again. */
export const UNACKED_HIGH = 4 * 1024 * 1024;
export const UNACKED_LOW = 1024 * 1024;
/** The main thread acknowledges in steps of at least this many bytes. */
export const ACK_STEP = 256 * 1024;

/** The output bytes a value carries (a chunk's data; other values count nothing). */
export function outputBytes(value: unknown): number {
  return isExecChunk(value) ? value.data.byteLength : 0;
}

/** The main thread's side: call it with each value taken; it posts an `ack` every `ACK_STEP` bytes. */
export function acknowledger(post: (ack: { readonly type: 'ack'; readonly bytes: number }) => void): (value: unknown) => void {
  let taken = 0;
  return (value) => {
    taken += outputBytes(value);
    if (taken < ACK_STEP) return;
    post({ type: 'ack', bytes: taken });
    taken = 0;
  };
}

/** A host's flow in its worker: paused by the main thread's word or by unacknowledged output. */
export class WorkerValve {
  readonly flow = new OutputFlow();
  #byMain = false;
  #byCredit = false;
  #unacked = 0;

  /** A value was posted to the main thread. */
  sent(value: unknown): void {
    this.#unacked += outputBytes(value);
    this.#apply();
  }

  /** The main thread took `bytes` more. */
  acked(bytes: number): void {
    this.#unacked = Math.max(0, this.#unacked - bytes);
    this.#apply();
  }

  /** The main thread's flow was paused or resumed. */
  main(paused: boolean): void {
    this.#byMain = paused;
    this.#apply();
  }

  #apply(): void {
    if (this.#unacked > UNACKED_HIGH) this.#byCredit = true;
    else if (this.#unacked < UNACKED_LOW) this.#byCredit = false;
    if (this.#byMain || this.#byCredit) this.flow.pause();
    else this.flow.resume();
  }
}
