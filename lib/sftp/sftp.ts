/**
 * SFTP as observables: `Connection.sftp()` holds an SFTP subsystem channel while subscribed;
 * its operations are cold observables; `download`/`upload` pipeline parallel requests, survive
 * short reads and report progress.
 *
 * @module
 */
import { constants } from 'node:buffer';
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, posix, sep } from 'node:path';
import { concatMap, defer, EMPTY, from, isObservable, lastValueFrom, mergeMap, noop, Observable, tap, toArray } from 'rxjs';
import { abandonSftpRequests, SFTP_WRITE_HEADROOM, sendSftpWrite, sftpRequestLimits, type FileEntryWithStats, type SFTPWrapper, type Stats } from '../ssh2/index.js';
import { SftpError, SshError } from '../errors.js';
import { makeDir } from '../util/make-dir.js';
import { BufferPool } from '../util/buffer-pool.js';
import { DemandQueue } from '../util/demand-queue.js';
import { ReadPipeline, slices, WritePipeline, type Piece, type ReadTarget } from './pipelines.js';
import { toBuffer } from '../util/bytes.js';
import { checkNumber, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER } from '../util/check.js';
import { SFTP_STATUS, MAX_TREE_DEPTH, safeEntryName, type SftpStats, type SftpEntry, type TransferProgress, type TreeTransferConfig, type TreeProgress, type TransferConfig, type ReadChunksConfig, type MkdirConfig, type RemoveConfig, type WriteFileConfig } from './types.js';
import { observableChunks, untilDone } from './streams.js';

/** ssh2's Stats as plain data. */
function toStats(s: Stats): SftpStats {
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

/**
 * An open SFTP session (one subsystem channel). Emitted by `Connection.sftp()`; valid while that
 * subscription lasts. Every method returns a cold Observable that performs the operation when
 * subscribed; a failed operation errors with {@link SftpError} and leaves the session usable.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, knownHosts, authenticate, agent, withConnection } from 'rxssh';
 *
 * connect({ host: 'files.example.org', username: 'me' }).pipe(
 *   verifyHostKey(knownHosts()),
 *   authenticate(agent()),
 *   withConnection((c) => c.withSftp((sftp) => sftp.download('/srv/report.csv', './report.csv'))),
 * ).subscribe((p) => console.log(`${p.bytes}/${p.total}`));
 * ```
 */
export class SftpSession {
  readonly #sftp: SFTPWrapper;
  readonly #where: { host: string; port: number };
  /** Set when the session was ended because a request went unanswered: every failure is this. */
  #ended: SshError | undefined;
  #busy = 0;
  readonly #idle = new Set<() => void>();

  /**
   * Request size and count of a transfer: the caller's, or sized to the server's limit. Measured
   * against OpenSSH (`npm run bench:sftp`): 16 × 255 KiB beats 64 × 32 KiB by 10–20 % both ways.
   */
  #pipelineOf(direction: 'read' | 'write', config: TransferConfig): { chunkSize: number; concurrency: number } {
    for (const key of ['chunkSize', 'concurrency'] as const) {
      const value = config[key];
      if (value !== undefined) checkNumber(key, value, POSITIVE_INTEGER);
    }
    const limit = sftpRequestLimits(this.#sftp)?.[direction] ?? 32 * 1024;
    const chunkSize = config.chunkSize ?? Math.min(limit, 256 * 1024);
    const concurrency = config.concurrency ?? Math.min(64, Math.max(8, Math.ceil((4 * 1024 * 1024) / chunkSize)));
    return { chunkSize, concurrency };
  }

  /** Made by `Connection.sftp`/`withSftp`, never by users. @internal */
  static create(sftp: SFTPWrapper, where: { host: string; port: number }): SftpSession {
    return new SftpSession(sftp, where);
  }

  private constructor(sftp: SFTPWrapper, where: { host: string; port: number }) {
    this.#sftp = sftp;
    this.#where = where;
  }

  /**
   * Ends the session because a request went unanswered past the deadline: every operation still
   * running, and any started later, fails with `error`. @internal
   */
  stall(error: SshError): void {
    this.lost(error);
    this.#sftp.end();
  }

  /**
   * Ends the session because its channel (or connection) is gone: every request still waiting
   * for an answer, and every one started later, fails with `error` at once instead of waiting
   * for an answer that cannot come. @internal
   */
  lost(error: SshError): void {
    this.#ended ??= error;
    abandonSftpRequests(this.#sftp, error);
  }

  /**
   * Closes a remote handle; resolves with the server's error answer (or the session's end), or
   * undefined when it was closed. Never waits on a session that is gone.
   */
  #closeHandle(handle: Buffer): Promise<unknown> {
    if (this.#ended) return Promise.resolve(this.#ended);
    return new Promise<unknown>((resolve) => {
      try {
        this.#sftp.close(handle, (err: unknown) => resolve(err ?? undefined));
      } catch (err) {
        resolve(err);
      }
    });
  }

  /**
   * Counts a transfer until it has settled (local files closed, a temporary file removed), so
   * that whoever waits for the session to go idle hears of its end only after that.
   */
  #settles<T>(body: () => Promise<T>): Promise<T> {
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
  #refuse(done: (err: Error, n: number) => void): void {
    const ended = this.#ended;
    if (ended) setImmediate(() => done(ended, 0));
  }

  /** The error of a failed request: an SftpError, or the stall that ended the session. */
  #error(operation: string, path: string, err: unknown): SshError {
    return this.#ended ?? new SftpError(operation, path, err, this.#where);
  }

  /** The error a failed operation ends with: typed errors and bad arguments (RangeError) as they are, anything else as an SftpError. */
  #failure(operation: string, path: string, err: unknown): Error {
    if (this.#ended) return this.#ended;
    return err instanceof SshError || err instanceof RangeError ? err : new SftpError(operation, path, err, this.#where);
  }

  #call<T>(operation: string, path: string, run: (done: (err: unknown, value?: T) => void) => void): Observable<T> {
    return new Observable<T>((subscriber) => {
      if (this.#ended) return subscriber.error(this.#ended);
      let active = true;
      try {
        run((err, value) => {
          if (!active) return;
          if (err) subscriber.error(this.#error(operation, path, err));
          else {
            subscriber.next(value as T);
            subscriber.complete();
          }
        });
      } catch (err) {
        subscriber.error(this.#error(operation, path, err));
      }
      return () => {
        active = false;
      };
    });
  }

  /** Attributes of a path (following links). */
  stat(path: string): Observable<SftpStats> {
    return this.#call<Stats>('stat', path, (done) => this.#sftp.stat(path, done)).pipe(concatMap((s) => [toStats(s)]));
  }

  /** Attributes of a path (not following links). */
  lstat(path: string): Observable<SftpStats> {
    return this.#call<Stats>('lstat', path, (done) => this.#sftp.lstat(path, done)).pipe(concatMap((s) => [toStats(s)]));
  }

  /** The canonical absolute path. */
  realpath(path: string): Observable<string> {
    return this.#call<string>('realpath', path, (done) => this.#sftp.realpath(path, done));
  }

  /** Directory entries, emitted batch by batch as the server sends them (`.` and `..` left out). */
  readdir(path: string): Observable<SftpEntry> {
    return new Observable<SftpEntry>((subscriber) => {
      if (this.#ended) return subscriber.error(this.#ended);
      let handle: Buffer | undefined;
      let active = true;
      const fail = (op: string, err: unknown): void => {
        if (active) subscriber.error(this.#error(op, path, err));
      };
      const next = (): void => {
        if (!handle || !active) return;
        this.#sftp.readdir(handle, (err: unknown, list: FileEntryWithStats[] | false) => {
          if (!active) return;
          if (err && (err as { code?: number }).code === SFTP_STATUS.EOF) return finish();
          if (err) return fail('readdir', err);
          for (const e of list || []) {
            if (e.filename === '.' || e.filename === '..') continue;
            subscriber.next({ name: e.filename, longname: e.longname, stats: toStats(e.attrs as unknown as Stats) });
          }
          next();
        });
      };
      const finish = (): void => {
        const h = handle;
        handle = undefined;
        if (h) void this.#closeHandle(h);
        if (active) subscriber.complete();
      };
      try {
        this.#sftp.opendir(path, (err, h) => {
          if (err) return fail('opendir', err);
          handle = h;
          if (!active) return finish();
          next();
        });
      } catch (err) {
        fail('opendir', err);
      }
      return () => {
        active = false;
        if (handle) void this.#closeHandle(handle);
      };
    });
  }

  /** Creates a directory; with `recursive`, also its missing parents (and no error if it exists). */
  mkdir(path: string, options: MkdirConfig = {}): Observable<void> {
    const one = (p: string): Observable<void> =>
      this.#call<void>('mkdir', p, (done) => this.#sftp.mkdir(p, options.mode !== undefined ? { mode: options.mode } : {}, done));
    if (!options.recursive) return one(path);
    return defer(async () => {
      const parts = posix.normalize(path).split('/');
      for (let i = 1; i <= parts.length; i++) {
        const p = parts.slice(0, i).join('/') || '/';
        if (p === '/' || p === '.') continue;
        const exists = await lastValueFrom(this.stat(p)).then(
          (s) => s.isDirectory,
          () => false,
        );
        if (exists) continue;
        // Another client (or another host of a fan-out on the same server) may make it between
        // the stat and the mkdir: a failure is fine when the directory is there afterwards.
        await lastValueFrom(one(p), { defaultValue: undefined }).catch(async (err: unknown) => {
          const made = await lastValueFrom(this.stat(p)).then((st) => st.isDirectory, () => false);
          if (!made) throw err;
        });
      }
    });
  }

  /** Removes a file, or (with `recursive`) a directory tree. */
  rm(path: string, options: RemoveConfig = {}): Observable<void> {
    return defer(async () => {
      const stats = await lastValueFrom(this.lstat(path));
      if (!stats.isDirectory) {
        await lastValueFrom(this.#call<void>('unlink', path, (done) => this.#sftp.unlink(path, done)), { defaultValue: undefined });
        return;
      }
      if (!options.recursive) throw new SftpError('rm', path, new Error('is a directory (use recursive)'), this.#where);
      const children = await lastValueFrom(this.readdir(path).pipe(toArray()));
      for (const child of children) await lastValueFrom(this.rm(posix.join(path, child.name), options), { defaultValue: undefined });
      await lastValueFrom(this.#call<void>('rmdir', path, (done) => this.#sftp.rmdir(path, done)), { defaultValue: undefined });
    });
  }

  /** Renames, atomically replacing the target where the server offers `posix-rename@openssh.com`. */
  rename(from: string, to: string): Observable<void> {
    return this.#call<void>('rename', from, (done) => {
      try {
        this.#sftp.ext_openssh_rename(from, to, done);
      } catch {
        this.#sftp.rename(from, to, done);
      }
    });
  }

  /**
   * Reads a whole file. The requests are pipelined straight into the result's memory (no
   * intermediate copies).
   *
   * @example
   * ```ts
   * sftp.readFile('/etc/hostname').subscribe((buf) => console.log(buf.toString().trim()));
   * ```
   */
  readFile(path: string): Observable<Buffer> {
    return defer(async () => {
      let whole = Buffer.alloc(0);
      try {
        const end = await this.#transferIn(path, {}, (size) => {
          if (size > constants.MAX_LENGTH) throw new SftpError('read', path, new Error(`${size} bytes do not fit in one Buffer (use readChunks or download)`), this.#where);
          whole = Buffer.allocUnsafe(size);
          return { claim: (position, length) => whole.subarray(position, position + length), fill: () => undefined, unclaim: () => undefined };
        });
        return whole.subarray(0, end);
      } catch (err) {
        throw this.#failure('read', path, err);
      }
    });
  }

  /**
   * Writes a whole file (created or truncated).
   *
   * @example
   * ```ts
   * sftp.writeFile('/etc/motd', 'maintenance at 18:00\n', { mode: 0o644 }).subscribe();
   * ```
   */
  writeFile(path: string, data: string | Uint8Array, options: WriteFileConfig = {}): Observable<void> {
    return defer(async () => {
      const buf = toBuffer(data);
      const { chunkSize, concurrency } = this.#pipelineOf('write', {});
      await this.#transferOut(path, slices([buf], chunkSize), buf.length, options.mode, concurrency, () => undefined);
    });
  }

  /**
   * A remote file as a stream of chunks, in file order, read with pipelined requests (the
   * equivalent of `createReadStream`). Subscribing reads the file at network speed; iterating it
   * with `for await` reads with real demand: no more than `highWaterMark` bytes wait for the
   * loop, and breaking out of the loop stops reading. `start`/`end` select a byte range (`end`
   * exclusive). Each emitted Buffer is the subscriber's to keep. A negative or fractional
   * `start`/`end` throws a RangeError at once.
   *
   * @example
   * ```ts
   * for await (const chunk of sftp.readChunks('/var/log/app.log', { start: 1024 })) {
   *   await slowlyIndex(chunk);
   * }
   * ```
   */
  readChunks(path: string, options: ReadChunksConfig = {}): Observable<Buffer> & AsyncIterable<Buffer> {
    for (const key of ['start', 'end'] as const) {
      const value = options[key];
      if (value !== undefined) checkNumber(key, value, NON_NEGATIVE_INTEGER);
    }
    const highWaterMark = checkNumber('highWaterMark', options.highWaterMark ?? 4 * 1024 * 1024, { min: Number.MIN_VALUE, expected: 'a positive number of bytes' });
    const run = (emit: (chunk: Buffer) => void, room: () => boolean, signal: AbortSignal): { done: Promise<number>; wake: () => void } => {
      let wake = (): void => undefined;
      const ordered = new Map<number, Buffer>();
      let emitted = options.start ?? 0;
      const done = this.#transferIn(
        path,
        options,
        () => ({
          claim: (_position, length) => (room() ? Buffer.allocUnsafe(length) : undefined),
          fill: (position, buf, n) => {
            // Pieces complete out of order; pass them on in file order.
            ordered.set(position, n < buf.length ? buf.subarray(0, n) : buf);
            for (let piece = ordered.get(emitted); piece; piece = ordered.get(emitted)) {
              ordered.delete(emitted);
              emitted += piece.length;
              emit(piece);
            }
          },
          unclaim: () => undefined,
        }),
        signal,
        { start: options.start, end: options.end, wake: (pump) => (wake = pump) },
      );
      return { done, wake: () => wake() };
    };
    const chunks$ = new Observable<Buffer>((subscriber) => {
      const abort = new AbortController();
      run((chunk) => subscriber.next(chunk), () => true, abort.signal).done.then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(this.#failure('read', path, err)),
      );
      return () => abort.abort();
    });
    const iterate = (): AsyncIterableIterator<Buffer> => {
      const abort = new AbortController();
      // Requests go out while fewer than highWaterMark bytes wait for the loop.
      const queue = new DemandQueue<Buffer>({
        size: (chunk) => chunk.length,
        highWater: highWaterMark,
        resume: () => control.wake(),
        stop: () => {
          abort.abort();
          // Settles once the requests in flight are answered and the remote file is closed.
          return control.done.catch(() => undefined);
        },
      });
      const control = run((chunk) => queue.push(chunk), () => !queue.full, abort.signal);
      control.done.then(
        () => queue.end(),
        (err: unknown) => queue.fail(this.#failure('read', path, err)),
      );
      return queue;
    };
    return Object.assign(chunks$, { [Symbol.asyncIterator]: iterate });
  }

  /**
   * Writes a remote file (created or truncated) from a stream of chunks, with pipelined requests
   * (the equivalent of `createWriteStream`); emits progress, completes when the server confirmed
   * every byte. Iterables, async iterables and Node streams are pulled only as fast as the server
   * takes the bytes; an Observable source cannot be slowed down, so what it pushes ahead of the
   * server waits in memory.
   *
   * @example
   * ```ts
   * import { createReadStream } from 'node:fs';
   * import { createGzip } from 'node:zlib';
   *
   * sftp.writeChunks('/backup/db.sql.gz', createReadStream('db.sql').pipe(createGzip())).subscribe((p) => console.log(p.bytes));
   * ```
   */
  writeChunks(
    path: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Observable<Uint8Array>,
    options: TransferConfig & { readonly mode?: number } = {},
  ): Observable<TransferProgress> {
    return new Observable<TransferProgress>((subscriber) => {
      const abort = new AbortController();
      const input = isObservable(source) ? observableChunks(source, abort.signal) : source;
      const { chunkSize, concurrency } = this.#pipelineOf('write', options);
      this.#settles(() => this.#transferOut(path, slices(input, chunkSize), NaN, options.mode, concurrency, (p) => subscriber.next(p), abort.signal)).then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(this.#failure('write', path, err)),
      );
      return () => abort.abort();
    });
  }

  /**
   * Downloads a remote file to a local path with pipelined requests; emits progress and
   * completes when the file is complete on disk. Short reads (servers answering with fewer
   * bytes than asked) are re-requested, so the result is byte-exact. Each answer is written at
   * its offset as it arrives, from a fixed set of reused buffers (`concurrency` of `chunkSize`
   * bytes), so memory stays bounded when the disk is slower than the network. The bytes go to a
   * temporary file beside `local`, renamed over it on success: a failed or cancelled download
   * leaves an existing file untouched. A new local file gets the remote file's permission bits
   * (plus owner write, under the umask, as OpenSSH's `sftp get`); an existing one keeps its
   * mode. With `preserve`, permission bits and times are copied (never setuid, setgid or sticky).
   *
   * @example
   * ```ts
   * sftp.download('/var/log/syslog', './syslog').subscribe((p) => console.log(`${p.bytes}/${p.total}`));
   * ```
   */
  download(remote: string, local: string, config: TransferConfig = {}): Observable<TransferProgress> {
    return new Observable<TransferProgress>((subscriber) => {
      const abort = new AbortController();
      this.#settles(async () => {
        // Written to a temporary file beside the target (created only once the remote file is
        // open) and renamed over it on success: a failed or cancelled download leaves an
        // existing local file as it was, and a symbolic link at the target is replaced, never
        // followed.
        let file: fsp.FileHandle | undefined;
        const temp = posix.join(dirname(local), `.${basename(local)}.rxssh-${randomBytes(6).toString('hex')}.part`);
        let renamed = false;
        try {
          let bytes = 0;
          const end = await this.#transferIn(
            remote,
            config,
            async (size, chunkSize, concurrency, mode) => {
              const existing = await fsp.lstat(local).catch(() => undefined);
              // As OpenSSH's sftp and scp: an existing file keeps its mode; a new one gets the
              // remote file's permission bits (and owner write), under the local umask.
              const out = (file = await fsp.open(temp, 'wx', existing?.isFile() ? existing.mode & 0o777 : (mode & 0o777) | 0o200));
              const pool = new BufferPool(Math.max(1, Math.min(size, chunkSize)), concurrency);
              return {
                claim: () => pool.tryTake(),
                fill: async (position, buf, n) => {
                  try {
                    for (let done = 0; done < n; ) done += (await out.write(buf, done, n - done, position + done)).bytesWritten;
                  } finally {
                    pool.give(buf);
                  }
                  bytes += n;
                  subscriber.next({ bytes, total: size });
                },
                unclaim: (buf) => pool.give(buf),
              };
            },
            abort.signal,
          );
          // The remote file shrank while it was read: keep what it held up to its new end.
          if (file && (await file.stat()).size > end) await file.truncate(end);
          if (config.preserve) {
            const s = await lastValueFrom(this.stat(remote));
            // Permission bits only, as OpenSSH's sftp does: a server never hands out setuid,
            // setgid or sticky bits on local files.
            await file?.chmod(s.mode & 0o777);
            await file?.utimes(s.atime, s.mtime);
          }
          await file?.close();
          file = undefined;
          await fsp.rename(temp, local);
          renamed = true;
        } finally {
          await file?.close();
          if (!renamed) await fsp.rm(temp, { force: true });
        }
      }).then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(this.#failure('download', remote, err)),
      );
      return () => abort.abort();
    });
  }

  /**
   * Uploads a local file with pipelined writes; emits progress, completes when the server
   * confirmed every byte and the file was closed (a CLOSE the server refuses, as a quota can, is
   * an {@link SftpError}). The file is read at each request's offset into a fixed set of reused
   * buffers. A new remote file gets the local file's permission bits (as `scp` and `sftp put`);
   * an existing one keeps its mode unless `preserve`.
   *
   * @example
   * ```ts
   * sftp.upload('./build.tgz', '/srv/build.tgz').subscribe({ complete: () => console.log('uploaded') });
   * ```
   */
  upload(local: string, remote: string, config: TransferConfig = {}): Observable<TransferProgress> {
    return new Observable<TransferProgress>((subscriber) => {
      const abort = new AbortController();
      this.#settles(async () => {
        const { chunkSize, concurrency } = this.#pipelineOf('write', config);
        const file = await fsp.open(local, 'r');
        let st: Awaited<ReturnType<typeof file.stat>>;
        try {
          st = await file.stat();
          // One buffer more than requests in flight, so the next read overlaps the writes. Each
          // reads the file after room for its WRITE header, so the request goes out uncopied.
          const pool = new BufferPool(SFTP_WRITE_HEADROOM + Math.max(1, Math.min(st.size, chunkSize)), concurrency + 1);
          const size = st.size;
          const pieces = async function* (): AsyncGenerator<Piece> {
            for (let position = 0; position < size; ) {
              const buf = await pool.take();
              const { bytesRead } = await file.read(buf, SFTP_WRITE_HEADROOM, Math.min(buf.length - SFTP_WRITE_HEADROOM, size - position), position);
              if (bytesRead === 0) {
                pool.give(buf);
                throw new Error(`${local} shrank to ${position} bytes while it was uploaded`);
              }
              yield { data: buf.subarray(SFTP_WRITE_HEADROOM, SFTP_WRITE_HEADROOM + bytesRead), headroom: SFTP_WRITE_HEADROOM, release: () => pool.give(buf) };
              position += bytesRead;
            }
          };
          // A new remote file gets the local file's permission bits, as with scp and sftp put
          // (setuid, setgid and sticky never); an existing one keeps its mode unless `preserve`.
          await this.#transferOut(remote, pieces(), size, st.mode & 0o777, concurrency, (p) => subscriber.next(p), abort.signal);
        } finally {
          await file.close();
        }
        if (config.preserve) {
          await lastValueFrom(
            this.#call<void>('setstat', remote, (done) => this.#sftp.setstat(remote, { mode: st.mode & 0o777, atime: st.atime, mtime: st.mtime }, done)),
            { defaultValue: undefined },
          );
        }
      }).then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(this.#failure('upload', remote, err)),
      );
      return () => abort.abort();
    });
  }

  /**
   * Pipelined reads of a file (or of `[start, end)`): up to `concurrency` requests in flight,
   * each into a buffer the target hands out (none free: wait until `wake` is called); a short
   * read re-requests the rest of its range. Resolves with where the file ended (its size when
   * opened, or less when it shrank meanwhile); an abort sends no more requests and rejects once
   * those in flight are answered.
   */
  async #transferIn(
    path: string,
    config: TransferConfig,
    targetFor: (size: number, chunkSize: number, concurrency: number, mode: number) => ReadTarget | Promise<ReadTarget>,
    signal?: AbortSignal,
    range: { start?: number | undefined; end?: number | undefined; wake?: (pump: () => void) => void } = {},
  ): Promise<number> {
    const { chunkSize, concurrency } = this.#pipelineOf('read', config);
    const handle = await lastValueFrom(this.#call<Buffer>('open', path, (done) => this.#sftp.open(path, 'r', done)));
    try {
      const { size, mode } = await lastValueFrom(this.#call<Stats>('fstat', path, (done) => this.#sftp.fstat(handle, done)));
      const end = Math.min(size, range.end ?? size);
      const target = await targetFor(end, chunkSize, concurrency, mode);
      const pipeline = new ReadPipeline({
        read: (buf, length, position, done) => (this.#ended ? this.#refuse(done) : this.#sftp.read(handle, buf, 0, length, position, done)),
        target,
        chunkSize,
        concurrency,
        start: range.start ?? 0,
        end,
        isEof: (err) => (err as { code?: number }).code === SFTP_STATUS.EOF,
        failure: (err) => this.#error('read', path, err),
        ...(signal ? { signal } : {}),
      });
      range.wake?.(() => pipeline.wake());
      return await pipeline.run();
    } finally {
      // A read handle's close answer changes nothing about the bytes read.
      await this.#closeHandle(handle);
    }
  }

  /**
   * Uploads a local directory tree: directories first, then files `parallelFiles` at a time,
   * each with pipelined writes. Emits progress after each file.
   *
   * @remarks
   * Regular files and directories are copied; symbolic links are skipped (not followed). A tree
   * deeper than {@link MAX_TREE_DEPTH} levels fails with {@link SftpError} before anything is
   * written. With `preserve`, permission bits are kept, never setuid, setgid or sticky bits.
   *
   * @example
   * ```ts
   * sftp.uploadDir('./dist', '/srv/app', { filter: (p) => !p.endsWith('.map') }).subscribe((p) => console.log(`${p.files}/${p.total}`));
   * ```
   */
  uploadDir(localDir: string, remoteDir: string, config: TreeTransferConfig = {}): Observable<TreeProgress> {
    return this.#tree('uploadDir', remoteDir, config, {
      list: async (rel) =>
        (await fsp.readdir(posix.join(localDir, rel), { withFileTypes: true })).map((e) => ({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile() })),
      makeDir: (rel) => lastValueFrom(this.mkdir(posix.join(remoteDir, rel), { recursive: true }), { defaultValue: undefined }),
      transfer: (rel, signal) => untilDone(this.upload(posix.join(localDir, rel), posix.join(remoteDir, rel), config), signal),
    });
  }

  /**
   * Downloads a remote directory tree: the tree is listed first, then files are fetched
   * `parallelFiles` at a time with pipelined reads. Emits progress after each file.
   *
   * @remarks
   * A hostile server cannot make it write outside `localDir`:
   * - an entry name that is not a plain name (`..`, `.`, empty, or with `/`, `\` or NUL) fails
   *   the whole transfer with {@link SftpError} before any file is written (OpenSSH: "Server
   *   sent suspect path");
   * - entries the server lists as symbolic links are skipped; a symbolic link already inside
   *   `localDir` that leads outside it fails the transfer (it is never written through);
   * - each file is written to a temporary file beside its target and renamed over it, so a
   *   link at the target is replaced, not followed, and a failed file leaves the old one intact;
   * - a tree deeper than {@link MAX_TREE_DEPTH} levels fails before any transfer;
   * - with `preserve`, only permission bits are copied (never setuid, setgid or sticky).
   *
   * @example
   * ```ts
   * sftp.downloadDir('/var/log/app', './logs').subscribe({ complete: () => console.log('fetched') });
   * ```
   */
  downloadDir(remoteDir: string, localDir: string, config: TreeTransferConfig = {}): Observable<TreeProgress> {
    return this.#tree('downloadDir', remoteDir, config, {
      list: async (rel) =>
        (await lastValueFrom(this.readdir(posix.join(remoteDir, rel)).pipe(toArray()))).map((e) => ({
          name: e.name,
          isDirectory: e.stats.isDirectory,
          isFile: e.stats.isFile,
        })),
      makeDir: async (rel) => {
        const dir = posix.join(localDir, rel);
        await makeDir(dir);
        await this.#insideDestination(localDir, dir, remoteDir, rel);
      },
      transfer: async (rel, signal) => {
        const local = posix.join(localDir, rel);
        // The directory was checked when it was made; checked again in case it was swapped.
        await this.#insideDestination(localDir, dirname(local), remoteDir, rel);
        await untilDone(this.download(posix.join(remoteDir, rel), local, config), signal);
      },
    });
  }

  /** Fails unless `dir` (after resolving symbolic links) lies inside the destination root. */
  async #insideDestination(root: string, dir: string, remoteDir: string, rel: string): Promise<void> {
    const [realRoot, realDir] = await Promise.all([fsp.realpath(root), fsp.realpath(dir)]);
    if (realDir !== realRoot && !realDir.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
      throw new SftpError('downloadDir', posix.join(remoteDir, rel), new Error(`the local path ${dir} leads outside the destination (to ${realDir}) through a symbolic link`), this.#where);
    }
  }

  /** A tree transfer: walk the source with `list`, create every directory, then move the files. */
  #tree(
    operation: string,
    remoteRoot: string,
    config: TreeTransferConfig,
    side: {
      list: (rel: string) => Promise<Array<{ name: string; isDirectory: boolean; isFile: boolean }>>;
      makeDir: (rel: string) => Promise<void>;
      transfer: (rel: string, signal: AbortSignal) => Promise<void>;
    },
  ): Observable<TreeProgress> {
    return new Observable<TreeProgress>((subscriber) => {
      const abort = new AbortController();
      this.#settles(async () => {
        const dirs: string[] = [''];
        const files: string[] = [];
        const walk = async (rel: string, depth: number): Promise<void> => {
          if (depth > MAX_TREE_DEPTH) {
            throw new SftpError(operation, posix.join(remoteRoot, rel), new Error(`the tree is deeper than ${MAX_TREE_DEPTH} levels (OpenSSH's limit); nothing was transferred`), this.#where);
          }
          for (const e of await side.list(rel)) {
            if (!safeEntryName(e.name)) {
              // OpenSSH: "Server sent suspect path". Nothing is written: the walk ends before any transfer.
              throw new SftpError('readdir', posix.join(remoteRoot, rel), new Error(`suspect entry name ${JSON.stringify(e.name)} (a path, not a name)`), this.#where);
            }
            const child = rel ? `${rel}/${e.name}` : e.name;
            if (config.filter && !config.filter(child, e.isDirectory)) continue;
            if (e.isDirectory) {
              dirs.push(child);
              await walk(child, depth + 1);
            } else if (e.isFile) files.push(child);
          }
        };
        await walk('', 1);
        for (const d of dirs) await side.makeDir(d);
        await this.#eachFile(files, config.parallelFiles ?? 8, abort.signal, side.transfer, (done, rel) =>
          subscriber.next({ files: done, total: files.length, path: rel }),
        );
      }).then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(this.#failure(operation, remoteRoot, err)),
      );
      // Stops the files in flight too, not only the ones not started yet.
      return () => abort.abort();
    });
  }

  /** Runs `work` for each file, `width` at a time, until `signal` aborts; reports after each. */
  #eachFile(
    files: readonly string[],
    width: number,
    signal: AbortSignal,
    work: (rel: string, signal: AbortSignal) => Promise<void>,
    report: (done: number, rel: string) => void,
  ): Promise<void> {
    let done = 0;
    // `width` files at a time; once aborted, files not started yet are not started.
    return lastValueFrom(
      from(files).pipe(
        mergeMap((rel) => defer(() => (signal.aborted ? EMPTY : from(work(rel, signal).then(() => rel)))), Math.max(1, width)),
        tap((rel) => report(++done, rel)),
      ),
      { defaultValue: undefined },
    ).then(() => undefined);
  }

  /**
   * Pipelined writes of pieces (in order, each at most one request) to a remote file
   * (created/truncated). Pull-based: at most `concurrency` writes in flight (the caller sized the
   * pieces and the count with #pipelineOf), the source read only as fast; a piece's `release` is
   * called once the server confirmed it.
   */
  async #transferOut(
    path: string,
    pieces: AsyncIterable<Piece> | Iterable<Piece>,
    total: number,
    mode: number | undefined,
    concurrency: number,
    onProgress: (p: TransferProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const handle = await lastValueFrom(
      this.#call<Buffer>('open', path, (done) => this.#sftp.open(path, 'w', mode !== undefined ? { mode } : {}, done)),
    );
    const pipeline = new WritePipeline({
      write: (data, position, done, headroom) => {
        if (this.#ended) return this.#refuse(done);
        if (!sendSftpWrite(this.#sftp, handle, data, headroom, position, done)) this.#sftp.write(handle, data, 0, data.length, position, done);
      },
      concurrency,
      onProgress: (bytes, written) => onProgress({ bytes, total: Number.isNaN(total) ? written : total }),
      failure: (err) => this.#error('write', path, err),
      ...(signal ? { signal } : {}),
    });
    let closed: unknown;
    try {
      await pipeline.run(pieces);
    } finally {
      closed = await this.#closeHandle(handle);
    }
    // The server may only find out at CLOSE that the bytes cannot be kept (a quota, NFS): the
    // transfer failed (OpenSSH sftp: "close remote: Failure", exit 1).
    if (closed !== undefined) throw this.#error('close', path, closed);
  }
}
