import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectError, ConnectionLostError, TimeoutError, connect, insecureAcceptAnyHostKey, verifyHostKey } from '../../lib/index.js';
import { connectTo, errorOf, expectNoLeaks, first, freeClosedPort, resources, serve } from '../helpers/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve();
});
afterAll(() => server.stop());

function rawServer(onSocket: (s: Socket) => void): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const sockets = new Set<Socket>();
    const srv: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      onSocket(s);
    });
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : 0,
        close: () => {
          for (const s of sockets) s.destroy();
          srv.close();
        },
      });
    });
  });
}

describe('connect()', () => {
  it('is lazy: nothing touches the network until subscribe', async () => {
    const before = server.info.stats.connections;
    const hostKey$ = connect({ host: server.info.host, port: server.info.port, username: 'x' });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.info.stats.connections).toBe(before);
    const offer = await first(hostKey$);
    expect(offer.hostKey.fingerprint).toBe(server.info.hostKey.fingerprint);
    expect(server.info.stats.connections).toBe(before + 1);
  });

  it('throws at call time on bad config: TypeError for a wrong type, RangeError for a number out of range', () => {
    expect(() => connect({ host: '', username: 'u' })).toThrow(TypeError);
    expect(() => connect({ host: 'h', username: '' })).toThrow(TypeError);
    expect(() => connect({ host: 'h', username: 'u', port: 70000 })).toThrow(RangeError);
    expect(() => connect({ host: 'h', username: 'u', timeouts: { auth: -1 } })).toThrow(RangeError);
    expect(() => connect({ host: 'h', username: 'u', maxChannels: 0 })).toThrow(RangeError);
    expect(() => connect(null as never)).toThrow(TypeError);
  });

  it('sets TCP_NODELAY on its socket', async () => {
    const spy = vi.spyOn(Socket.prototype, 'setNoDelay');
    try {
      await first(connect({ host: server.info.host, port: server.info.port, username: 'x' }));
      expect(spy).toHaveBeenCalledWith(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('refused connection → ConnectError with host, port, phase and cause', async () => {
    const baseline = resources();
    const closed = await rawServer(() => undefined);
    closed.close();
    const err = await errorOf(connect({ host: '127.0.0.1', port: closed.port, username: 'u' }));
    expect(err).toBeInstanceOf(ConnectError);
    const e = err as ConnectError;
    expect(e.code).toBe('ERR_SSH_CONNECT');
    expect(e.host).toBe('127.0.0.1');
    expect(e.port).toBe(closed.port);
    expect(e.phase).toBe('tcp');
    expect((e.cause as { code?: string }).code).toBe('ECONNREFUSED');
    await expectNoLeaks(baseline);
  });

  it('a server that never sends a banner → TimeoutError in phase banner at the handshake deadline', async () => {
    const silent = await rawServer(() => undefined);
    const baseline = resources();
    const err = await errorOf(connect({ host: '127.0.0.1', port: silent.port, username: 'u', timeouts: { handshake: 300 } }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('banner');
    expect((err as TimeoutError).timeoutMs).toBe(300);
    silent.close(); // the server's own sockets are not the client's
    await expectNoLeaks(baseline);
  });

  it('a banner dripped byte by byte does not reset the handshake deadline', async () => {
    const timers: NodeJS.Timeout[] = [];
    const drip = await rawServer((s) => {
      const banner = Buffer.from('SSH-2.0-slow-server-that-drips-bytes\r\n');
      let i = 0;
      const t = setInterval(() => {
        if (i < banner.length && !s.destroyed) s.write(banner.subarray(i, ++i));
      }, 50);
      timers.push(t);
      s.on('close', () => clearInterval(t));
    });
    const err = await errorOf(connect({ host: '127.0.0.1', port: drip.port, username: 'u', timeouts: { handshake: 400 } }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(['kex', 'banner']).toContain((err as TimeoutError).phase);
    for (const t of timers) clearInterval(t);
    drip.close();
  });

  it('a server that closes right after accepting → ConnectionLostError', async () => {
    const rude = await rawServer((s) => s.end());
    const baseline = resources();
    const err = await errorOf(connect({ host: '127.0.0.1', port: rude.port, username: 'u' }));
    expect(err).toBeInstanceOf(ConnectionLostError);
    rude.close();
    await expectNoLeaks(baseline);
  });

  it('garbage instead of an SSH banner → a typed error, not a crash', async () => {
    const http = await rawServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const err = await errorOf(connect({ host: '127.0.0.1', port: http.port, username: 'u' }));
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toMatch(/^ERR_SSH_/);
    http.close();
  });

  it('a server-side close of an established connection completes the connection stage', async () => {
    const own = await serve();
    const outcome = new Promise<string>((resolve) => {
      connectTo(own.info).subscribe({
        next: () => own.stop(), // the server goes away once we are connected
        error: (e: unknown) => resolve(`error ${String(e)}`),
        complete: () => resolve('complete'),
      });
    });
    expect(await outcome).toBe('complete');
  });

  it('unsubscribe ends the connection and leaves no socket or timer', async () => {
    const baseline = resources();
    const sub = connectTo(server.info).subscribe();
    await new Promise((r) => setTimeout(r, 200));
    expect(server.info.stats.openConnections).toBeGreaterThan(0);
    sub.unsubscribe();
    await expectNoLeaks(baseline);
  });

  it('a host-key offer nobody answers is cut off by the handshake deadline (phase host-key)', async () => {
    const err = await errorOf(connect({ host: server.info.host, port: server.info.port, username: 'u', timeouts: { handshake: 300 } }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('host-key');
  });

  it('verifyHostKey with the insecure opt-out reaches auth', async () => {
    const transport = await first(
      connect({ host: server.info.host, port: server.info.port, username: 'u' }).pipe(verifyHostKey(insecureAcceptAnyHostKey())),
    );
    expect(transport.hostKey.fingerprint).toBe(server.info.hostKey.fingerprint);
  });
});

describe('connectionAttempts (ssh_config ConnectionAttempts)', () => {
  /** A port nothing listens on yet; after `ms` it relays to the test server. */
  async function lateListener(ms: number): Promise<{ port: number; close: () => void }> {
    const port = await freeClosedPort(); // never one the kernel hands another process meanwhile
    const sockets: Socket[] = [];
    const relay = createServer((client) => {
      const upstream = new Socket().connect(server.info.port, '127.0.0.1');
      sockets.push(client, upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    const timer = setTimeout(() => relay.listen(port, '127.0.0.1'), ms);
    return {
      port,
      close: () => {
        clearTimeout(timer);
        for (const s of sockets) s.destroy();
        relay.close();
      },
    };
  }

  it('tries a refused connection again one second later, up to the count; a count of 1 fails at once', async () => {
    const late = await lateListener(1300);
    try {
      const once = await errorOf(connect({ host: '127.0.0.1', port: late.port, username: 'u', connectionAttempts: 1 }));
      expect(once).toBeInstanceOf(ConnectError);
      const t0 = Date.now();
      const offer = await first(connectTo({ ...server.info, port: late.port }, { connectionAttempts: 3 }));
      expect(offer).toBeDefined();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // it waited for the listener, one second at a time
    } finally {
      late.close();
    }
    expect(() => connect({ host: 'h', username: 'u', connectionAttempts: 0 })).toThrow(RangeError);
  });

  it('unsubscribing between attempts stops the waiting: no timer or socket is left', async () => {
    const baseline = resources();
    const sub = connect({ host: '127.0.0.1', port: 1, username: 'u', connectionAttempts: 5 }).subscribe({ error: () => undefined });
    await new Promise((r) => setTimeout(r, 200));
    sub.unsubscribe();
    await expectNoLeaks(baseline);
  });
});
