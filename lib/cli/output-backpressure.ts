/**
 * Backpressure from this process's stdout and stderr to the channels that fill them: once a
 * stream holds `OUTPUT_QUEUED` bytes it has not written (a pipe to a slow reader), the
 * channels' `OutputFlow` is paused until the stream drains, so the servers wait as they wait
 * for ssh, instead of the output piling up here.
 */
import type { Writable } from 'node:stream';
import type { OutputFlow } from '../index.js';

/** Bytes of output a full stdout or stderr may hold before the channels are paused. */
export const OUTPUT_QUEUED = 1024 * 1024;

/** What a Writable holds unwritten (a stream without the figure is never counted full). */
function queued(target: NodeJS.WritableStream): number {
  return (target as Partial<Writable>).writableLength ?? 0;
}

/** Pauses `flow` while any stream it is told about holds too much; `release()` ends it (flow resumed, listeners gone). */
export class OutputBackpressure {
  readonly #full = new Map<NodeJS.WritableStream, () => void>();

  constructor(private readonly flow: OutputFlow) {}

  /** Call after each write to `target`. A threshold above the stream's own 16 KiB mark keeps the channels from pausing for every packet. */
  wrote(target: NodeJS.WritableStream): void {
    if (this.#full.has(target) || queued(target) < OUTPUT_QUEUED) return;
    const drained = (): void => {
      this.#full.delete(target);
      if (this.#full.size === 0) this.flow.resume();
    };
    this.#full.set(target, drained);
    this.flow.pause();
    target.once('drain', drained);
  }

  release(): void {
    for (const [target, drained] of this.#full) target.removeListener('drain', drained);
    this.#full.clear();
    this.flow.resume();
  }
}
