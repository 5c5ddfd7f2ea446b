/**
 * The file transfers of an SFTP session (`SftpSession` delegates to them): whole files in memory,
 * chunk streams both ways, and downloads and uploads between a local path and a remote one.
 */
import { constants } from 'node:buffer';
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, posix } from 'node:path';
import { isObservable, lastValueFrom, Observable, defer } from 'rxjs';
import { SFTP_WRITE_HEADROOM } from '../ssh2/index.js';
import { SftpError } from '../errors.js';
import { BufferPool } from '../util/buffer-pool.js';
import { DemandQueue } from '../util/demand-queue.js';
import { slices, type Piece } from './pipelines.js';
import { toBuffer } from '../util/bytes.js';
import { checkNumber, NON_NEGATIVE_INTEGER } from '../util/check.js';
import type { ReadChunksConfig, TransferConfig, TransferProgress, WriteFileConfig } from './types.js';
import { observableChunks } from './streams.js';
import type { SftpCore } from './core.js';

/** `SftpSession.readFile`: pipelined straight into the result. */
export function readFile(core: SftpCore, path: string): Observable<Buffer> {
  return defer(async () => {
    let whole = Buffer.alloc(0);
    try {
      // The size when opened, read in place; what the file holds past it (it grew, or /proc), in order after it.
      const past: Buffer[] = [];
      let size = 0;
      const end = await core.transferIn(path, {}, (opened) => {
        if (opened > constants.MAX_LENGTH) throw new SftpError('read', path, new Error(`${opened} bytes do not fit in one Buffer (use readChunks or download)`), core.where);
        size = opened;
        whole = Buffer.allocUnsafe(opened);
        return {
          claim: (position, length) => (position < size ? whole.subarray(position, position + length) : Buffer.allocUnsafe(length)),
          fill: (position, buf, n) => {
            if (position >= size) past.push(buf.subarray(0, n));
          },
          unclaim: () => undefined,
        };
      });
      return past.length === 0 ? whole.subarray(0, end) : Buffer.concat([whole, ...past]);
    } catch (err) {
      throw core.failure('read', path, err);
    }
  });
}

/** `SftpSession.writeFile`. */
export function writeFile(core: SftpCore, path: string, data: string | Uint8Array, options: WriteFileConfig): Observable<void> {
  return defer(async () => {
    const buf = toBuffer(data);
    const { chunkSize, concurrency } = core.pipelineOf('write', {});
    await core.transferOut(path, slices([buf], chunkSize), buf.length, options.mode, concurrency, () => undefined);
  });
}

/** `SftpSession.readChunks`: an Observable that reads at network speed, an iterator that reads with demand. */
export function readChunks(core: SftpCore, path: string, options: ReadChunksConfig): Observable<Buffer> & AsyncIterable<Buffer> {
  for (const key of ['start', 'end'] as const) {
    const value = options[key];
    if (value !== undefined) checkNumber(key, value, NON_NEGATIVE_INTEGER);
  }
  const highWaterMark = checkNumber('highWaterMark', options.highWaterMark ?? 4 * 1024 * 1024, { min: Number.MIN_VALUE, expected: 'a positive number of bytes' });
  const run = (emit: (chunk: Buffer) => void, room: () => boolean, signal: AbortSignal): { done: Promise<number>; wake: () => void } => {
    let wake = (): void => undefined;
    const ordered = new Map<number, Buffer>();
    let emitted = options.start ?? 0;
    const done = core.transferIn(
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
      (err: unknown) => subscriber.error(core.failure('read', path, err)),
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
      (err: unknown) => queue.fail(core.failure('read', path, err)),
    );
    return queue;
  };
  return Object.assign(chunks$, { [Symbol.asyncIterator]: iterate });
}

/** `SftpSession.writeChunks`. */
export function writeChunks(core: SftpCore, path: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Observable<Uint8Array>, options: TransferConfig & { readonly mode?: number }): Observable<TransferProgress> {
  return core.transfer<TransferProgress>('write', path, (emit, signal) => {
    const input = isObservable(source) ? observableChunks(source, signal) : source;
    const { chunkSize, concurrency } = core.pipelineOf('write', options);
    return core.transferOut(path, slices(input, chunkSize), NaN, options.mode, concurrency, emit, signal);
  });
}

/** `SftpSession.download`: to a temporary file beside `local`, renamed over it on success. */
export function download(core: SftpCore, remote: string, local: string, config: TransferConfig): Observable<TransferProgress> {
  return core.transfer<TransferProgress>('download', remote, async (emit, signal) => {
    // Written to a temporary file beside the target (created only once the remote file is
    // open) and renamed over it on success: a failed or cancelled download leaves an
    // existing local file as it was, and a symbolic link at the target is replaced, never
    // followed.
    let file: fsp.FileHandle | undefined;
    const temp = posix.join(dirname(local), `.${basename(local)}.rxssh-${randomBytes(6).toString('hex')}.part`);
    let renamed = false;
    try {
      let bytes = 0;
      const end = await core.transferIn(
        remote,
        config,
        async (size, chunkSize, concurrency, mode) => {
          const existing = await fsp.lstat(local).catch(() => undefined);
          // As OpenSSH's sftp and scp: an existing file keeps its mode; a new one gets the
          // remote file's permission bits (and owner write), under the local umask.
          const out = (file = await fsp.open(temp, 'wx', existing?.isFile() ? existing.mode & 0o777 : (mode & 0o777) | 0o200));
          // Room for a whole request even when the file looks small: it is read to its end-of-file.
          const pool = new BufferPool(chunkSize, concurrency);
          return {
            claim: () => pool.tryTake(),
            fill: async (position, buf, n) => {
              try {
                for (let done = 0; done < n; ) done += (await out.write(buf, done, n - done, position + done)).bytesWritten;
              } finally {
                pool.give(buf);
              }
              bytes += n;
              emit({ bytes, total: Math.max(size, bytes) });
            },
            unclaim: (buf) => pool.give(buf),
          };
        },
        signal,
      );
      // The remote file shrank while it was read: keep what it held up to its new end.
      if (file && (await file.stat()).size > end) await file.truncate(end);
      if (config.preserve) {
        const s = await lastValueFrom(core.stat(remote));
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
  });
}

/** `SftpSession.upload`: read at each request's offset into reused buffers, to the file's end (it may have grown). */
export function upload(core: SftpCore, local: string, remote: string, config: TransferConfig): Observable<TransferProgress> {
  return core.transfer<TransferProgress>('upload', remote, async (emit, signal) => {
    const { chunkSize, concurrency } = core.pipelineOf('write', config);
    // As sftp put: only a regular file (a device or a FIFO may never end; asked before opening, which would wait for a FIFO's writer).
    if (!(await fsp.stat(local)).isFile()) throw new SftpError('upload', remote, new Error(`${local} is not a regular file`), core.where);
    const file = await fsp.open(local, 'r');
    let st: Awaited<ReturnType<typeof file.stat>>;
    try {
      st = await file.stat();
      // One buffer more than requests in flight, so the next read overlaps the writes. Each
      // reads the file after room for its WRITE header, so the request goes out uncopied.
      const pool = new BufferPool(SFTP_WRITE_HEADROOM + chunkSize, concurrency + 1);
      const size = st.size;
      const pieces = async function* (): AsyncGenerator<Piece> {
        // To the end of the file as it is read (a log appended to meanwhile comes whole, as with sftp put).
        for (let position = 0; ; ) {
          const buf = await pool.take();
          const { bytesRead } = await file.read(buf, SFTP_WRITE_HEADROOM, buf.length - SFTP_WRITE_HEADROOM, position);
          if (bytesRead === 0) {
            pool.give(buf);
            if (position < size) throw new Error(`${local} shrank to ${position} bytes while it was uploaded`);
            return;
          }
          yield { data: buf.subarray(SFTP_WRITE_HEADROOM, SFTP_WRITE_HEADROOM + bytesRead), headroom: SFTP_WRITE_HEADROOM, release: () => pool.give(buf) };
          position += bytesRead;
        }
      };
      // A new remote file gets the local file's permission bits, as with scp and sftp put
      // (setuid, setgid and sticky never); an existing one keeps its mode unless `preserve`.
      await core.transferOut(remote, pieces(), size, st.mode & 0o777, concurrency, (p) => emit(p), signal);
    } finally {
      await file.close();
    }
    if (config.preserve) {
      await lastValueFrom(
        core.call<void>('setstat', remote, (done) => core.sftp.setstat(remote, { mode: st.mode & 0o777, atime: st.atime, mtime: st.mtime }, done)),
        { defaultValue: undefined },
      );
    }
  });
}
