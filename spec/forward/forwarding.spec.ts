/** Forwarding against the in-process server: SOCKS5 (`-D`) and local forwards on a Unix socket. */
import { execFile } from 'node:child_process';
import { createServer as httpServer, request, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { switchMap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, type Connection, type DynamicForwardConfig, type DynamicForwardEvent, type ForwardEvent } from '../../lib/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { connectTo, eventually, expectNoLeaks, freeClosedPort, resources, serve } from '../helpers/index.js';
import { holdForward, readAll, socksConnect } from '../helpers/socks.js';

const run = promisify(execFile);
let server: { info: TestServerInfo; stop: () => void };
let http: Server;
let httpPort: number;
beforeAll(async () => {
  server = await serve();
  http = httpServer((req, res) => res.end(`you asked for ${req.url}`));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as { port: number }).port;
});
afterAll(() => {
  http.close();
  server.stop();
});

const socks = (config: DynamicForwardConfig = {}) => holdForward<DynamicForwardEvent>(connectTo(server.info).pipe(switchMap((c) => c.forwardDynamic(config))));
const get = (path: string): string => `GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`;

describe('forwardDynamic (ssh -D, SOCKS5)', () => {
  it('carries 20 concurrent curl requests, names resolved on the server side', async () => {
    const proxy = await socks();
    const bodies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run('curl', ['-sS', '--max-time', '20', '--socks5-hostname', `127.0.0.1:${proxy.listening.port}`, `http://localhost:${httpPort}/r${i}`]).then((r) => r.stdout),
      ),
    );
    proxy.stop();
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `you asked for /r${i}`));
    const granted = proxy.events.filter((e) => e.type === 'connection');
    expect(granted).toHaveLength(20);
    expect(granted[0]).toMatchObject({ destinationHost: 'localhost', destinationPort: httpPort, remoteAddress: '127.0.0.1' });
  });

  it('keeps bytes a client sends before the reply (no data lost while the channel opens)', async () => {
    const proxy = await socks();
    const { reply, socket } = await socksConnect(proxy.listening.port, '127.0.0.1', httpPort, Buffer.from(get('/early')));
    expect(reply).toBe(0);
    expect(await readAll(socket)).toMatch(/you asked for \/early$/);
    proxy.stop();
  });

  it('answers a refused destination with a SOCKS error and keeps serving', async () => {
    const proxy = await socks();
    const closed = await freeClosedPort();
    const refused = await socksConnect(proxy.listening.port, '127.0.0.1', closed);
    // The test server refuses without a reason text, so rxssh can only say "host unreachable";
    // sshd says "Connection refused" and gets 5 (see the integration spec).
    expect(refused.reply).toBe(4);
    expect(await eventually(() => refused.socket.destroyed)).toBe(true);
    const ok = await socksConnect(proxy.listening.port, '127.0.0.1', httpPort, Buffer.from(get('/after')));
    expect(ok.reply).toBe(0);
    expect(await readAll(ok.socket)).toMatch(/\/after$/);
    proxy.stop();
  });

  it('an allow rule refuses with status 2; a rule that throws refuses too', async () => {
    const proxy = await socks({ allow: (host, port) => host === 'localhost' && port === httpPort });
    expect((await socksConnect(proxy.listening.port, '127.0.0.1', httpPort)).reply).toBe(2);
    expect((await socksConnect(proxy.listening.port, 'localhost', httpPort)).reply).toBe(0);
    proxy.stop();
    const throwing = await socks({
      allow: () => {
        throw new Error('rule bug');
      },
    });
    expect((await socksConnect(throwing.listening.port, 'localhost', httpPort)).reply).toBe(2);
    throwing.stop();
  });

  it('a client that does not speak SOCKS is dropped; the proxy goes on', async () => {
    const proxy = await socks();
    const junk = tcpConnect({ host: '127.0.0.1', port: proxy.listening.port });
    junk.on('error', () => undefined);
    junk.write(get('/not-socks'));
    expect(await readAll(junk)).toBe('');
    const ok = await socksConnect(proxy.listening.port, 'localhost', httpPort, Buffer.from(get('/still')));
    expect(await readAll(ok.socket)).toMatch(/\/still$/);
    proxy.stop();
  });

  it('unsubscribing closes the proxy, its open connections and the SSH connection; nothing leaks', async () => {
    const baseline = resources();
    const proxy = await socks();
    const { reply, socket } = await socksConnect(proxy.listening.port, '127.0.0.1', httpPort);
    expect(reply).toBe(0);
    const ended = readAll(socket);
    proxy.stop();
    await ended;
    const refused = await new Promise<string>((resolve) => {
      const s = tcpConnect({ host: '127.0.0.1', port: proxy.listening.port });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('connect', () => resolve('connected'));
    });
    expect(refused).toBe('ECONNREFUSED');
    expect(await eventually(() => server.info.stats.openConnections === 0)).toBe(true);
    await expectNoLeaks(baseline);
  });
});

describe('forwardLocal on a Unix socket', () => {
  it('in a worker thread (whose umask cannot change) the socket is narrowed to 0600 before listening is told', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rxssh-fwd-')), 'worker.sock');
    const worker = new Worker(new URL('../helpers/socket-listen-worker.mjs', import.meta.url), { workerData: { path } });
    const said = await new Promise<{ isMainThread?: boolean; mode?: number; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(said).toEqual({ isMainThread: false, mode: 0o600 });
  });

  it('listens on a socket path, carries HTTP to a TCP destination, removes the socket at the end', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rxssh-fwd-')), 'http.sock');
    const fwd = await holdForward<ForwardEvent>(
      connectTo(server.info).pipe(switchMap((c) => c.forwardLocal({ bind: { path }, remoteHost: '127.0.0.1', remotePort: httpPort }))),
    );
    expect(fwd.listening).toEqual({ type: 'listening', host: '', port: 0, path });
    // Only this user may connect, as ssh's StreamLocalBindMask 0177 has it (not the umask's 0755).
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    const body = await new Promise<string>((resolve, reject) => {
      request({ socketPath: path, path: '/over-unix' }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('you asked for /over-unix');
    fwd.stop();
    const gone = await new Promise<string>((resolve) => {
      const s = tcpConnect({ path });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('connect', () => resolve('connected'));
    });
    expect(gone).toBe('ENOENT');
  });

  it('bind.mask is the umask the socket is made under (StreamLocalBindMask); in a worker thread too', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rxssh-fwd-')), 'group.sock');
    const fwd = await holdForward<ForwardEvent>(connectTo(server.info).pipe(switchMap((c) => c.forwardLocal({ bind: { path, mask: 0o117 }, remoteHost: '127.0.0.1', remotePort: httpPort }))));
    expect((statSync(path).mode & 0o777).toString(8)).toBe('660');
    fwd.stop();
    const inWorker = join(mkdtempSync(join(tmpdir(), 'rxssh-fwd-')), 'worker.sock');
    const worker = new Worker(new URL('../helpers/socket-listen-worker.mjs', import.meta.url), { workerData: { path: inWorker, mask: 0o007 } });
    const said = await new Promise<{ mode?: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(said.mode?.toString(8)).toBe('770');
  });

  it('a file already at the path fails the forward (EADDRINUSE) unless bind.unlink (StreamLocalBindUnlink) removes it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rxssh-fwd-')), 'stale.sock');
    writeFileSync(path, 'left behind');
    const err = await new Promise<unknown>((resolve) =>
      connectTo(server.info)
        .pipe(switchMap((c) => c.forwardLocal({ bind: { path }, remoteHost: '127.0.0.1', remotePort: httpPort })))
        .subscribe({ error: resolve }),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).message).toMatch(`Cannot listen on ${path} (`);
    expect(((err as ConnectError).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(readFileSync(path, 'utf8')).toBe('left behind');
    const fwd = await holdForward<ForwardEvent>(connectTo(server.info).pipe(switchMap((c) => c.forwardLocal({ bind: { path, unlink: true }, remoteHost: '127.0.0.1', remotePort: httpPort }))));
    expect(statSync(path).isSocket()).toBe(true);
    fwd.stop();
  });

  it('a mask outside 0-0o777 is a RangeError when forwardLocal or forwardDynamic is called', async () => {
    const errorOf = (call: (c: Connection) => unknown): Promise<unknown> =>
      new Promise((resolve) =>
        connectTo(server.info)
          .pipe(switchMap((c) => (call(c), [])))
          .subscribe({ error: resolve, complete: () => resolve(undefined) }),
      );
    expect(await errorOf((c) => c.forwardLocal({ bind: { path: '/tmp/never', mask: 0o1000 }, remoteHost: 'h', remotePort: 1 }))).toEqual(new RangeError('forwardLocal(): bind.mask must be a umask 0-0o777, got 512'));
    expect(await errorOf((c) => c.forwardDynamic({ bind: { path: '/tmp/never', mask: -1 } }))).toEqual(new RangeError('forwardDynamic(): bind.mask must be a umask 0-0o777, got -1'));
  });

  it('rejects a config with neither a TCP nor a Unix destination', async () => {
    const err = await new Promise<unknown>((resolve) =>
      connectTo(server.info)
        .pipe(switchMap((c) => c.forwardLocal({ bind: { port: 0 } })))
        .subscribe({ error: resolve }),
    );
    expect(err).toBeInstanceOf(TypeError);
  });
});
