/**
 * A bounded set of equal-sized buffers for pipelined transfers: buffers are made on first
 * use (a small file never allocates the whole pool), handed out, and given back for reuse, so a
 * transfer of any size allocates at most `count × size` bytes and leaves no garbage behind.
 */
import { checkNumber, POSITIVE_INTEGER } from './check.js';

export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #waiting: Array<(buf: Buffer) => void> = [];
  #made = 0;

  constructor(
    readonly size: number,
    readonly count: number,
  ) {
    checkNumber('a buffer size', size, POSITIVE_INTEGER);
    checkNumber('a buffer count', count, POSITIVE_INTEGER);
  }

  /** A free buffer, or undefined while all `count` are out. */
  tryTake(): Buffer | undefined {
    const free = this.#free.pop();
    if (free) return free;
    if (this.#made === this.count) return undefined;
    this.#made++;
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** A free buffer, waiting for one to be given back while all are out. */
  take(): Promise<Buffer> {
    const buf = this.tryTake();
    return buf ? Promise.resolve(buf) : new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives a buffer (one this pool made) back, to the longest waiter first. */
  give(buf: Buffer): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(buf);
    else this.#free.push(buf);
  }
}
