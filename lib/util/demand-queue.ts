/**
 * The queue between a push producer and a `for await` loop: items wait until the loop asks for
 * them; the producer is told to hold back (`pause`) once `highWater` units wait and to go on
 * (`resume`) once the loop drained them to `lowWater`. Ending the loop early (`break`, `return`)
 * drops what waits and calls `stop`.
 */
export interface DemandQueueOptions<T> {
  /** Units an item counts for (default 1). */
  readonly size?: (item: T) => number;
  /** Units waiting at which `pause` is called (default: never). */
  readonly highWater?: number;
  /** Units waiting at or below which `resume` follows a `pause` (default: as soon as fewer than `highWater` wait). */
  readonly lowWater?: number;
  readonly pause?: () => void;
  readonly resume?: () => void;
  /** The loop ended early; the returned promise is awaited by the loop's `return()`. */
  readonly stop?: () => Promise<unknown> | void;
}

export class DemandQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #options: DemandQueueOptions<T>;
  #queued = 0;
  #paused = false;
  #outcome: { error: unknown } | 'done' | undefined;
  #waiter: { resolve: (step: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;

  constructor(options: DemandQueueOptions<T> = {}) {
    this.#options = options;
  }

  /** Whether `highWater` units wait (the producer should hold back). */
  get full(): boolean {
    return this.#queued >= (this.#options.highWater ?? Infinity);
  }

  push(item: T): void {
    if (this.#outcome) return;
    this.#items.push(item);
    this.#queued += this.#options.size?.(item) ?? 1;
    if (!this.#paused && this.full) {
      this.#paused = true;
      this.#options.pause?.();
    }
    this.#settle();
  }

  /** No more items: the loop ends after those waiting. */
  end(): void {
    this.#outcome ??= 'done';
    this.#settle();
  }

  /** The loop throws `error` after the items waiting. */
  fail(error: unknown): void {
    this.#outcome ??= { error };
    this.#settle();
  }

  next(): Promise<IteratorResult<T>> {
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#settle();
    });
  }

  async return(): Promise<IteratorResult<T>> {
    this.#items.length = 0;
    this.#queued = 0;
    this.#outcome ??= 'done';
    this.#settle(); // a next() still waiting ends too
    if (this.#paused) {
      this.#paused = false;
      this.#options.resume?.();
    }
    await this.#options.stop?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #settle(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T;
      this.#waiter = undefined;
      this.#queued -= this.#options.size?.(item) ?? 1;
      // Resume only once the producer has room again: with lowWater at highWater (the default),
      // exactly highWater units waiting is still full, and a producer resumed then would find no
      // room and never be resumed again.
      if (this.#paused && !this.full && this.#queued <= (this.#options.lowWater ?? Infinity)) {
        this.#paused = false;
        this.#options.resume?.();
      }
      waiter.resolve({ value: item, done: false });
    } else if (this.#outcome === 'done') {
      this.#waiter = undefined;
      waiter.resolve({ value: undefined, done: true });
    } else if (this.#outcome) {
      this.#waiter = undefined;
      waiter.reject(this.#outcome.error);
    }
  }
}
