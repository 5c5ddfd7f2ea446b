/**
 * What SFTP operations take and give: status codes, stats and entries, transfer options and
 * progress, and the limits a tree transfer keeps.
 */
import { optionNames } from '../util/check.js';

/**
 * SFTP status codes (draft-ietf-secsh-filexfer-02 §7).
 *
 * @example
 * ```ts
 * import { SFTP_STATUS, SftpError } from 'rxssh';
 *
 * const missing = (err: unknown) => err instanceof SftpError && err.status === SFTP_STATUS.NO_SUCH_FILE;
 * ```
 */
export const SFTP_STATUS: {
  /** Success. */
  readonly OK: 0;
  /** End of file or directory listing. */
  readonly EOF: 1;
  /** No such file or directory. */
  readonly NO_SUCH_FILE: 2;
  /** Permission denied. */
  readonly PERMISSION_DENIED: 3;
  /** Any other failure. */
  readonly FAILURE: 4;
  /** A malformed packet. */
  readonly BAD_MESSAGE: 5;
  /** No connection (client-side). */
  readonly NO_CONNECTION: 6;
  /** The connection was lost (client-side). */
  readonly CONNECTION_LOST: 7;
  /** The server does not support the operation. */
  readonly OP_UNSUPPORTED: 8;
} = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
};

/**
 * How deep a tree transfer goes before it stops with an error (OpenSSH's sftp stops at 64).
 *
 * @example
 * ```ts
 * import { MAX_TREE_DEPTH } from 'rxssh';
 *
 * console.log(`downloadDir stops at ${MAX_TREE_DEPTH} levels`); // 64
 * ```
 */
export const MAX_TREE_DEPTH = 64;

/**
 * Whether a directory entry's name is a plain name that stays in its directory: not empty, not
 * `.` or `..`, no `/`, no backslash (a separator on Windows), no NUL.
 */
export function safeEntryName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/**
 * Attributes of a remote file.
 *
 * @example
 * ```ts
 * sftp.stat('/etc/hosts').subscribe((s) => console.log(s.size, s.isFile, (s.mode & 0o777).toString(8)));
 * ```
 */
export interface SftpStats {
  /** File mode bits (type and permissions). */
  readonly mode: number;
  /** Size in bytes. */
  readonly size: number;
  /** Owner uid. */
  readonly uid: number;
  /** Owner gid. */
  readonly gid: number;
  /** Access time (seconds since the epoch). */
  readonly atime: number;
  /** Modification time (seconds since the epoch). */
  readonly mtime: number;
  /** A directory? */
  readonly isDirectory: boolean;
  /** A regular file? */
  readonly isFile: boolean;
  /** A symbolic link (from `lstat`)? */
  readonly isSymbolicLink: boolean;
}

/**
 * One directory entry.
 *
 * @example
 * ```ts
 * sftp.readdir('/var/log').subscribe((e) => console.log(e.name, e.stats.size));
 * ```
 */
export interface SftpEntry {
  /** The entry's name (no path). */
  readonly name: string;
  /** The `ls -l`-style line the server sent. */
  readonly longname: string;
  /** Its attributes. */
  readonly stats: SftpStats;
}

/**
 * Progress of a transfer.
 *
 * @example
 * ```ts
 * sftp.upload('./app.tgz', '/srv/app.tgz').subscribe((p) => console.log(`${p.bytes}/${p.total}`));
 * ```
 */
export interface TransferProgress {
  /** Bytes transferred so far. */
  readonly bytes: number;
  /** Total bytes: the file's size when it was opened, or the bytes so far once a download reads past it (a file that grew, `/proc`); for `writeChunks`, whose total is known only at the end, the bytes taken from the source so far. */
  readonly total: number;
}

/**
 * Options of {@link SftpSession.uploadDir} and {@link SftpSession.downloadDir}.
 *
 * @example
 * ```ts
 * sftp.uploadDir('./dist', '/srv/app', { parallelFiles: 4, filter: (path) => !path.endsWith('.map') });
 * ```
 */
export interface TreeTransferConfig extends TransferConfig {
  /** Files transferred at once (default 8). */
  readonly parallelFiles?: number;
  /** Which entries to transfer (paths relative to the root, `/`-separated); default all. */
  readonly filter?: (relativePath: string, isDirectory: boolean) => boolean;
  /**
   * Told of each entry that is not transferred because it is neither a directory nor a regular
   * file: a symbolic link (not followed, so a tree never copies what lies outside it) or a
   * special file (a FIFO, a socket, a device), as OpenSSH's `sftp put -R`/`get -R` say "not a
   * regular file". Without it they are passed over unsaid.
   */
  readonly onSkip?: (relativePath: string, kind: 'symbolic link' | 'special file') => void;
}

/**
 * Progress of a tree transfer: after each file.
 *
 * @example
 * ```ts
 * sftp.downloadDir('/var/log/app', './logs').subscribe((p) => console.log(`${p.files}/${p.total} ${p.path}`));
 * ```
 */
export interface TreeProgress {
  /** Files done. */
  readonly files: number;
  /** Files in the tree (after the filter). */
  readonly total: number;
  /** The file just transferred (relative path). */
  readonly path: string;
}

/**
 * Options of {@link SftpSession.download} and {@link SftpSession.upload}.
 *
 * @example
 * ```ts
 * import type { TransferConfig } from 'rxssh';
 *
 * const config: TransferConfig = { chunkSize: 64 * 1024, concurrency: 32, preserve: true };
 * ```
 */
export interface TransferConfig {
  /**
   * Bytes per request. Default: the largest the server accepts in one request (up to 256 KiB;
   * 255 KiB on OpenSSH, which announces its limits; about 31 KiB on servers that do not).
   */
  readonly chunkSize?: number;
  /** Requests in flight. Default: enough for about 4 MiB in flight, between 8 and 64. */
  readonly concurrency?: number;
  /**
   * Also set the mode on a file that already existed, and keep the source's times (default
   * false). Without it, as with `scp` and `sftp`, a new file still gets the source's permission
   * bits (under the umask where it is created); setuid, setgid and sticky bits are never copied.
   */
  readonly preserve?: boolean;
}

/**
 * Options of {@link SftpSession.readChunks}.
 *
 * @example
 * ```ts
 * import type { ReadChunksConfig } from 'rxssh';
 *
 * const lastMegabyte = (size: number): ReadChunksConfig => ({ start: Math.max(0, size - 2 ** 20), highWaterMark: 2 ** 20 });
 * ```
 */
export interface ReadChunksConfig {
  /** First byte to read (default 0). */
  readonly start?: number;
  /** Where to stop, exclusive (default the end of the file). */
  readonly end?: number;
  /** Bytes per request (see {@link TransferConfig.chunkSize}). */
  readonly chunkSize?: number;
  /** Requests in flight (see {@link TransferConfig.concurrency}). */
  readonly concurrency?: number;
  /** With `for await`: the most bytes read ahead of the loop (default 4 MiB). */
  readonly highWaterMark?: number;
}

/** Options of {@link SftpSession.mkdir}. */
export interface MkdirConfig {
  /** Also make missing parents, and succeed when the directory exists (as `mkdir -p`). */
  readonly recursive?: boolean;
  /** Permission bits of the new directories (the server's umask may narrow them). */
  readonly mode?: number;
}

/** Options of {@link SftpSession.rm}. */
export interface RemoveConfig {
  /** Remove a directory and everything in it (as `rm -r`). */
  readonly recursive?: boolean;
}

/** Options of {@link SftpSession.writeFile}. */
export interface WriteFileConfig {
  /** Permission bits of a file the write creates. */
  readonly mode?: number;
}

/** The names each SFTP config takes. @internal */
export const SFTP_NAMES = {
  transfer: optionNames<TransferConfig>()(['chunkSize', 'concurrency', 'preserve']),
  tree: optionNames<TreeTransferConfig>()(['chunkSize', 'concurrency', 'preserve', 'parallelFiles', 'filter', 'onSkip']),
  writeChunks: optionNames<TransferConfig & { readonly mode?: number }>()(['chunkSize', 'concurrency', 'preserve', 'mode']),
  readChunks: optionNames<ReadChunksConfig>()(['start', 'end', 'chunkSize', 'concurrency', 'highWaterMark']),
  mkdir: optionNames<MkdirConfig>()(['recursive', 'mode']),
  remove: optionNames<RemoveConfig>()(['recursive']),
  writeFile: optionNames<WriteFileConfig>()(['mode']),
};
