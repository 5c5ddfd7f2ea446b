/**
 * The stdin side of a session channel, apart from opening and output: what is written before
 * the channel opens waits here (bounded by `stdinLimit`), `write()` completes when ssh2 took the
 * chunk within the SSH window, `complete()` sends EOF after what is queued, and a stdin source
 * (async iterable, Observable, array) is pumped with that backpressure. Plus the bounded tail of
 * stderr an `ExitStatusError` quotes.
 */
import { noop, concatMap, from, isObservable, Observable, type ObservableInput } from 'rxjs';
import type { ClientChannel } from '../ssh2/index.js';
import type { SshError } from '../errors.js';
import { toBuffer } from '../util/bytes.js';

/** A chunk of stdin (the public `StdinChunk`, restated so that the engine imports nothing public). */
type StdinChunk = string | Uint8Array;

/** Where stdin comes from (the public `StdinSource`). */
type StdinSource = ObservableInput<StdinChunk> | Iterable<StdinChunk> | AsyncIterable<StdinChunk> | NodeJS.ReadableStream;

function isAsyncIterable(value: unknown): value is AsyncIterable<StdinChunk> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** What the stdin side needs from its channel run. */
export interface StdinHost {
  /** The open channel, while it is open. */
  channel(): ClientChannel | undefined;
  /** Whether the run has ended (closed, failed, cancelled). */
  done(): boolean;
  /** More than `stdinLimit` bytes waited: the run is aborted with this error. */
  overflow(): void;
  /** A stdin source failed: the run is aborted with its error. */
  fail(err: unknown): void;
  /** Closed for writing: the error a write gets after the end. */
  closedError(): SshError;
}

export class ChannelStdin {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #eof = false;
  readonly #writers = new Set<{ run(): void; fail(err: SshError): void }>();
  #stop: (() => void) | undefined;

  constructor(
    readonly host: StdinHost,
    readonly limit: number,
  ) {}

  /** EOF was asked for (`complete()`). */
  get eofRequested(): boolean {
    return this.#eof;
  }

  /** Queues `chunk` (or writes it at once when open), up to `limit` bytes waiting. */
  next(chunk: StdinChunk): void {
    if (this.host.done() || this.#eof) return;
    const buf = toBuffer(chunk);
    const chan = this.host.channel();
    const queued = this.#pendingBytes + (chan?.writableLength ?? 0);
    if (queued + buf.length > this.limit) {
      this.host.overflow();
      return;
    }
    if (chan) {
      chan.write(buf);
    } else {
      this.#pending.push(buf);
      this.#pendingBytes += buf.length;
    }
  }

  /** EOF after what is queued. */
  complete(): void {
    if (this.#eof) return;
    this.#eof = true;
    this.host.channel()?.end();
  }

  /** Completes when ssh2 took `chunk` within the window (backpressure for `concatMap`). */
  write(chunk: StdinChunk): Observable<void> {
    return new Observable<void>((subscriber) => {
      const buf = toBuffer(chunk);
      if (this.host.done() || this.#eof) {
        subscriber.error(this.host.closedError());
        return undefined;
      }
      let written = false;
      const writer = {
        run: (): void => {
          const chan = this.host.channel();
          if (!chan) return;
          if (!written) {
            written = true;
            if (chan.write(buf)) {
              this.#writers.delete(writer);
              subscriber.complete();
            }
          } else if (!chan.writableNeedDrain) {
            this.#writers.delete(writer);
            subscriber.complete();
          }
        },
        fail: (err: SshError): void => subscriber.error(err),
      };
      this.#writers.add(writer);
      writer.run();
      return () => {
        this.#writers.delete(writer);
      };
    });
  }

  /** The channel opened: what waited goes out, waiting writers go on, EOF if asked. */
  opened(chan: ClientChannel): void {
    const queued = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const chunk of queued) chan.write(chunk);
    this.drained();
    if (this.#eof) chan.end();
  }

  /** ssh2 can take more: waiting writers go on. */
  drained(): void {
    for (const w of [...this.#writers]) w.run();
  }

  /** The run ended: the source stops, waiting writes fail, what waited is dropped. */
  ended(): void {
    this.#stop?.();
    if (this.#writers.size > 0) {
      const closed = this.host.closedError();
      for (const w of [...this.#writers]) w.fail(closed);
      this.#writers.clear();
    }
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** Pumps a stdin source with backpressure, then EOF; its error aborts the run. */
  pump(source: StdinSource): void {
    if (isAsyncIterable(source)) {
      const iterator = source[Symbol.asyncIterator]();
      let stopped = false;
      const run = async (): Promise<void> => {
        for (;;) {
          const step = await iterator.next();
          if (stopped) return;
          if (step.done) break;
          await new Promise<void>((resolve, reject) => {
            const sub = this.write(step.value).subscribe({ complete: resolve, error: reject });
            if (stopped) sub.unsubscribe();
          });
          if (stopped) return;
        }
        this.complete();
      };
      run().catch((err: unknown) => {
        if (!stopped) this.host.fail(err);
      });
      this.#stop = () => {
        stopped = true;
        void iterator.return?.()?.catch?.(noop);
      };
      return;
    }
    const input = isObservable(source) ? source : from(source as ObservableInput<StdinChunk>);
    const subscription = input.pipe(concatMap((chunk) => this.write(chunk))).subscribe({
      error: (err: unknown) => this.host.fail(err),
      complete: () => this.complete(),
    });
    this.#stop = () => subscription.unsubscribe();
  }
}

/** The last `max` bytes (about) of a stream, kept in the chunks they came in. */
export class StreamTail {
  #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(readonly max: number) {}

  keep(data: Buffer): void {
    this.#chunks.push(data);
    this.#bytes += data.length;
    while (this.#chunks.length > 1 && this.#bytes - (this.#chunks[0]?.length ?? 0) >= this.max) {
      this.#bytes -= this.#chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    return Buffer.concat(this.#chunks).subarray(-this.max).toString('utf8');
  }
}
