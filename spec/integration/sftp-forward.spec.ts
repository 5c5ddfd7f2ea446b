/** SFTP and port forwarding against real sshd (`Subsystem sftp internal-sftp`, `AllowTcpForwarding yes`). */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer as createNetServer } from 'node:net';
import { request, createServer as httpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatMap, filter, from, lastValueFrom, mergeMap, range, switchMap, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SFTP_STATUS, SftpError, type SftpSession, authenticate, connect, openConnection, pinned, privateKey, run, shareConnection, verifyHostKey, withConnection, type ConnectConfig, type DynamicForwardEvent, type ForwardEvent, type RemoteForwardConnection, type RemoteForwardEvent } from '../../lib/index.js';
import { eventually, freeClosedPort, sshd } from '../helpers/index.js';
import { holdForward, socksConnect } from '../helpers/socks.js';
import { startSshd, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let local: string;
let home: string;
beforeAll(() => {
  s = sshd();
  home = s.home;
  local = mkdtempSync(join(tmpdir(), 'rxssh-sftp-'));
  chmodSync(local, 0o755);
});
afterAll(() => rmSync(local, { recursive: true, force: true })); // 557 MB of transfers

const login = (info = s, extra: Partial<ConnectConfig> = {}) =>
  connect({ host: '127.0.0.1', port: info.port, username: info.username, ...extra }).pipe(
    verifyHostKey(pinned(info.hostFingerprints['ed25519'] ?? '')),
    authenticate(privateKey(readFileSync(info.keys['ed25519'] ?? ''))),
  );
/** Runs `work` with an SFTP session on a fresh connection to the suite's sshd. */
const onSftp = <T>(work: (sftp: SftpSession) => Promise<T>): Promise<T> =>
  lastValueFrom(login().pipe(withConnection((c) => c.withSftp((sftp) => from(work(sftp))))));
const sha = (file: string) =>
  new Promise<string>((resolve) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex')));
  });

describe('SFTP against sshd', () => {
  it('256 MiB upload and download, hash-exact, with progress', async () => {
    const src = join(local, 'big.bin');
    const block = randomBytes(1024 * 1024);
    writeFileSync(src, Buffer.concat(Array.from({ length: 256 }, (_, i) => (i % 2 ? block : Buffer.from(block).reverse()))));
    const back = join(local, 'big.back');
    let lastUp = 0;
    let lastDown = 0;
    await onSftp(async (sftp) => {
      await new Promise<void>((r) => sftp.upload(src, `${home}/big.bin`).subscribe({ next: (p) => (lastUp = p.bytes), complete: r }));
      await new Promise<void>((r) => sftp.download(`${home}/big.bin`, back).subscribe({ next: (p) => (lastDown = p.bytes), complete: r }));
      await lastValueFrom(sftp.rm(`${home}/big.bin`), { defaultValue: undefined });
    });
    expect(lastUp).toBe(256 * 1024 * 1024);
    expect(lastDown).toBe(256 * 1024 * 1024);
    expect(await sha(back)).toBe(await sha(src));
  });

  it('short reads (1 MiB requests, sftp-server answers at most ~255 KiB): still hash-exact', async () => {
    const src = join(local, 'short.bin');
    writeFileSync(src, randomBytes(5 * 1024 * 1024 + 123));
    const back = join(local, 'short.back');
    await onSftp(async (sftp) => {
      await lastValueFrom(sftp.upload(src, `${home}/short.bin`), { defaultValue: undefined });
      await lastValueFrom(sftp.download(`${home}/short.bin`, back, { chunkSize: 1024 * 1024, concurrency: 4 }), { defaultValue: undefined });
    });
    expect(await sha(back)).toBe(await sha(src));
  });

  it('writeChunks from a Node stream, readChunks back (a range, and for await with demand): hash-exact', async () => {
    const src = join(local, 'chunks.bin');
    writeFileSync(src, randomBytes(20 * 1024 * 1024 + 99));
    const data = readFileSync(src);
    const out = await onSftp(async (sftp) => {
      const progress = await lastValueFrom(sftp.writeChunks(`${home}/chunks.bin`, createReadStream(src, { highWaterMark: 100_000 })).pipe(toArray()));
      const range = Buffer.concat(await lastValueFrom(sftp.readChunks(`${home}/chunks.bin`, { start: 12345, end: 5_000_000 }).pipe(toArray())));
      const pulled: Buffer[] = [];
      for await (const chunk of sftp.readChunks(`${home}/chunks.bin`, { highWaterMark: 1024 * 1024 })) pulled.push(chunk);
      await lastValueFrom(sftp.rm(`${home}/chunks.bin`), { defaultValue: undefined });
      return { last: progress.at(-1), range, whole: Buffer.concat(pulled) };
    });
    expect(out.last?.bytes).toBe(data.length);
    expect(out.range.equals(data.subarray(12345, 5_000_000))).toBe(true);
    expect(out.whole.equals(data)).toBe(true);
  });

  it('mkdir -p, writeFile/readFile, stat, rename, readdir of 1,000 entries, rm -r', async () => {
    const out = await onSftp(async (sftp) => {
      const dir = `${home}/tree/a/b`;
      await lastValueFrom(sftp.mkdir(dir, { recursive: true }), { defaultValue: undefined });
      await lastValueFrom(sftp.mkdir(dir, { recursive: true }), { defaultValue: undefined }); // exists: fine
      await lastValueFrom(sftp.writeFile(`${dir}/hello.txt`, 'hello sftp'), { defaultValue: undefined });
      await lastValueFrom(sftp.rename(`${dir}/hello.txt`, `${dir}/renamed.txt`), { defaultValue: undefined });
      const text = (await lastValueFrom(sftp.readFile(`${dir}/renamed.txt`))).toString();
      const st = await lastValueFrom(sftp.stat(`${dir}/renamed.txt`));
      await lastValueFrom(range(0, 1000).pipe(mergeMap((i) => sftp.writeFile(`${home}/tree/f${i}`, String(i)), 32)), { defaultValue: undefined });
      const names = await lastValueFrom(sftp.readdir(`${home}/tree`).pipe(toArray()));
      await lastValueFrom(sftp.rm(`${home}/tree`, { recursive: true }), { defaultValue: undefined });
      const gone = await lastValueFrom(sftp.stat(`${home}/tree`)).then(() => 'exists', (e: unknown) => (e as SftpError).status);
      return { text, size: st.size, isFile: st.isFile, entries: names.length, gone };
    });
    expect(out).toEqual({ text: 'hello sftp', size: 10, isFile: true, entries: 1001, gone: SFTP_STATUS.NO_SUCH_FILE });
  });

  it('missing path and permission denied are SftpErrors with status, path and operation; the session stays usable', async () => {
    const out = await onSftp(async (sftp) => {
      const missing = await lastValueFrom(sftp.stat(`${home}/nope`)).catch((e: unknown) => e);
      const denied = await lastValueFrom(sftp.writeFile('/root/rxssh-denied', 'x'), { defaultValue: undefined }).catch((e: unknown) => e);
      const after = await lastValueFrom(sftp.realpath('.'));
      return { missing, denied, after };
    });
    expect(out.missing).toBeInstanceOf(SftpError);
    expect(out.missing).toMatchObject({ status: SFTP_STATUS.NO_SUCH_FILE, path: `${home}/nope`, operation: 'stat', phase: 'sftp' });
    expect(out.denied).toMatchObject({ status: SFTP_STATUS.PERMISSION_DENIED, operation: 'open' });
    expect(out.after).toBe(home);
  });

  it('a tree of 1,000 small files both ways (uploadDir, downloadDir), with a filter', async () => {
    const src = join(local, 'tree-src');
    for (let d = 0; d < 10; d++) {
      mkdirSync(join(src, `d${d}`, 'sub'), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, f % 2 ? 'sub' : '', `f${f}.txt`), `file ${d}/${f}\n`);
    }
    writeFileSync(join(src, 'skip.tmp'), 'not copied');
    const dst = join(local, 'tree-back');
    const progress = await onSftp(async (sftp) => {
      const up = await lastValueFrom(sftp.uploadDir(src, `${home}/tree2`, { filter: (p) => !p.endsWith('.tmp') }).pipe(toArray()));
      const down = await lastValueFrom(sftp.downloadDir(`${home}/tree2`, dst).pipe(toArray()));
      await lastValueFrom(sftp.rm(`${home}/tree2`, { recursive: true }), { defaultValue: undefined });
      return { up: up.at(-1), down: down.at(-1) };
    });
    expect(progress.up).toMatchObject({ files: 1000, total: 1000 });
    expect(progress.down).toMatchObject({ files: 1000, total: 1000 });
    for (let d = 0; d < 10; d++) {
      for (let f = 0; f < 100; f++) expect(readFileSync(join(dst, `d${d}`, f % 2 ? 'sub' : '', `f${f}.txt`), 'utf8')).toBe(`file ${d}/${f}\n`);
    }
    expect(existsSync(join(dst, 'skip.tmp'))).toBe(false);
  });

  it('downloadDir from sshd: symbolic links skipped (not followed, none created), setuid not preserved, an existing file replaced whole', async () => {
    const tree = `${home}/linked-tree`;
    await lastValueFrom(
      login().pipe(run(`rm -rf ${tree} && mkdir -p ${tree}/sub && printf data > ${tree}/sub/tool && chmod 4755 ${tree}/sub/tool && ln -s /etc ${tree}/etc-link && ln -s sub/tool ${tree}/tool-link`, { check: true })),
    );
    const dest = mkdtempSync(join(tmpdir(), 'rxssh-linked-'));
    writeFileSync(join(dest, 'sub-old'), 'x');
    await onSftp((sftp) => lastValueFrom(sftp.downloadDir(tree, dest, { preserve: true }), { defaultValue: undefined }));
    expect(readdirSync(dest, { recursive: true }).map(String).sort()).toEqual(['sub', 'sub-old', 'sub/tool']);
    expect(statSync(join(dest, 'sub', 'tool')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(dest, 'sub', 'tool'), 'utf8')).toBe('data');
  });

  it('50 sequential SFTP sessions on one connection with MaxSessions 10: all succeed', async () => {
    const narrow = await startSshd({ account: s, extra: ['MaxSessions 10'] });
    try {
      const paths = await lastValueFrom(
        login(narrow.info).pipe(
          withConnection((c) => range(0, 50).pipe(concatMap(() => c.withSftp((sftp) => sftp.realpath('.'))))),
          toArray(),
        ),
      );
      expect(paths).toHaveLength(50);
    } finally {
      await narrow.stop();
    }
  });
});

describe('openConnection (async/await) against sshd', () => {
  it('run with cwd and stdin, putFile and getFile byte-exact, then await using closes it', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const up = join(local, 'handle-up.bin');
    const back = join(local, 'handle-back.bin');
    writeFileSync(up, data);
    {
      await using ssh = await openConnection(login());
      expect((await ssh.run('pwd', { cwd: '/tmp' })).stdout).toBe('/tmp\n');
      expect((await ssh.run('wc -c', { stdin: 'twelve bytes' })).stdout.trim()).toBe('12');
      expect([...(await ssh.run("printf '\\377\\000\\200'", { encoding: 'buffer' })).stdout]).toEqual([0xff, 0x00, 0x80]);
      await ssh.putFile(up, `${home}/handle.bin`);
      await ssh.getFile(`${home}/handle.bin`, back);
      expect((await ssh.run(`rm ${home}/handle.bin`)).exitCode).toBe(0);
    }
    expect(readFileSync(back).equals(data)).toBe(true);
  });
});

describe('port forwarding against sshd', () => {
  it('half-close passes through a local forward and the SOCKS proxy both ways: 1 MiB written then half-closed comes back whole (as with ssh -L)', async () => {
    // An echo server that answers only after the client's EOF, then ends: everything it sends
    // goes out after the client half-closed.
    const echo = createNetServer({ allowHalfOpen: true }, (sock) => {
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      sock.on('end', () => sock.end(Buffer.concat(got)));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as { port: number }).port;
    const payload = randomBytes(1024 * 1024);
    const roundTrip = (connectTo: () => ReturnType<typeof tcpConnect>, after: (sock: ReturnType<typeof tcpConnect>) => void = (sock) => sock.end(payload)) =>
      new Promise<Buffer>((resolve, reject) => {
        const sock = connectTo();
        const got: Buffer[] = [];
        sock.on('data', (d: Buffer) => got.push(d));
        sock.on('end', () => resolve(Buffer.concat(got)));
        sock.on('error', reject);
        sock.resume(); // a socket the SOCKS handshake left paused
        after(sock);
      });
    try {
      const results = await lastValueFrom(
        login().pipe(
          withConnection((c) =>
            c.forwardLocal({ remoteHost: '127.0.0.1', remotePort: echoPort }).pipe(
              filter((e) => e.type === 'listening'),
              switchMap((e) =>
                from(
                  Promise.all([1, 2, 3].map(() => roundTrip(() => tcpConnect({ host: '127.0.0.1', port: (e as { port: number }).port, allowHalfOpen: true })))),
                ),
              ),
              take(1),
            ),
          ),
        ),
      );
      for (const back of results) expect(back.equals(payload)).toBe(true);
      const viaSocks = await lastValueFrom(
        login().pipe(
          withConnection((c) =>
            c.forwardDynamic().pipe(
              filter((e) => e.type === 'listening'),
              switchMap((e) => from(socksConnect((e as { port: number }).port, '127.0.0.1', echoPort).then(({ socket }) => roundTrip(() => socket)))),
              take(1),
            ),
          ),
        ),
      );
      expect(viaSocks.equals(payload)).toBe(true);
    } finally {
      echo.close();
    }
  });

  it('a local forward carries 100 concurrent HTTP requests to a loopback HTTP server', async () => {
    const http = httpServer((req, res) => res.end(`you asked for ${req.url}`));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const httpPort = (http.address() as { port: number }).port;
    const bodies = await lastValueFrom(
      login().pipe(
        withConnection((c) =>
          c.forwardLocal({ remoteHost: '127.0.0.1', remotePort: httpPort }).pipe(
            filter((e) => e.type === 'listening'),
            // switchMap keeps the listener while the requests run; take(1) then ends it all.
            switchMap((e) =>
              range(0, 100).pipe(
                mergeMap(
                  (i) =>
                    new Promise<string>((resolve, reject) => {
                      request({ host: '127.0.0.1', port: (e as { port: number }).port, path: `/r${i}`, agent: false }, (res) => {
                        let body = '';
                        res.on('data', (d) => (body += d));
                        res.on('end', () => resolve(body));
                      })
                        .on('error', reject)
                        .end();
                    }),
                  100,
                ),
                toArray(),
              ),
            ),
            take(1),
          ),
        ),
      ),
    );
    http.close();
    expect(bodies).toHaveLength(100);
    expect(new Set(bodies).size).toBe(100);
    expect(bodies.every((b) => /^you asked for \/r\d+$/.test(b))).toBe(true);
  });

  it('a channel to a Unix socket on the server (direct-streamlocal)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-unix-'));
    chmodSync(dir, 0o777);
    const path = join(dir, 'echo.sock');
    const unix = createNetServer((sock) => sock.pipe(sock));
    await new Promise<void>((r) => unix.listen(path, r));
    chmodSync(path, 0o777);
    const echoed = await lastValueFrom(
      login().pipe(
        withConnection((c) =>
          c.forwardOutUnix(path).pipe(
            switchMap(
              (stream) =>
                new Promise<string>((resolve) => {
                  let text = '';
                  stream.on('data', (d: Buffer) => {
                    text += d.toString();
                    if (text === 'over a unix socket') resolve(text);
                  });
                  stream.write('over a unix socket');
                }),
            ),
            take(1),
          ),
        ),
      ),
    );
    unix.close();
    expect(echoed).toBe('over a unix socket');
  });

  it('a remote forward receives connections made to the server-side port', async () => {
    const got = await lastValueFrom(
      login().pipe(
        shareConnection(),
        withConnection((c) =>
          c.forwardRemote({ bindPort: 0 }).pipe(
            concatMap(async (e) => {
              if (e.type === 'listening') {
                // Connect to the port sshd now listens on (loopback), as a client on the server would.
                const sock = tcpConnect({ host: '127.0.0.1', port: e.port });
                sock.on('data', () => undefined);
                sock.end('ping through -R');
                return undefined;
              }
              return new Promise<string>((resolve) => {
                let text = '';
                e.stream.on('data', (d: Buffer) => (text += d.toString()));
                e.stream.on('end', () => resolve(text));
                e.stream.end();
              });
            }),
            filter((x): x is string => typeof x === 'string'),
            take(1),
          ),
        ),
      ),
    );
    expect(got).toBe('ping through -R');
  });
});

describe('dynamic and Unix-socket forwarding against sshd', () => {
  let http: ReturnType<typeof httpServer>;
  let httpPort: number;
  beforeAll(async () => {
    http = httpServer((req, res) => res.end(`you asked for ${req.url}`));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as { port: number }).port;
  });
  afterAll(() => http.close());

  it('SOCKS5 through -D: curl fetches through sshd; a closed port gets "connection refused" (5)', async () => {
    const proxy = await holdForward<DynamicForwardEvent>(login().pipe(switchMap((c) => c.forwardDynamic())));
    const run = promisify(execFile);
    const bodies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        run('curl', ['-sS', '--max-time', '20', '--socks5-hostname', `127.0.0.1:${proxy.listening.port}`, `http://localhost:${httpPort}/d${i}`]).then((r) => r.stdout),
      ),
    );
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `you asked for /d${i}`));
    const refused = await socksConnect(proxy.listening.port, '127.0.0.1', await freeClosedPort());
    expect(refused.reply).toBe(5);
    proxy.stop();
  });

  it('a remote Unix-socket forward (streamlocal-forward) receives connections; unsubscribing cancels it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-rfwd-'));
    chmodSync(dir, 0o777);
    const path = join(dir, 'remote.sock');
    const fwd = await holdForward<RemoteForwardEvent>(login().pipe(switchMap((c) => c.forwardRemoteUnix(path))));
    expect(fwd.listening).toEqual({ type: 'listening', host: '', port: 0, path });
    const sock = tcpConnect({ path });
    const echoed = new Promise<string>((resolve) => {
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString()));
      sock.on('end', () => resolve(text));
    });
    sock.write('ping over -R unix');
    const arrived = await new Promise<RemoteForwardConnection>((resolve) => {
      const check = setInterval(() => {
        const c = fwd.events.find((e): e is RemoteForwardConnection => e.type === 'connection');
        if (c) resolve(c);
      }, 10);
      sock.once('close', () => clearInterval(check));
      void echoed.finally(() => clearInterval(check));
    });
    arrived.stream.once('data', (d: Buffer) => arrived.stream.end(`echo: ${d.toString()}`));
    expect(await echoed).toBe('echo: ping over -R unix');
    fwd.stop();
    // sshd removes its listener on cancel: the socket path stops answering.
    expect(
      await eventually(
        () =>
          new Promise<boolean>((resolve) => {
            const probe = tcpConnect({ path });
            probe.on('error', () => resolve(true));
            probe.on('connect', () => {
              probe.destroy();
              resolve(false);
            });
          }),
      ),
    ).toBe(true);
  });

  it('a local Unix socket forwarded to a Unix socket on the server (-L path:path)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-lfwd-'));
    chmodSync(dir, 0o777);
    const remotePath = join(dir, 'upper.sock');
    const upper = createNetServer((s) => s.on('data', (d: Buffer) => s.end(d.toString().toUpperCase())));
    await new Promise<void>((r) => upper.listen(remotePath, r));
    chmodSync(remotePath, 0o777);
    const localPath = join(dir, 'local.sock');
    const fwd = await holdForward<ForwardEvent>(login().pipe(switchMap((c) => c.forwardLocal({ bind: { path: localPath }, remoteSocketPath: remotePath }))));
    expect((statSync(localPath).mode & 0o777).toString(8)).toBe('600'); // only this user, as ssh -L path:path
    const reply = await new Promise<string>((resolve) => {
      const s = tcpConnect({ path: localPath });
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('close', () => resolve(text));
      s.write('shout');
    });
    fwd.stop();
    upper.close();
    expect(reply).toBe('SHOUT');
  });
});

describe('remote forward cancelled while its request is in flight', () => {
  it('unsubscribing before the server answered still cancels the listener on the server', async () => {
    const port = await freeClosedPort();
    const probe = () =>
      new Promise<string>((resolve) => {
        const sock = tcpConnect({ host: '127.0.0.1', port });
        sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        sock.on('connect', () => {
          sock.destroy();
          resolve('listening');
        });
      });
    const outcome = await lastValueFrom(
      login().pipe(
        withConnection((c) =>
          from(
            (async () => {
              c.forwardRemote({ bindPort: port }).subscribe().unsubscribe(); // gone before the reply
              await new Promise((r) => setTimeout(r, 500)); // the reply arrives; the connection stays up
              return probe();
            })(),
          ),
        ),
      ),
    );
    expect(outcome).toBe('ECONNREFUSED');
  });
});
