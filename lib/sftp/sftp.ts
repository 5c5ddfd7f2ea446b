/**
 * SFTP as observables: `Connection.sftp()` holds an SFTP subsystem channel while subscribed;
 * its operations are cold observables; `download`/`upload` pipeline parallel requests, survive
 * short reads and report progress.
 *
 * @module
 */
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { promises as fsp } from 'node:fs';
import { posix, dirname } from 'node:path';
import type { SFTPWrapper } from '../ssh2/index.js';
import type { SshError } from '../errors.js';
import { makeDir } from '../util/make-dir.js';
import { checkOptions, pickOptions } from '../util/check.js';
import { SFTP_NAMES, type SftpStats, type SftpEntry, type TransferProgress, type TreeTransferConfig, type TreeProgress, type TransferConfig, type ReadChunksConfig, type MkdirConfig, type RemoveConfig, type WriteFileConfig } from './types.js';
import { untilDone } from './streams.js';
import { SftpCore } from './core.js';
import * as transfers from './transfers.js';
import * as entries from './entries.js';
import { insideDestination, treeTransfer } from './tree.js';

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
  readonly #core: SftpCore;

  /** Made by `Connection.sftp`/`withSftp`, never by users. @internal */
  static create(sftp: SFTPWrapper, where: { host: string; port: number }): SftpSession {
    return new SftpSession(new SftpCore(sftp, where));
  }

  private constructor(core: SftpCore) {
    this.#core = core;
  }

  /**
   * Ends the session because a request went unanswered past the deadline: every operation still
   * running, and any started later, fails with `error`. @internal
   */
  stall(error: SshError): void {
    this.#core.end(error);
    this.#core.sftp.end();
  }

  /**
   * Ends the session because its channel (or connection) is gone: every request still waiting
   * for an answer, and every one started later, fails with `error` at once instead of waiting
   * for an answer that cannot come. @internal
   */
  lost(error: SshError): void {
    this.#core.end(error);
  }

  /** Calls `listener` once no transfer is running: now, or when the last one settles. @internal */
  whenIdle(listener: () => void): () => void {
    return this.#core.whenIdle(listener);
  }

  /** Attributes of a path (following links). */
  stat(path: string): Observable<SftpStats> {
    return this.#core.stat(path);
  }

  /** Attributes of a path (not following links). */
  lstat(path: string): Observable<SftpStats> {
    return entries.lstat(this.#core, path);
  }

  /** The canonical absolute path. */
  realpath(path: string): Observable<string> {
    return this.#core.call<string>('realpath', path, (done) => this.#core.sftp.realpath(path, done));
  }

  /** Directory entries, emitted batch by batch as the server sends them (`.` and `..` left out). */
  readdir(path: string): Observable<SftpEntry> {
    return entries.readdir(this.#core, path);
  }

  /** Creates a directory; with `recursive`, also its missing parents (and no error if it exists). */
  mkdir(path: string, options: MkdirConfig = {}): Observable<void> {
    checkOptions('SftpSession.mkdir()', options, SFTP_NAMES.mkdir);
    return entries.mkdir(this.#core, path, options);
  }

  /** Removes a file, or (with `recursive`) a directory tree. */
  rm(path: string, options: RemoveConfig = {}): Observable<void> {
    checkOptions('SftpSession.rm()', options, SFTP_NAMES.remove);
    return entries.rm(this.#core, path, options);
  }

  /** Renames, atomically replacing the target where the server offers `posix-rename@openssh.com`. */
  rename(from: string, to: string): Observable<void> {
    return this.#core.call<void>('rename', from, (done) => {
      try {
        this.#core.sftp.ext_openssh_rename(from, to, done);
      } catch {
        this.#core.sftp.rename(from, to, done);
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
    return transfers.readFile(this.#core, path);
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
    checkOptions('SftpSession.writeFile()', options, SFTP_NAMES.writeFile);
    return transfers.writeFile(this.#core, path, data, options);
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
    checkOptions('SftpSession.readChunks()', options, SFTP_NAMES.readChunks);
    return transfers.readChunks(this.#core, path, options);
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
    checkOptions('SftpSession.writeChunks()', options, SFTP_NAMES.writeChunks);
    return transfers.writeChunks(this.#core, path, source, options);
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
    checkOptions('SftpSession.download()', config, SFTP_NAMES.transfer);
    return transfers.download(this.#core, remote, local, config);
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
    checkOptions('SftpSession.upload()', config, SFTP_NAMES.transfer);
    return transfers.upload(this.#core, local, remote, config);
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
    checkOptions('SftpSession.uploadDir()', config, SFTP_NAMES.tree);
    const each = pickOptions(config, SFTP_NAMES.transfer);
    return treeTransfer(this.#core, 'uploadDir', remoteDir, config, {
      list: async (rel) =>
        (await fsp.readdir(posix.join(localDir, rel), { withFileTypes: true })).map((e) => ({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile(), isSymbolicLink: e.isSymbolicLink() })),
      makeDir: (rel) => lastValueFrom(this.mkdir(posix.join(remoteDir, rel), { recursive: true }), { defaultValue: undefined }),
      transfer: (rel, signal) => untilDone(this.upload(posix.join(localDir, rel), posix.join(remoteDir, rel), each), signal),
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
    checkOptions('SftpSession.downloadDir()', config, SFTP_NAMES.tree);
    const each = pickOptions(config, SFTP_NAMES.transfer);
    return treeTransfer(this.#core, 'downloadDir', remoteDir, config, {
      list: async (rel) =>
        (await lastValueFrom(this.readdir(posix.join(remoteDir, rel)).pipe(toArray()))).map((e) => ({
          name: e.name,
          isDirectory: e.stats.isDirectory,
          isFile: e.stats.isFile,
          isSymbolicLink: e.stats.isSymbolicLink,
        })),
      makeDir: async (rel) => {
        const dir = posix.join(localDir, rel);
        await makeDir(dir);
        await insideDestination(this.#core, localDir, dir, remoteDir, rel);
      },
      transfer: async (rel, signal) => {
        const local = posix.join(localDir, rel);
        // The directory was checked when it was made; checked again in case it was swapped.
        await insideDestination(this.#core, localDir, dirname(local), remoteDir, rel);
        await untilDone(this.download(posix.join(remoteDir, rel), local, each), signal);
      },
    });
  }
}
