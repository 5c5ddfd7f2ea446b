/**
 * What the operations of one SFTP session share: ssh2's SFTP object, the session's end (a stall
 * or a lost channel fails every request at once, and every one started later), the count of
 * transfers still settling, request sizing, and the pipelined read and write loops. Internal:
 * `SftpSession` and the transfer functions in transfers.ts and tree.ts use it.
 */
import { lastValueFrom, map, noop, Observable } from 'rxjs';
import { abandonSftpRequests, sendSftpWrite, sftpRequestLimits, type SFTPWrapper, type Stats } from '../ssh2/index.js';
import { SftpError, SshError } from '../errors.js';
import { checkNumber, POSITIVE_INTEGER } from '../util/check.js';
import { ReadPipeline, WritePipeline, type Piece, type ReadTarget } from './pipelines.js';
import { SFTP_STATUS, type SftpStats, type TransferConfig, type TransferProgress } from './types.js';

/** ssh2's Stats as plain data. */
export function toStats(s: Stats): SftpStats {
  return {
    mode: s.mode,
    size: s.size,
    uid: s.uid,
    gid: s.gid,
    atime: s.atime,
    mtime: s.mtime,
    isDirectory: s.isDirectory(),
    isFile: s.isFile(),
    isSymbolicLink: s.isSymbolicLink(),
  };
}

/** One SFTP session's shared state and loops. */
export class SftpCore {
  /** Set when the session was ended (a stall, a lost channel): every failure is this. */
  #ended: SshError | undefined;
  #busy = 0;
  readonly #idle = new Set<() => void>();

  constructor(
    readonly sftp: SFTPWrapper,
    readonly where: { readonly host: string; readonly port: number },
  ) {}

  /** Why the session ended, once it did. */
  get ended(): SshError | undefined {
    return this.#ended;
  }

  /** Ends the session: every request waiting for an answer, and every later one, fails with `error`. */
  end(error: SshError): void {
    this.#ended ??= error;
    abandonSftpRequests(this.sftp, error);
  }

  /**
   * A transfer as an Observable: `work` runs with an emit and an abort signal, counted until it
   * has settled (see `whenIdle`); the Observable completes when it resolves and errors with its
   * failure as `operation` on `path`. Unsubscribing aborts it, the parts in flight too.
   */
  transfer<T>(operation: string, path: string, work: (emit: (value: T) => void, signal: AbortSignal) => Promise<unknown>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const abort = new AbortController();
      this.settles(() => work((value) => subscriber.next(value), abort.signal)).then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(this.failure(operation, path, err)),
      );
      return () => abort.abort();
    });
  }

  /** Attributes of a path (following links). */
  stat(path: string): Observable<SftpStats> {
    return this.call<Stats>('stat', path, (done) => this.sftp.stat(path, done)).pipe(map(toStats));
  }

  /**
   * Request size and count of a transfer: the caller's, or sized to the server's limit. Measured
   * against OpenSSH (`npm run bench:sftp`): 16 × 255 KiB beats 64 × 32 KiB by 10–20 % both ways.
   */
  pipelineOf(direction: 'read' | 'write', config: TransferConfig): { chunkSize: number; concurrency: number } {
    for (const key of ['chunkSize', 'concurrency'] as const) {
      const value = config[key];
      if (value !== undefined) checkNumber(key, value, POSITIVE_INTEGER);
    }
    const limit = sftpRequestLimits(this.sftp)?.[direction] ?? 32 * 1024;
    const chunkSize = config.chunkSize ?? Math.min(limit, 256 * 1024);
    const concurrency = config.concurrency ?? Math.min(64, Math.max(8, Math.ceil((4 * 1024 * 1024) / chunkSize)));
    return { chunkSize, concurrency };
  }

  /**
   * Closes a remote handle; resolves with the server's error answer (or the session's end), or
   * undefined when it was closed. Never waits on a session that is gone.
   */
  closeHandle(handle: Buffer): Promise<unknown> {
    if (this.#ended) return Promise.resolve(this.#ended);
    return new Promise<unknown>((resolve) => {
      try {
        this.sftp.close(handle, (err: unknown) => resolve(err ?? undefined));
      } catch (err) {
        resolve(err);
      }
    });
  }

  /**
   * Counts a transfer until it has settled (local files closed, a temporary file removed), so
   * that whoever waits for the session to go idle hears of its end only after that.
   */
  settles<T>(body: () => Promise<T>): Promise<T> {
    this.#busy++;
    return body().finally(() => {
      if (--this.#busy > 0) return;
      const listeners = [...this.#idle];
      this.#idle.clear();
      for (const listener of listeners) listener();
    });
  }

  /** Calls `listener` once no transfer is running: now, or when the last one settles. @internal */
  whenIdle(listener: () => void): () => void {
    if (this.#busy === 0) {
      listener();
      return noop;
    }
    this.#idle.add(listener);
    return () => this.#idle.delete(listener);
  }

  /** Answers a request that was not sent because the session is gone (on the next turn, as a server would). */
  refuse(done: (err: Error, n: number) => void): void {
    const ended = this.#ended;
    if (ended) setImmediate(() => done(ended, 0));
  }

  /** The error of a failed request: an SftpError, or the stall that ended the session. */
  error(operation: string, path: string, err: unknown): SshError {
    return this.#ended ?? new SftpError(operation, path, err, this.where);
  }

  /** The error a failed operation ends with: typed errors and bad arguments (RangeError) as they are, anything else as an SftpError. */
  failure(operation: string, path: string, err: unknown): Error {
    if (this.#ended) return this.#ended;
    return err instanceof SshError || err instanceof RangeError ? err : new SftpError(operation, path, err, this.where);
  }

  call<T>(operation: string, path: string, run: (done: (err: unknown, value?: T) => void) => void): Observable<T> {
    return new Observable<T>((subscriber) => {
      if (this.#ended) return subscriber.error(this.#ended);
      let active = true;
      try {
        run((err, value) => {
          if (!active) return;
          if (err) subscriber.error(this.error(operation, path, err));
          else {
            subscriber.next(value as T);
            subscriber.complete();
          }
        });
      } catch (err) {
        subscriber.error(this.error(operation, path, err));
      }
      return () => {
        active = false;
      };
    });
  }

  /**
   * Pipelined reads of a file (or of `[start, end)`): up to `concurrency` requests in flight,
   * each into a buffer the target hands out (none free: wait until `wake` is called); a short
   * read re-requests the rest of its range. It reads on past the size the file had when opened
   * to the server's end-of-file (or the range's end), as OpenSSH's sftp does (a file that grew
   * meanwhile, or whose size says nothing: `/proc`); resolves with where the file ended. A file that is not a regular one (a
   * device, a FIFO) is refused as sftp refuses it: it may never end. An abort sends no more
   * requests and rejects once those in flight are answered.
   */
  async transferIn(
    path: string,
    config: TransferConfig,
    targetFor: (size: number, chunkSize: number, concurrency: number, mode: number) => ReadTarget | Promise<ReadTarget>,
    signal?: AbortSignal,
    range: { start?: number | undefined; end?: number | undefined; wake?: (pump: () => void) => void } = {},
  ): Promise<number> {
    const { chunkSize, concurrency } = this.pipelineOf('read', config);
    const handle = await lastValueFrom(this.call<Buffer>('open', path, (done) => this.sftp.open(path, 'r', done)));
    try {
      const { size, mode } = await lastValueFrom(this.call<Stats>('fstat', path, (done) => this.sftp.fstat(handle, done)));
      // The file type, when the server sent the mode: only a regular file is read (sftp: "not a regular file").
      if (typeof mode === 'number' && (mode & 0o170000) !== 0 && (mode & 0o170000) !== 0o100000) {
        throw new SftpError('read', path, new Error('not a regular file (a device, a FIFO or a socket may never end)'), this.where);
      }
      const end = Math.min(size, range.end ?? size);
      const target = await targetFor(end, chunkSize, concurrency, mode);
      const pipeline = new ReadPipeline({
        read: (buf, length, position, done) => (this.#ended ? this.refuse(done) : this.sftp.read(handle, buf, 0, length, position, done)),
        target,
        chunkSize,
        concurrency,
        start: range.start ?? 0,
        end,
        followEof: chunkSize,
        ...(range.end !== undefined ? { limit: range.end } : {}),
        isEof: (err) => (err as { code?: number }).code === SFTP_STATUS.EOF,
        failure: (err) => this.error('read', path, err),
        ...(signal ? { signal } : {}),
      });
      range.wake?.(() => pipeline.wake());
      return await pipeline.run();
    } finally {
      // A read handle's close answer changes nothing about the bytes read.
      await this.closeHandle(handle);
    }
  }

  /**
   * Pipelined writes of pieces (in order, each at most one request) to a remote file
   * (created/truncated). Pull-based: at most `concurrency` writes in flight (the caller sized the
   * pieces and the count with #pipelineOf), the source read only as fast; a piece's `release` is
   * called once the server confirmed it.
   */
  async transferOut(
    path: string,
    pieces: AsyncIterable<Piece> | Iterable<Piece>,
    total: number,
    mode: number | undefined,
    concurrency: number,
    onProgress: (p: TransferProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const handle = await lastValueFrom(
      this.call<Buffer>('open', path, (done) => this.sftp.open(path, 'w', mode !== undefined ? { mode } : {}, done)),
    );
    const pipeline = new WritePipeline({
      write: (data, position, done, headroom) => {
        if (this.#ended) return this.refuse(done);
        if (!sendSftpWrite(this.sftp, handle, data, headroom, position, done)) this.sftp.write(handle, data, 0, data.length, position, done);
      },
      concurrency,
      onProgress: (bytes, written) => onProgress({ bytes, total: Number.isNaN(total) ? written : Math.max(total, written) }),
      failure: (err) => this.error('write', path, err),
      ...(signal ? { signal } : {}),
    });
    let closed: unknown;
    try {
      await pipeline.run(pieces);
    } finally {
      closed = await this.closeHandle(handle);
    }
    // The server may only find out at CLOSE that the bytes cannot be kept (a quota, NFS): the
    // transfer failed (OpenSSH sftp: "close remote: Failure", exit 1).
    if (closed !== undefined) throw this.error('close', path, closed);
  }
}
