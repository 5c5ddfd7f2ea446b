/**
 * An in-process SFTP server over ssh2's `Server`, its files in memory, for scripted SFTP faults
 * the real sftp-server never shows: short reads of any size, answers out of order, a file that
 * shrinks mid-read, a failing write. Directories exist only as names (MKDIR, STAT). Counts
 * what it saw, so specs can check pipelining bounds.
 */
import type { SFTPWrapper } from 'ssh2';
import { Server, utils } from '../../lib/ssh2/index.js';
import { generateEd25519 } from '../../lib/testing/index.js';

const { STATUS_CODE } = utils.sftp;

export interface MemorySftpOptions {
  /** Answer each READ with at most this many bytes (a short read). */
  readonly maxRead?: number;
  /** Hold READ answers and send each batch of this many in reverse order. */
  readonly reverseBatches?: number;
  /** Called before each READ is answered (may change `files`). */
  readonly onRead?: (path: string, offset: number, reads: number) => void;
  /** Fail the Nth WRITE (1-based) with SSH_FX_FAILURE. */
  readonly failWrite?: number;
  /** The size FSTAT reports instead of the real one. */
  readonly reportSize?: number;
  /** Called with the running count of each WRITE, before it is answered. */
  readonly onWrite?: (writes: number) => void;
  /** Fail the Nth READ (1-based) with SSH_FX_FAILURE. */
  readonly failRead?: number;
  /** The mode STAT and FSTAT report for files (default 0o100644). */
  readonly fileMode?: number;
  /**
   * What READDIR lists for a directory path (undefined: no such directory). A hostile server's
   * listing: names are sent as given, whatever they contain.
   */
  readonly listing?: (path: string) => ReadonlyArray<{ readonly name: string; readonly mode: number }> | undefined;
  /** After the Nth WRITE (1-based), leave it unanswered and close the connection cleanly (TCP FIN), as a server whose session process died. */
  readonly endAfterWrites?: number;
  /** After the Nth READ (1-based), leave it unanswered and close the connection cleanly. */
  readonly endAfterReads?: number;
  /** Answer the CLOSE of a handle that was written to with SSH_FX_FAILURE and this message (a quota, NFS). */
  readonly failCloseAfterWrite?: string;
}

export interface MemorySftp {
  readonly port: number;
  readonly files: Map<string, Buffer>;
  /** What the server saw. */
  readonly stats: { reads: number; writes: number; readBytesAsked: number; maxReadsOutstanding: number; maxWriteSize: number; opens: number; closes: number };
  /** The permission bits each file was created with (OPEN's attrs) or last set to (SETSTAT/FSETSTAT). */
  readonly modes: Map<string, number>;
  close(): Promise<void>;
}

export async function memorySftp(options: MemorySftpOptions = {}): Promise<MemorySftp> {
  const files = new Map<string, Buffer>();
  const modes = new Map<string, number>();
  const stats = { reads: 0, writes: 0, readBytesAsked: 0, maxReadsOutstanding: 0, maxWriteSize: 0, opens: 0, closes: 0 };
  const clients = new Set<{ end: () => void }>();
  const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () =>
      client.on('session', (accept) =>
        accept().on('sftp', (acceptSftp) => serveSftp(acceptSftp(), { files, modes, stats, options, end: () => client.end() })),
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    files,
    modes,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of clients) c.end();
      }),
  };
}

interface Served {
  readonly files: Map<string, Buffer>;
  readonly modes: Map<string, number>;
  readonly stats: MemorySftp['stats'];
  readonly options: MemorySftpOptions;
  /** Ends the client's connection cleanly. */
  readonly end: () => void;
}

function serveSftp(sftp: SFTPWrapper, { files, modes, stats, options, end }: Served): void {
  const written = new Set<string>();
  const handles = new Map<string, string>();
  const dirs = new Set<string>();
  let nextHandle = 0;
  let outstanding = 0;
  let held: Array<() => void> = [];
  const pathOf = (handle: Buffer): string | undefined => handles.get(handle.toString('hex'));
  sftp.on('OPEN', (id, filename, flags, attrs) => {
    stats.opens++;
    if (!files.has(filename)) {
      if (!(flags & utils.sftp.OPEN_MODE.CREAT)) return void sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
      files.set(filename, Buffer.alloc(0));
      // Like sftp-server: the mode asked for, or 0666 (before the umask) when none was given.
      modes.set(filename, (attrs.mode ?? 0o666) & 0o7777);
    }
    if (flags & utils.sftp.OPEN_MODE.TRUNC) files.set(filename, Buffer.alloc(0));
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(nextHandle++);
    handles.set(handle.toString('hex'), filename);
    sftp.handle(id, handle);
  });
  sftp.on('FSTAT', (id, handle) => {
    const file = files.get(pathOf(handle) ?? '');
    if (!file) return void sftp.status(id, STATUS_CODE.FAILURE);
    sftp.attrs(id, { mode: options.fileMode ?? 0o100000 | (modes.get(pathOf(handle) ?? '') ?? 0o644), uid: 0, gid: 0, size: options.reportSize ?? file.length, atime: 0, mtime: 0 });
  });
  sftp.on('READ', (id, handle, offset, length) => {
    stats.reads++;
    if (stats.reads === options.endAfterReads) return end();
    if (stats.reads === options.failRead) return void sftp.status(id, STATUS_CODE.FAILURE, 'read error (scripted)');
    stats.readBytesAsked += length;
    stats.maxReadsOutstanding = Math.max(stats.maxReadsOutstanding, ++outstanding);
    const path = pathOf(handle) ?? '';
    const answer = (): void => {
      outstanding--;
      options.onRead?.(path, offset, stats.reads);
      const file = files.get(path) ?? Buffer.alloc(0);
      if (offset >= file.length) return void sftp.status(id, STATUS_CODE.EOF);
      sftp.data(id, file.subarray(offset, offset + Math.min(length, options.maxRead ?? length)));
    };
    if (!options.reverseBatches) return answer();
    held.push(answer);
    if (held.length >= options.reverseBatches) {
      const batch = held.reverse();
      held = [];
      for (const a of batch) a();
    } else {
      // A batch that never fills (the end of a file) is answered on the next turn.
      setImmediate(() => {
        const batch = held.reverse();
        held = [];
        for (const a of batch) a();
      });
    }
  });
  sftp.on('WRITE', (id, handle, offset, data) => {
    stats.writes++;
    stats.maxWriteSize = Math.max(stats.maxWriteSize, data.length);
    options.onWrite?.(stats.writes);
    if (stats.writes === options.endAfterWrites) return end();
    written.add(handle.toString('hex'));
    if (stats.writes === options.failWrite) return void sftp.status(id, STATUS_CODE.FAILURE, 'disk full (scripted)');
    const path = pathOf(handle) ?? '';
    const file = files.get(path) ?? Buffer.alloc(0);
    const grown = file.length >= offset + data.length ? file : Buffer.concat([file, Buffer.alloc(offset + data.length - file.length)]);
    data.copy(grown, offset);
    files.set(path, grown);
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on('CLOSE', (id, handle) => {
    stats.closes++;
    handles.delete(handle.toString('hex'));
    if (options.failCloseAfterWrite !== undefined && written.has(handle.toString('hex'))) return void sftp.status(id, STATUS_CODE.FAILURE, options.failCloseAfterWrite);
    sftp.status(id, STATUS_CODE.OK);
  });
  const setMode = (path: string, attrs: { mode?: number }): void => {
    if (attrs.mode !== undefined) modes.set(path, attrs.mode & 0o7777);
  };
  sftp.on('SETSTAT', (id, path, attrs) => {
    setMode(path, attrs);
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on('FSETSTAT', (id, handle, attrs) => {
    setMode(pathOf(handle) ?? '', attrs);
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on('MKDIR', (id, path) => {
    dirs.add(path);
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on('STAT', (id, path) => {
    if (dirs.has(path)) return void sftp.attrs(id, { mode: 0o40755, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 });
    const file = files.get(path);
    if (!file) return void sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    sftp.attrs(id, { mode: options.fileMode ?? 0o100000 | (modes.get(path) ?? 0o644), uid: 0, gid: 0, size: file.length, atime: 0, mtime: 0 });
  });
  const listed = new Map<string, boolean>();
  sftp.on('OPENDIR', (id, path) => {
    if (!options.listing?.(path)) return void sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(nextHandle++);
    handles.set(handle.toString('hex'), path);
    listed.set(handle.toString('hex'), false);
    sftp.handle(id, handle);
  });
  sftp.on('READDIR', (id, handle) => {
    const key = handle.toString('hex');
    const entries = options.listing?.(pathOf(handle) ?? '');
    if (!entries || listed.get(key) !== false) return void sftp.status(id, STATUS_CODE.EOF);
    listed.set(key, true);
    sftp.name(
      id,
      entries.map((e) => ({ filename: e.name, longname: e.name, attrs: { mode: e.mode, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 } })),
    );
  });
}
