/**
 * The two pipelines under SFTP transfers, apart from SFTP itself: `ReadPipeline` keeps up to
 * `concurrency` read requests in flight over a file's range, `WritePipeline` keeps up to
 * `concurrency` write requests in flight from a pull-based source of pieces. Each takes the one
 * request it makes as a function (`read` / `write`, callback-style as ssh2's are), so the
 * specs drive them with scripted servers: short reads, a file that shrinks, failures, aborts.
 */
import { toBuffer } from '../util/bytes.js';


/** Where pipelined reads put their bytes. */
export interface ReadTarget {
  /** A buffer of at least `length` bytes for the range at `position`, or undefined while none is free. */
  claim(position: number, length: number): Buffer | undefined;
  /** A claimed buffer now holds the `n` bytes read at `position`; may reuse it once this settles. */
  fill(position: number, buf: Buffer, n: number): Promise<void> | void;
  /** A claimed buffer that received nothing. */
  unclaim(buf: Buffer): void;
}

/** One read request: `n` bytes read into `buf` at `position`; `n` 0 or an end-of-file error: the file ends there. */
export type ReadRequest = (buf: Buffer, length: number, position: number, done: (err: unknown, n: number) => void) => void;

/** What a {@link ReadPipeline} reads. */
export interface ReadPipelineConfig {
  readonly read: ReadRequest;
  readonly target: ReadTarget;
  readonly chunkSize: number;
  readonly concurrency: number;
  /** Where to start (default 0). */
  readonly start?: number;
  /** Where to stop (exclusive): the file's size when opened, or a range's end. */
  readonly end: number;
  /**
   * Read on past `end` until the server answers end-of-file, in requests of this many bytes, one
   * at a time (a file that grew since it was opened, or one whose size says nothing: `/proc`).
   * OpenSSH's sftp reads to EOF the same way. Undefined: stop at `end`.
   */
  readonly followEof?: number;
  /** Where reading past `end` stops in any case (a range's end); default: the end-of-file only. */
  readonly limit?: number;
  /** Whether an error means "the file ends here" (SFTP's EOF status) rather than a failure. */
  readonly isEof: (err: unknown) => boolean;
  /** The error to reject with for a failed request. */
  readonly failure: (err: unknown) => unknown;
  readonly signal?: AbortSignal;
}

/**
 * Pipelined reads of `[start, end)`: up to `concurrency` requests in flight, each into a buffer
 * the target hands out (none free: the pipeline waits until {@link ReadPipeline.wake} is
 * called); a short read re-requests the rest of its range before anything new. `run()` resolves
 * with where the file ended (`end`, or less when it shrank meanwhile); after a failure or an
 * abort it sends no more requests and rejects once those in flight are answered.
 */
export class ReadPipeline {
  #end: number;
  #next: number;
  /** Requests in flight plus buffers the target still holds. */
  #busy = 0;
  readonly #retries: Array<[position: number, length: number]> = [];
  #failure: unknown;
  #settle: { resolve: (end: number) => void; reject: (err: unknown) => void } | undefined;
  /** A read past `end` is in flight (with `followEof`: one at a time). */
  #probing = false;
  /** The server answered end-of-file (or `followEof` is off): nothing past `#end` to ask for. */
  #ended: boolean;

  constructor(readonly config: ReadPipelineConfig) {
    this.#end = config.end;
    this.#next = config.start ?? 0;
    this.#ended = !config.followEof;
  }

  /** Requests in flight now (and buffers still held by the target). */
  get busy(): number {
    return this.#busy;
  }

  run(): Promise<number> {
    const { signal } = this.config;
    const onAbort = (): void => this.wake();
    return new Promise<number>((resolve, reject) => {
      this.#settle = { resolve, reject };
      signal?.addEventListener('abort', onAbort);
      this.wake();
    }).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** Sends what the limit and the target's free buffers allow; settles when all is done. */
  wake(): void {
    const { target, concurrency, chunkSize, signal } = this.config;
    if (this.#failure === undefined && !signal?.aborted) {
      while (this.#busy < concurrency) {
        while (this.#retries.length > 0 && (this.#retries[0]?.[0] ?? 0) >= this.#end) this.#retries.shift();
        const again = this.#retries[0];
        const position = again ? again[0] : this.#next;
        // Past the end: one request at a time, while the server has not said end-of-file.
        const probe = !again && this.#next >= this.#end;
        if (probe && (this.#ended || this.#probing || this.#next >= (this.config.limit ?? Infinity))) break;
        const length = again ? again[1] : probe ? Math.min(this.config.followEof as number, (this.config.limit ?? Infinity) - this.#next) : Math.min(chunkSize, this.#end - this.#next);
        const buf = target.claim(position, length);
        if (!buf) break;
        if (again) this.#retries.shift();
        else this.#next += length;
        this.#busy++;
        this.#probing ||= probe;
        this.config.read(buf, length, position, (err, n) => (probe ? this.#probed(buf, position, err, n) : this.#answered(buf, position, length, err, n)));
      }
    }
    if (this.#busy > 0 || !this.#settle) return;
    if (this.#failure !== undefined) this.#settle.reject(this.#failure);
    else if (signal?.aborted) this.#settle.reject(new Error('cancelled'));
    else if (this.#retries.length === 0 && this.#next >= this.#end && (this.#ended || this.#next >= (this.config.limit ?? Infinity))) this.#settle.resolve(this.#end);
  }

  /** A read past the end answered: more of the file (it goes on from there), or its end. */
  #probed(buf: Buffer, position: number, err: unknown, n: number): void {
    this.#probing = false;
    if (err || !(n > 0) || this.#ended) {
      // End-of-file (or the file shrank meanwhile): the end stands where it was found.
      this.#next = Math.min(this.#next, this.#end);
      this.#ended = true;
      this.#answered(buf, position, 0, err, 0);
      return;
    }
    this.#next = this.#end = position + n;
    this.#answered(buf, position, n, undefined, n);
  }

  #answered(buf: Buffer, position: number, length: number, err: unknown, n: number): void {
    const { target } = this.config;
    if (err || !(n > 0)) {
      target.unclaim(buf);
      if (err && !this.config.isEof(err)) this.#failure ??= this.config.failure(err);
      else {
        this.#end = Math.min(this.#end, position); // the file ends here (it shrank)
        this.#ended = true;
      }
      this.#release();
      return;
    }
    if (n < length) this.#retries.push([position + n, length - n]); // a short read
    let filled: Promise<void> | void;
    try {
      filled = target.fill(position, buf, n);
    } catch (e) {
      filled = Promise.reject(e);
    }
    if (filled === undefined) {
      this.#release();
      return;
    }
    filled
      .then(
        () => undefined,
        (e: unknown) => void (this.#failure ??= e),
      )
      .finally(() => this.#release());
  }

  #release(): void {
    this.#busy--;
    this.wake();
  }
}

/** One write request's bytes; `release` frees them once the server answered. */
export interface Piece {
  readonly data: Buffer;
  /** Bytes before `data` in its buffer that the request may write its header into (default 0). */
  readonly headroom?: number;
  readonly release?: () => void;
}

/** One write request of `data` at `position`; `headroom`: the piece's (0 when it has none). */
export type WriteRequest = (data: Buffer, position: number, done: (err: unknown) => void, headroom: number) => void;

/** What a {@link WritePipeline} writes. */
export interface WritePipelineConfig {
  readonly write: WriteRequest;
  readonly concurrency: number;
  /** Bytes confirmed so far, after each confirmed request. */
  readonly onProgress?: (bytes: number, written: number) => void;
  /** The error to reject with for a failed request. */
  readonly failure: (err: unknown) => unknown;
  readonly signal?: AbortSignal;
}

/**
 * Pipelined writes of pieces, in order and each one request, at consecutive positions from 0.
 * Pull-based: at most `concurrency` writes in flight and the source read only as fast; a
 * piece's `release` is called once the server answered it. A failed write or an abort stops
 * pulling at once (without waiting for a slow source's next piece) and rejects once the writes
 * in flight are answered (they hold their buffers until then).
 */
export class WritePipeline {
  #inflight = 0;
  #failure: unknown;
  #wake: (() => void) | undefined;
  #interrupt: () => void = () => undefined;
  readonly #interrupted = new Promise<'interrupted'>((resolve) => (this.#interrupt = () => resolve('interrupted')));
  #position = 0;
  #bytes = 0;

  constructor(readonly config: WritePipelineConfig) {}

  /** Writes in flight now. */
  get inflight(): number {
    return this.#inflight;
  }

  async run(pieces: AsyncIterable<Piece> | Iterable<Piece>): Promise<void> {
    const { signal, concurrency } = this.config;
    const interrupt = (): void => this.#interrupt();
    signal?.addEventListener('abort', interrupt, { once: true });
    const source = Symbol.asyncIterator in pieces ? pieces[Symbol.asyncIterator]() : (pieces as Iterable<Piece>)[Symbol.iterator]();
    try {
      for (;;) {
        const pending = Promise.resolve(source.next());
        pending.catch(() => undefined); // raced below; a late rejection is nobody's to handle
        const step = signal?.aborted || this.#failure !== undefined ? 'interrupted' : await Promise.race([pending, this.#interrupted]);
        if (step === 'interrupted') {
          Promise.resolve(source.return?.()).catch(() => undefined);
          throw this.#failure ?? new Error('cancelled');
        }
        if (step.done) break;
        const { data, release, headroom = 0 } = step.value;
        while (this.#inflight >= concurrency && this.#failure === undefined) await this.#settled();
        if (this.#failure !== undefined) throw this.#failure;
        this.#send(data, release, headroom);
      }
      while (this.#inflight > 0) await this.#settled();
      if (this.#failure !== undefined) throw this.#failure;
    } finally {
      signal?.removeEventListener('abort', interrupt);
      // Requests still in flight (after an error or a cancel) hold their buffers until answered.
      while (this.#inflight > 0) await this.#settled();
    }
  }

  #send(data: Buffer, release: (() => void) | undefined, headroom: number): void {
    this.#inflight++;
    const at = this.#position;
    this.#position += data.length;
    this.config.write(data, at, (err) => {
      release?.();
      if (err && this.#failure === undefined) {
        this.#failure = this.config.failure(err);
        this.#interrupt();
      } else if (!err) {
        this.#bytes += data.length;
        this.config.onProgress?.(this.#bytes, this.#position);
      }
      this.#inflight--;
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    }, headroom);
  }

  /** Resolves at the next answered write. */
  #settled(): Promise<void> {
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }
}

/**
 * Chunks cut into request-sized pieces: large chunks are sliced without copying, small ones are
 * gathered until a whole request's worth (or the end) is there.
 */
export async function* slices(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Piece> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  for await (const chunk of source) {
    let rest = toBuffer(chunk);
    if (heldBytes > 0) {
      const take = Math.min(size - heldBytes, rest.length);
      held.push(rest.subarray(0, take));
      heldBytes += take;
      rest = rest.subarray(take);
      if (heldBytes < size) continue;
      yield { data: Buffer.concat(held, heldBytes) };
      held = [];
      heldBytes = 0;
    }
    while (rest.length >= size) {
      yield { data: rest.subarray(0, size) };
      rest = rest.subarray(size);
    }
    if (rest.length > 0) {
      // Copied: a source may reuse its buffer once it gave it away.
      held.push(Buffer.from(rest));
      heldBytes = rest.length;
    }
  }
  if (heldBytes > 0) yield { data: Buffer.concat(held, heldBytes) };
}
