/**
 * Backpressure from Writables to what fills them: while a Writable holds more than it should,
 * the source is paused, and it reads again once every full Writable has drained. The one
 * mechanism behind `ChannelSubject.pipeTo()` (paused when `write()` refuses a chunk) and the
 * CLI's stdout and stderr (paused once a pipe to a slow reader holds 1 MiB).
 */
import type { Writable } from 'node:stream';

/** Something whose reading can be paused and resumed (a channel run, an `OutputFlow`). */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/** What a Writable holds unwritten (a stream without the figure counts as holding nothing). */
function queued(target: NodeJS.WritableStream): number {
  return (target as Partial<Writable>).writableLength ?? 0;
}

/** Pauses `source` (once) while any Writable it is told about is full; `release()` ends it. */
export class WritableBackpressure {
  readonly #full = new Map<NodeJS.WritableStream, () => void>();

  /**
   * @param source - what is paused.
   * @param limit - a Writable is full once it holds this many bytes (0: as soon as `write()` refuses a chunk).
   */
  constructor(
    private readonly source: Pausable,
    private readonly limit = 0,
  ) {}

  /**
   * Call after each write to `target`. `refused`: what `write()` answered (false: it took the
   * chunk, nothing to wait for); left out when unknown, the bytes it holds decide.
   */
  wrote(target: NodeJS.WritableStream, refused = true): void {
    if (!refused || this.#full.has(target) || queued(target) < this.limit) return;
    const drained = (): void => {
      this.#full.delete(target);
      if (this.#full.size === 0) this.source.resume();
    };
    if (this.#full.size === 0) this.source.pause();
    this.#full.set(target, drained);
    target.once('drain', drained);
  }

  /** Stops waiting: the `'drain'` listeners removed, the source resumed if it was paused. */
  release(): void {
    if (this.#full.size === 0) return;
    for (const [target, drained] of this.#full) target.removeListener('drain', drained);
    this.#full.clear();
    this.source.resume();
  }
}
