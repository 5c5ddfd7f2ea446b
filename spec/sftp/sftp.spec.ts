/**
 * SFTP transfers against an in-process server with scripted faults: short reads of odd sizes,
 * answers out of order, a file that shrinks while it is read, a failing write, cancellation.
 * (The same operations against real sshd and Dropbear: spec/integration.)
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, Observable, take, takeWhile, toArray } from 'rxjs';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SFTP_STATUS, SftpError, authenticate, connect, password, verifyHostKey, withConnection, type SftpSession, type TransferProgress } from '../../lib/index.js';
import { errorOf, eventually, expectNoLeaks, resources } from '../helpers/index.js';
import { memorySftp, type MemorySftp, type MemorySftpOptions } from '../helpers/sftp-server.js';

/** ssh2's SFTP client class, whose write() copies each request's bytes. */
const { SFTP } = createRequire(import.meta.url)('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: { write: (...args: unknown[]) => void } } };

let server: MemorySftp | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-sftp-spec-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: MemorySftpOptions = {}): Promise<MemorySftp> {
  server = await memorySftp(options);
  return server;
}
const onSftp = <T>(s: MemorySftp, work: (sftp: SftpSession) => Observable<T> | Promise<T>): Observable<T> =>
  connect({ host: '127.0.0.1', port: s.port, username: 'u' }).pipe(
    verifyHostKey(() => true),
    authenticate(password('p')),
    withConnection((c) => c.withSftp((sftp) => from(work(sftp)))),
  );
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('download', () => {
  it('short reads of an odd size, answered out of order: hash-exact, requests bounded by concurrency', async () => {
    const s = await start({ maxRead: 1000, reverseBatches: 5 });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    s.files.set('/f', data);
    const progress = await lastValueFrom(onSftp(s, (sftp) => lastValueFrom(sftp.download('/f', join(dir, 'f'), { chunkSize: 64 * 1024, concurrency: 8 }).pipe(toArray()))));
    expect(sha(readFileSync(join(dir, 'f')))).toBe(sha(data));
    expect(progress.at(-1)).toEqual({ bytes: data.length, total: data.length });
    expect(progress.every((p, i) => i === 0 || p.bytes > (progress[i - 1]?.bytes ?? 0))).toBe(true);
    expect(s.stats.maxReadsOutstanding).toBeLessThanOrEqual(8);
    expect(s.stats.reads).toBeGreaterThan(data.length / 1000); // every short read was followed up
    expect(s.stats.closes).toBe(s.stats.opens);
  });

  it('a file that shrinks while it is read ends where the file now ends', async () => {
    const data = randomBytes(1024 * 1024);
    const s = await start({
      onRead: (path, _offset, reads) => {
        if (reads === 3) s.files.set(path, data.subarray(0, 100_000));
      },
    });
    s.files.set('/f', data);
    await lastValueFrom(onSftp(s, (sftp) => sftp.download('/f', join(dir, 'f'), { chunkSize: 32 * 1024, concurrency: 4 })), { defaultValue: undefined });
    expect(sha(readFileSync(join(dir, 'f')))).toBe(sha(data.subarray(0, 100_000)));
  });

  it('reads on to the end-of-file, as sftp does: a file that grows while it is read, one whose size says 0 (/proc), every way of reading', async () => {
    const data = randomBytes(300_000);
    const grown = Buffer.concat([data, randomBytes(200_000)]);
    const s = await start({
      onRead: (path, _offset, reads) => {
        if (path === '/log' && reads === 2) s.files.set(path, grown); // appended to after it was opened
      },
    });
    s.files.set('/log', data);
    await lastValueFrom(onSftp(s, (sftp) => sftp.download('/log', join(dir, 'log'), { chunkSize: 32 * 1024, concurrency: 4 })), { defaultValue: undefined });
    expect(sha(readFileSync(join(dir, 'log')))).toBe(sha(grown));

    const proc = await start({ reportSize: 0 });
    const cpuinfo = Buffer.from('processor\t: 0\nmodel name\t: a cpu\n'.repeat(2000)); // ~70 KB, more than one request
    proc.files.set('/proc/cpuinfo', cpuinfo);
    const [progress, whole, chunks] = await lastValueFrom(
      onSftp(proc, async (sftp) => [
        await lastValueFrom(sftp.download('/proc/cpuinfo', join(dir, 'cpuinfo'), { chunkSize: 32 * 1024 })),
        await lastValueFrom(sftp.readFile('/proc/cpuinfo')),
        Buffer.concat(await lastValueFrom(sftp.readChunks('/proc/cpuinfo', { chunkSize: 32 * 1024 }).pipe(toArray()))),
      ]),
    );
    expect(readFileSync(join(dir, 'cpuinfo')).equals(cpuinfo)).toBe(true);
    expect(progress).toEqual({ bytes: cpuinfo.length, total: cpuinfo.length });
    expect((whole as Buffer).equals(cpuinfo)).toBe(true);
    expect((chunks as Buffer).equals(cpuinfo)).toBe(true);
    // A range is read to its end (past the size the file claims), and no further.
    const part = await lastValueFrom(onSftp(proc, (sftp) => lastValueFrom(sftp.readChunks('/proc/cpuinfo', { start: 5, end: 100_000 + 5, chunkSize: 32 * 1024 }).pipe(toArray()))));
    expect(Buffer.concat(part).equals(cpuinfo.subarray(5))).toBe(true);
    const head = await lastValueFrom(onSftp(proc, (sftp) => lastValueFrom(sftp.readChunks('/proc/cpuinfo', { end: 10 }).pipe(toArray()))));
    expect(Buffer.concat(head).equals(cpuinfo.subarray(0, 10))).toBe(true);
  });

  it('a file that is not a regular one (a device: it may never end) is an SftpError, as sftp refuses it; nothing is written', async () => {
    const s = await start({ fileMode: 0o020666 }); // a character device
    s.files.set('/dev/zero', Buffer.alloc(64 * 1024));
    const err = await errorOf(onSftp(s, (sftp) => sftp.download('/dev/zero', join(dir, 'zero'))));
    expect(err).toBeInstanceOf(SftpError);
    expect((err as Error).message).toMatch(/not a regular file/);
    expect(existsSync(join(dir, 'zero'))).toBe(false);
    expect(await errorOf(onSftp(s, (sftp) => sftp.readFile('/dev/zero')))).toBeInstanceOf(SftpError);
  });

  it('a missing file is an SftpError (open, NO_SUCH_FILE); unsubscribing mid-way closes the remote and local handles', async () => {
    const s = await start({ reverseBatches: 4 });
    s.files.set('/big', randomBytes(8 * 1024 * 1024));
    const baseline = resources();
    const err = await errorOf(onSftp(s, (sftp) => lastValueFrom(sftp.download('/nope', join(dir, 'nope')))));
    expect(err).toBeInstanceOf(SftpError);
    expect(err).toMatchObject({ operation: 'open', status: SFTP_STATUS.NO_SUCH_FILE, path: '/nope', port: s.port });
    const { last, closed } = await lastValueFrom(
      onSftp(s, async (sftp) => {
        // takeWhile unsubscribes the download after 1 MiB; the session stays open.
        const last = await lastValueFrom(sftp.download('/big', join(dir, 'big'), { chunkSize: 32 * 1024, concurrency: 4 }).pipe(takeWhile((p) => p.bytes < 1024 * 1024, true)));
        return { last, closed: await eventually(() => s.stats.closes === s.stats.opens - 1) }; // the failed open had no handle
      }),
    );
    expect(last.bytes).toBeLessThan(8 * 1024 * 1024);
    expect(closed).toBe(true);
    await expectNoLeaks(baseline);
  });
});

describe('bad arguments', () => {
  it('a zero or fractional chunkSize or concurrency is a RangeError, not a hang or an empty file', async () => {
    const s = await start();
    s.files.set('/f', randomBytes(1000));
    const errors = await lastValueFrom(
      onSftp(s, async (sftp) => [
        await errorOf(sftp.download('/f', join(dir, 'a'), { chunkSize: 0 })),
        await errorOf(sftp.download('/f', join(dir, 'b'), { concurrency: 0 })),
        await errorOf(sftp.upload(join(dir, 'missing-is-fine-here'), '/g', { concurrency: 1.5 })),
        await errorOf(sftp.readChunks('/f', { chunkSize: -1 })),
      ]),
    );
    for (const err of errors) expect(err).toBeInstanceOf(RangeError);
    expect((errors[0] as Error).message).toMatch(/chunkSize must be a positive integer, got 0/);
    const thrown = await errorOf(onSftp(s, (sftp) => sftp.readChunks('/f', { start: -1 })));
    expect(thrown).toBeInstanceOf(RangeError);
  });

  it('readFile of a file too big for one Buffer is an SftpError naming the way out, before any read', async () => {
    const s = await start({ reportSize: 2 ** 53 - 1 });
    s.files.set('/huge', Buffer.from('tiny, but the server says otherwise'));
    const err = await errorOf(onSftp(s, (sftp) => sftp.readFile('/huge')));
    expect(err).toBeInstanceOf(SftpError);
    expect((err as Error).message).toMatch(/do not fit in one Buffer \(use readChunks or download\)/);
    expect(s.stats.reads).toBe(0);
    expect(s.stats.closes).toBe(s.stats.opens);
  });

  it('a download whose remote file is missing leaves an existing local file untouched', async () => {
    const s = await start();
    writeFileSync(join(dir, 'keep'), 'precious');
    const err = await errorOf(onSftp(s, (sftp) => sftp.download('/missing', join(dir, 'keep'))));
    expect(err).toMatchObject({ operation: 'open', status: SFTP_STATUS.NO_SUCH_FILE });
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('precious');
  });
});

describe('readChunks', () => {
  it('emits the file in order although answers come out of order, and a byte range', async () => {
    const s = await start({ maxRead: 7000, reverseBatches: 6 });
    const data = randomBytes(2 * 1024 * 1024 + 5);
    s.files.set('/f', data);
    const [whole, part] = await lastValueFrom(
      onSftp(s, async (sftp) => [
        Buffer.concat(await lastValueFrom(sftp.readChunks('/f', { chunkSize: 32 * 1024 }).pipe(toArray()))),
        Buffer.concat(await lastValueFrom(sftp.readChunks('/f', { start: 1000, end: 200_000, chunkSize: 16 * 1024 }).pipe(toArray()))),
      ]),
    );
    expect(sha(whole ?? Buffer.alloc(0))).toBe(sha(data));
    expect(sha(part ?? Buffer.alloc(0))).toBe(sha(data.subarray(1000, 200_000)));
  });

  it('for await reads with demand: no more than highWaterMark plus the requests in flight ahead of the loop; break stops reading', async () => {
    const s = await start();
    const data = randomBytes(16 * 1024 * 1024);
    s.files.set('/f', data);
    const asked: number[] = [];
    const got = await lastValueFrom(
      onSftp(s, async (sftp) => {
        let bytes = 0;
        for await (const chunk of sftp.readChunks('/f', { chunkSize: 32 * 1024, concurrency: 4, highWaterMark: 256 * 1024 })) {
          bytes += chunk.length;
          await new Promise((r) => setTimeout(r, 5)); // a slow consumer
          asked.push(s.stats.readBytesAsked - bytes);
          if (bytes >= 2 * 1024 * 1024) break;
        }
        expect(s.stats.closes).toBe(s.stats.opens); // break waited for the remote file to be closed
        return bytes;
      }),
    );
    expect(got).toBe(2 * 1024 * 1024);
    expect(Math.max(...asked)).toBeLessThanOrEqual(256 * 1024 + 4 * 32 * 1024);
    expect(s.stats.readBytesAsked).toBeLessThan(4 * 1024 * 1024); // it stopped, far short of 16 MiB
  });

  it('for await ends by throwing the SftpError, after the chunks before it', async () => {
    const s = await start();
    const err = await errorOf(
      onSftp(s, async (sftp) => {
        for await (const chunk of sftp.readChunks('/missing')) void chunk;
      }),
    );
    expect(err).toMatchObject({ operation: 'open', status: SFTP_STATUS.NO_SUCH_FILE });
  });
});

describe('upload, writeChunks and writeFile', () => {
  it('upload from reused buffers: hash-exact, one request per chunkSize', async () => {
    const s = await start();
    const data = randomBytes(5 * 1024 * 1024 + 3);
    writeFileSync(join(dir, 'src'), data);
    const progress = await lastValueFrom(onSftp(s, (sftp) => lastValueFrom(sftp.upload(join(dir, 'src'), '/up', { chunkSize: 20_000, concurrency: 6 }).pipe(toArray()))));
    expect(sha(s.files.get('/up') ?? Buffer.alloc(0))).toBe(sha(data));
    expect(progress.at(-1)).toEqual({ bytes: data.length, total: data.length });
    expect(s.stats.maxWriteSize).toBe(20_000);
    expect(s.stats.writes).toBe(Math.ceil(data.length / 20_000));
  });

  it('upload reads the local file to its end (a log appended to while it goes up comes whole, as with sftp put); a device or a FIFO is refused at once', async () => {
    const data = randomBytes(400_000);
    const more = randomBytes(150_000);
    const src = join(dir, 'growing');
    writeFileSync(src, data);
    const s = await start({ onWrite: (n) => n === 2 && appendFileSync(src, more) });
    const progress = await lastValueFrom(onSftp(s, (sftp) => lastValueFrom(sftp.upload(src, '/log', { chunkSize: 32 * 1024, concurrency: 2 }).pipe(toArray()))));
    expect(sha(s.files.get('/log') ?? Buffer.alloc(0))).toBe(sha(Buffer.concat([data, more])));
    expect(progress.at(-1)).toEqual({ bytes: data.length + more.length, total: data.length + more.length });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const special of ['/dev/zero', fifo]) {
      const err = await errorOf(onSftp(s, (sftp) => sftp.upload(special, '/nothing')));
      expect(err).toBeInstanceOf(SftpError);
      expect((err as Error).message).toContain(`${special} is not a regular file`);
    }
    expect(s.files.has('/nothing')).toBe(false);
  });

  it('upload puts each request\'s header before the bytes it read (no copy by ssh2\'s write); writeChunks goes through ssh2\'s write', async () => {
    const s = await start();
    const data = randomBytes(3 * 1024 * 1024 + 5);
    writeFileSync(join(dir, 'src'), data);
    const ssh2Write = vi.spyOn(SFTP.prototype, 'write');
    try {
      await lastValueFrom(onSftp(s, (sftp) => lastValueFrom(sftp.upload(join(dir, 'src'), '/up'))));
      expect(ssh2Write).not.toHaveBeenCalled();
      expect(sha(s.files.get('/up') ?? Buffer.alloc(0))).toBe(sha(data));
      await lastValueFrom(onSftp(s, (sftp) => lastValueFrom(sftp.writeChunks('/w', from([data])))));
      expect(ssh2Write).toHaveBeenCalled();
      expect(sha(s.files.get('/w') ?? Buffer.alloc(0))).toBe(sha(data));
    } finally {
      ssh2Write.mockRestore();
    }
  });

  it('writeChunks gathers small chunks into whole requests (async iterable) and takes an Observable', async () => {
    const s = await start();
    const parts = Array.from({ length: 3000 }, (_, i) => randomBytes(100 + (i % 900)));
    const whole = Buffer.concat(parts);
    const progress: TransferProgress[] = [];
    await lastValueFrom(
      onSftp(s, async (sftp) => {
        async function* source(): AsyncGenerator<Uint8Array> {
          for (const p of parts) yield new Uint8Array(p);
        }
        await lastValueFrom(sftp.writeChunks('/a', source(), { chunkSize: 16 * 1024 }).pipe(toArray())).then((p) => progress.push(...p));
        expect(s.stats.maxWriteSize).toBe(16 * 1024);
        expect(s.stats.writes).toBe(Math.ceil(whole.length / (16 * 1024)));
        await lastValueFrom(sftp.writeChunks('/b', from(parts)), { defaultValue: undefined });
      }),
    );
    expect(sha(s.files.get('/a') ?? Buffer.alloc(0))).toBe(sha(whole));
    expect(sha(s.files.get('/b') ?? Buffer.alloc(0))).toBe(sha(whole));
    expect(progress.at(-1)?.bytes).toBe(whole.length);
    expect(s.stats.maxWriteSize).toBe(31_952); // '/b': the default size, ssh2's limit for a server without limits@openssh.com
  });

  it('a source that stalls: unsubscribing closes the remote file at once, and a failed write is reported without waiting for it', async () => {
    const s = await start({ failWrite: 3 });
    const stall = new Promise<never>(() => undefined);
    async function* stalled(n: number): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < n; i++) yield randomBytes(16 * 1024);
      await stall;
    }
    const outcome = await lastValueFrom(
      onSftp(s, async (sftp) => {
        // Writes 1 and 2 succeed, then the source stalls: unsubscribe after the first progress.
        await lastValueFrom(sftp.writeChunks('/a', stalled(2), { chunkSize: 16 * 1024 }).pipe(takeWhile((p) => p.bytes < 16 * 1024, true)));
        const closed = await eventually(() => s.stats.closes === s.stats.opens);
        // Write 3 fails while the source stalls after it.
        const err = await errorOf(sftp.writeChunks('/b', stalled(1), { chunkSize: 16 * 1024 }));
        return { closed, err };
      }),
    );
    expect(outcome.closed).toBe(true);
    expect(outcome.err).toMatchObject({ operation: 'write', status: SFTP_STATUS.FAILURE, path: '/b' });
    expect(s.stats.closes).toBe(s.stats.opens);
  });

  it('unsubscribing a write from an Observable source that never completes unsubscribes the source', async () => {
    const s = await start();
    let unsubscribed = false;
    const source = new Observable<Uint8Array>((o) => {
      o.next(randomBytes(16 * 1024));
      return () => void (unsubscribed = true);
    });
    const seen = await lastValueFrom(
      onSftp(s, async (sftp) => {
        await lastValueFrom(sftp.writeChunks('/a', source, { chunkSize: 16 * 1024 }).pipe(take(1)));
        return eventually(() => unsubscribed);
      }),
    );
    expect(seen).toBe(true);
    expect(s.files.get('/a')?.length).toBe(16 * 1024);
  });

  it('unsubscribing uploadDir stops the files in flight too, and closes their remote files', async () => {
    let stop = (): void => undefined;
    const s = await start({ onWrite: (n) => n === 10 && stop() });
    mkdirSync(join(dir, 'tree'));
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, 'tree', name), randomBytes(256 * 1024));
    const writesAfter = await lastValueFrom(
      onSftp(s, async (sftp) => {
        await new Promise<void>((resolve) => {
          const sub = sftp.uploadDir(join(dir, 'tree'), '/up', { parallelFiles: 2, chunkSize: 4096, concurrency: 2 }).subscribe();
          stop = () => {
            sub.unsubscribe();
            resolve();
          };
        });
        expect(await eventually(() => s.stats.closes === s.stats.opens)).toBe(true);
        return s.stats.writes;
      }),
    );
    expect(writesAfter).toBeLessThan(20); // of 192: the two files in flight stopped with the tree
  });

  it('a failed write is an SftpError (write, FAILURE); the session stays usable; a source error ends the write', async () => {
    const s = await start({ failWrite: 5 });
    writeFileSync(join(dir, 'src'), randomBytes(2 * 1024 * 1024));
    const baseline = resources();
    const outcome = await lastValueFrom(
      onSftp(s, async (sftp) => {
        const err = await errorOf(sftp.upload(join(dir, 'src'), '/up', { chunkSize: 32 * 1024, concurrency: 4 }));
        const after = await lastValueFrom(sftp.writeFile('/after', 'still fine').pipe(toArray()));
        const sourceErr = await errorOf(
          sftp.writeChunks('/c', new Observable<Uint8Array>((o) => {
            o.next(Buffer.from('x'));
            o.error(new Error('source broke'));
          })),
        );
        return { err, after, sourceErr };
      }),
    );
    expect(outcome.err).toBeInstanceOf(SftpError);
    expect(outcome.err).toMatchObject({ operation: 'write', status: SFTP_STATUS.FAILURE, path: '/up' });
    expect(s.files.get('/after')?.toString()).toBe('still fine');
    expect(outcome.sourceErr).toBeInstanceOf(SftpError);
    expect((outcome.sourceErr as Error).cause).toMatchObject({ message: 'source broke' });
    expect(s.stats.closes).toBe(s.stats.opens);
    await expectNoLeaks(baseline);
  });
});

describe('a hostile server cannot make downloads escape, freeze or plant bits (issue 12)', () => {
  const FILE = 0o100644;
  const DIR = 0o40755;
  /** Lists `names` (as files) in /tree and makes each one readable. */
  const hostile = (names: readonly string[]) =>
    start({ listing: (p) => (p === '/tree' ? names.map((name) => ({ name, mode: FILE })) : undefined) }).then((s) => {
      for (const n of names) s.files.set(`/tree/${n}`, Buffer.from('planted'));
      return s;
    });

  it.each([['../../x'], ['sub/../../../x'], ['/abs'], ['a/b'], ['nul\0x'], ['back\\slash'], ['']])(
    'OpenSSH "Server sent suspect path": an entry named %j fails downloadDir with SftpError and nothing is written anywhere',
    async (name) => {
      const s = await hostile(['fine.txt', name]);
      const dest = join(dir, 'a', 'b', 'dest');
      mkdirSync(dest, { recursive: true });
      const err = await errorOf(onSftp(s, (sftp) => sftp.downloadDir('/tree', dest)));
      expect(err).toBeInstanceOf(SftpError);
      expect((err as SftpError).message).toMatch(/suspect entry name/);
      // Nothing outside, and nothing inside either: the walk ends before any transfer.
      expect(readdirSync(dir, { recursive: true }).map(String).sort()).toEqual(['a', 'a/b', 'a/b/dest']);
    },
  );

  it('a symbolic link inside the destination that leads outside is never written through', async () => {
    const s = await start({ listing: (p) => (p === '/tree' ? [{ name: 'sub', mode: DIR }] : p === '/tree/sub' ? [{ name: 'f', mode: FILE }] : undefined) });
    s.files.set('/tree/sub/f', Buffer.from('planted'));
    const dest = join(dir, 'dest');
    const outside = join(dir, 'outside');
    mkdirSync(dest);
    mkdirSync(outside);
    symlinkSync(outside, join(dest, 'sub'));
    const err = await errorOf(onSftp(s, (sftp) => sftp.downloadDir('/tree', dest)));
    expect(err).toBeInstanceOf(SftpError);
    expect((err as SftpError).message).toMatch(/outside the destination/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('a symbolic link at a download target is replaced, not followed', async () => {
    const s = await start();
    s.files.set('/f', Buffer.from('new content'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'do not touch');
    symlinkSync(victim, join(dir, 'target'));
    await lastValueFrom(onSftp(s, (sftp) => sftp.download('/f', join(dir, 'target'))), { defaultValue: undefined });
    expect(readFileSync(victim, 'utf8')).toBe('do not touch');
    expect(lstatSync(join(dir, 'target')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('new content');
  });

  it('an endlessly nested tree stops at 64 levels (OpenSSH) with SftpError, not a silently cut tree, and creates nothing', async () => {
    const s = await start({ listing: (p) => (p.startsWith('/tree') ? [{ name: 'd', mode: DIR }] : undefined) });
    const dest = join(dir, 'deep');
    mkdirSync(dest);
    const err = await errorOf(onSftp(s, (sftp) => sftp.downloadDir('/tree', dest)));
    expect(err).toBeInstanceOf(SftpError);
    expect((err as SftpError).message).toMatch(/deeper than 64 levels/);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('preserve copies permission bits only (OpenSSH masks with 0777): no local setuid file', async () => {
    const s = await start({ fileMode: 0o104755 });
    s.files.set('/suid', Buffer.from('#!/bin/sh\n'));
    await lastValueFrom(onSftp(s, (sftp) => sftp.download('/suid', join(dir, 'suid'), { preserve: true })), { defaultValue: undefined });
    expect(statSync(join(dir, 'suid')).mode & 0o7777).toBe(0o755);
  });

  it('a download that fails part-way leaves the existing local file as it was, and no temporary file', async () => {
    const s = await start({ failRead: 3 });
    s.files.set('/big', randomBytes(1024 * 1024));
    writeFileSync(join(dir, 'keep'), 'precious');
    const err = await errorOf(onSftp(s, (sftp) => sftp.download('/big', join(dir, 'keep'), { chunkSize: 32 * 1024, concurrency: 2 })));
    expect(err).toMatchObject({ operation: 'read', status: SFTP_STATUS.FAILURE });
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['keep']);
  });
});

describe('file modes (as scp and sftp: never widened)', () => {
  it('upload creates the remote file with the source permission bits, never setuid; download the same locally', async () => {
    const s = await start({ fileMode: 0o100600 });
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'k');
    chmodSync(secret, 0o600);
    const script = join(dir, 'script');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o4755);
    await lastValueFrom(onSftp(s, async (sftp) => {
      await lastValueFrom(sftp.upload(secret, '/secret'), { defaultValue: undefined });
      await lastValueFrom(sftp.upload(script, '/script'), { defaultValue: undefined });
      await lastValueFrom(sftp.download('/secret', join(dir, 'back')), { defaultValue: undefined });
    }), { defaultValue: undefined });
    expect(s.modes.get('/secret')).toBe(0o600);
    expect(s.modes.get('/script')).toBe(0o755);
    expect(statSync(join(dir, 'back')).mode & 0o7777).toBe(0o600);
  });
});
