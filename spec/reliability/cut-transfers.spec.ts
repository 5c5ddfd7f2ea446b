/**
 * A transfer that cannot finish is never a success: a connection closed cleanly (TCP FIN) in
 * the middle of an upload or download, and a server that refuses the final CLOSE (a quota, NFS),
 * end in a typed error, exactly once, with no temporary file and no handle left behind. (The
 * same against a real sshd whose session process is killed: spec/integration/cut-transfers.spec.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catchError, switchMap, timer, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectionLostError, SftpError, authenticate, connect, password, verifyHostKey, withConnection, type Connection, type SftpSession } from '../../lib/index.js';
import { errorOf, expectNoLeaks, resources } from '../helpers/index.js';
import { memorySftp, type MemorySftp, type MemorySftpOptions } from '../helpers/sftp-server.js';

let server: MemorySftp | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-cut-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: MemorySftpOptions): Promise<MemorySftp> {
  server = await memorySftp(options);
  return server;
}
const login = (s: MemorySftp): Observable<Connection> =>
  connect({ host: '127.0.0.1', port: s.port, username: 'u' }).pipe(verifyHostKey(() => true), authenticate(password('p')));
/** The two ways users hold the connection for a transfer: withConnection, and switchMap. */
const holds = {
  withConnection: <T>(s: MemorySftp, work: (sftp: SftpSession) => Observable<T>) => login(s).pipe(withConnection((c) => c.withSftp(work))),
  switchMap: <T>(s: MemorySftp, work: (sftp: SftpSession) => Observable<T>) => login(s).pipe(switchMap((c) => c.withSftp(work))),
};

describe.each(Object.entries(holds))('a connection closed cleanly mid-transfer, held by %s', (_name, hold) => {
  it('upload: ConnectionLostError, never a completion', async () => {
    const s = await start({ endAfterWrites: 3 });
    const src = join(dir, 'src.bin');
    writeFileSync(src, randomBytes(4 * 1024 * 1024));
    const before = resources();
    const err = await errorOf(hold(s, (sftp) => sftp.upload(src, '/dst.bin', { chunkSize: 32 * 1024, concurrency: 4 })));
    expect(err).toBeInstanceOf(ConnectionLostError);
    await expectNoLeaks(before);
  });

  it('download: ConnectionLostError, no .part file left, the local file not created', async () => {
    const s = await start({ endAfterReads: 3 });
    s.files.set('/big.bin', randomBytes(4 * 1024 * 1024));
    const before = resources();
    const err = await errorOf(hold(s, (sftp) => sftp.download('/big.bin', join(dir, 'big.bin'), { chunkSize: 32 * 1024, concurrency: 4 })));
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(readdirSync(dir)).toEqual([]);
    await expectNoLeaks(before);
  });

  it('work that holds the connection without a channel (a timer) fails when it closes', async () => {
    const s = await start({ endAfterReads: 1 });
    s.files.set('/f', randomBytes(1024));
    // The read ends the connection; the projected work is still waiting on its own timer.
    const before = resources();
    const err = await errorOf(login(s).pipe(withConnection((c) => c.withSftp((sftp) => sftp.readFile('/f').pipe(catchError(() => timer(60_000)))))));
    expect(err).toBeInstanceOf(ConnectionLostError);
    await expectNoLeaks(before);
  });
});

describe('the server refuses the final CLOSE of an upload', () => {
  it('is an SftpError naming close and the server message (OpenSSH sftp: "close remote: Failure", exit 1)', async () => {
    const s = await start({ failCloseAfterWrite: 'Disk quota exceeded' });
    const src = join(dir, 'src.bin');
    writeFileSync(src, randomBytes(300 * 1024));
    const err = await errorOf(holds.withConnection(s, (sftp) => sftp.upload(src, '/dst.bin')));
    expect(err).toBeInstanceOf(SftpError);
    expect((err as SftpError).operation).toBe('close');
    expect((err as Error).message).toMatch(/Disk quota exceeded/);
  });

  it('writeFile and writeChunks fail the same way', async () => {
    const s = await start({ failCloseAfterWrite: 'Disk quota exceeded' });
    const one = await errorOf(holds.withConnection(s, (sftp) => sftp.writeFile('/a', 'data')));
    const two = await errorOf(holds.withConnection(s, (sftp) => sftp.writeChunks('/b', [Buffer.from('data')])));
    for (const err of [one, two]) {
      expect(err).toBeInstanceOf(SftpError);
      expect((err as Error).message).toMatch(/Disk quota exceeded/);
    }
  });
});
