/**
 * Hostile servers at the channel level: a maximum packet size of 0 (ssh2#1504: ssh2's write loop
 * would spin forever), data past the window (ssh2#1505), data after EOF, data and closes after
 * close, and no algorithm in common. Each ends in a typed error or a clean result, never a hang,
 * a crash or a success after a fault.
 */
import { concat, lastValueFrom, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ServerChannel } from 'ssh2';
import { ProtocolError, TimeoutError, authenticate, connect, password, verifyHostKey, withConnection } from '../../lib/index.js';
import { Server } from '../../lib/ssh2/index.js';
import { generateEd25519 } from '../../lib/testing/index.js';
import { errorOf, eventually } from '../helpers/index.js';

describe('hostile channels', () => {
  it('max packet size 0 → ProtocolError, no spin', async () => {
    const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => ctx.accept());
      client.on('ready', () =>
        client.on('session', (accept) => {
          // Reach into ssh2's server protocol to confirm the channel with packetSize 0.
          const proto = (client as unknown as { _protocol: { channelOpenConfirm: (...a: number[]) => void } })._protocol;
          const confirm = proto.channelOpenConfirm.bind(proto);
          proto.channelOpenConfirm = (remote: number, local: number, window: number) => confirm(remote, local, window, 0);
          const session = accept();
          proto.channelOpenConfirm = confirm;
          session.on('exec', (acceptExec) => {
            const stream = acceptExec();
            stream.on('error', () => undefined);
          });
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const err = await errorOf(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) => c.exec('cat', { stdin: [Buffer.alloc(1024 * 1024)] })),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(ticker);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/maximum packet size of 0/);
    expect(ticks).toBeGreaterThan(3); // timers kept firing: the loop was never wedged
    server.close();
  });

  it('data past the receive window (ssh2#1505) → ProtocolError on that channel, nothing buffered beyond the window', async () => {
    const { port, close } = await scripted((_proto, _id, stream) => {
      // Ignore the client's window: blast 64 MiB regardless.
      (stream as unknown as { outgoing: { window: number } }).outgoing.window = 2 ** 40;
      const block = Buffer.alloc(32 * 1024, 7);
      for (let i = 0; i < 2048; i++) stream.write(block);
    });
    let received = 0;
    const err = await errorOf(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) =>
          (async () => {
            for await (const chunk of c.exec('flood', { stdin: [] })) {
              received += chunk.data.length;
              await new Promise((r) => setTimeout(r, 5)); // a slow reader: the window closes
            }
          })(),
        ),
      ),
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/past the channel window/);
    // At most the 2 MiB window (plus what was read meanwhile) reached the reader, not 64 MiB.
    // (This process's RSS is no measure here: the hostile server in it buffers its own flood.)
    expect(received).toBeLessThanOrEqual(4 * 1024 * 1024);
    close();
  });

  it('data after the server\'s EOF → ProtocolError after the bytes before it, never success', async () => {
    const { port, close } = await scripted((proto, id) => {
      proto.channelData(id, Buffer.from('before'));
      proto.channelEOF(id);
      proto.channelData(id, Buffer.from('after EOF'));
      proto.exitStatus(id, 0);
      proto.channelClose(id);
    });
    const seen: string[] = [];
    const err = await errorOf(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) => c.exec('x', { stdin: [] })),
        tap((chunk) => seen.push(chunk.data.toString())),
      ),
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/data after its EOF/);
    expect(seen).toEqual(['before']);
    close();
  });

  it('data after close, a double close, EOF after close: the command completes once, the connection stays usable', async () => {
    let runs = 0;
    const { port, close } = await scripted((proto, id) => {
      runs++;
      proto.channelData(id, Buffer.from(`run ${runs}`));
      proto.exitStatus(id, 0);
      proto.channelEOF(id);
      proto.channelClose(id);
      proto.channelData(id, Buffer.from('after close'));
      proto.channelClose(id);
      proto.channelEOF(id);
    });
    const results = await lastValueFrom(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) => concat(c.run('x'), c.run('x'))),
        toArray(),
      ),
    );
    expect(results.map((r) => [r.stdout, r.exitCode])).toEqual([
      ['run 1', 0],
      ['run 2', 0],
    ]);
    close();
  });

  it('no algorithm in common → ProtocolError in phase kex, before any credential is sent', async () => {
    let authAttempts = 0;
    const server = new Server(
      { hostKeys: [generateEd25519().private], algorithms: { kex: ['diffie-hellman-group14-sha1'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] } },
      (client) => {
        client.on('error', () => undefined);
        client.on('authentication', (ctx) => {
          authAttempts++;
          ctx.accept();
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const err = await errorOf(connect({ host: '127.0.0.1', port, username: 'u' }).pipe(verifyHostKey(() => true), authenticate(password('p'))));
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ phase: 'kex', host: '127.0.0.1', port });
    expect((err as Error).message).toMatch(/no matching/);
    expect(authAttempts).toBe(0);
    server.close();
  });
});

type RawProtocol = {
  channelData(id: number, data: Buffer): void;
  channelEOF(id: number): void;
  channelClose(id: number): void;
  exitStatus(id: number, code: number): void;
};

/** An ssh2 server whose exec handler drives the channel through ssh2's raw protocol calls. */
async function scripted(act: (proto: RawProtocol, id: number, stream: ServerChannel) => void): Promise<{ port: number; close: () => void }> {
  const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () =>
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec) => {
          const stream = acceptExec();
          stream.on('error', () => undefined);
          const proto = (client as unknown as { _protocol: RawProtocol })._protocol;
          act(proto, (stream as unknown as { outgoing: { id: number } }).outgoing.id, stream);
        });
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

/**
 * A server that confirms every channel it is asked for, and opens its own forwarded channels,
 * with `packetSize` as its maximum packet size.
 */
async function tinyPacketServer(packetSize: number): Promise<{ port: number; forwardResult: Promise<unknown>; close: () => void }> {
  let settle: (v: unknown) => void = () => undefined;
  const forwardResult = new Promise<unknown>((r) => (settle = r));
  const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    const proto = (client as unknown as { _protocol: Record<string, (...a: unknown[]) => unknown> })._protocol;
    const confirm = proto['channelOpenConfirm']?.bind(proto) as (...a: unknown[]) => unknown;
    proto['channelOpenConfirm'] = (remote: unknown, local: unknown, window: unknown) => confirm(remote, local, window, packetSize);
    const forwarded = proto['forwardedTcpip']?.bind(proto) as (...a: unknown[]) => unknown;
    proto['forwardedTcpip'] = (chan: unknown, window: unknown, _max: unknown, cfg: unknown) => forwarded(chan, window, packetSize, cfg);
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => acceptSftp());
        session.on('exec', (acceptExec) => acceptExec().on('error', () => undefined));
      });
      client.on('tcpip', (accept) => accept().on('error', () => undefined));
      client.on('request', (accept, _reject, name, info) => {
        if (name !== 'tcpip-forward' || !accept) return;
        accept();
        const { bindAddr, bindPort } = info as { bindAddr: string; bindPort: number };
        setTimeout(() => client.forwardOut(bindAddr, bindPort || 4000, '127.0.0.1', 5555, (err) => settle(err ?? 'accepted')), 20);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, forwardResult, close: () => server.close() };
}

describe('a zero or tiny maximum packet size is refused on every kind of channel, in one place (issue 12)', () => {
  const login = (port: number) => connect({ host: '127.0.0.1', port, username: 'u' }).pipe(verifyHostKey(() => true), authenticate(password('p')));
  /** Runs `work` while a 10 ms ticker counts: a wedged event loop would stop it. */
  async function ticking<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number }> {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const result = await work();
      await new Promise((r) => setTimeout(r, 60));
      return { result, ticks };
    } finally {
      clearInterval(ticker);
    }
  }

  it.each([[0], [16]])('packet size %i: exec, an SFTP session, a forwardOut write and a jump host all end in ProtocolError; timers keep firing', async (size) => {
    const hostile = await tinyPacketServer(size);
    try {
      const { result, ticks } = await ticking(async () => ({
        exec: await errorOf(login(hostile.port).pipe(withConnection((c) => c.exec('cat', { stdin: [Buffer.alloc(1024 * 1024)] })))),
        sftp: await errorOf(login(hostile.port).pipe(withConnection((c) => c.withSftp((s) => s.readdir('/'))))),
        forwardOut: await errorOf(login(hostile.port).pipe(withConnection((c) => c.forwardOut('10.9.9.9', 80).pipe(tap((stream) => stream.write(Buffer.alloc(1024 * 1024))))))),
        via: await errorOf(
          connect({ host: '127.0.0.1', port: 22, username: 'u', via: login(hostile.port) }).pipe(verifyHostKey(() => true), authenticate(password('p'))),
        ),
      }));
      for (const [what, err] of Object.entries(result)) {
        expect(err, what).toBeInstanceOf(ProtocolError);
        expect((err as Error).message, what).toMatch(new RegExp(`maximum packet size of ${size} bytes`));
      }
      expect(ticks).toBeGreaterThan(5);
    } finally {
      hostile.close();
    }
  });

  it('a forwarded connection the server opens with packet size 0 is refused; the remote forward goes on', async () => {
    const hostile = await tinyPacketServer(0);
    try {
      const events: unknown[] = [];
      const sub = login(hostile.port)
        .pipe(withConnection((c) => c.forwardRemote({ bindPort: 4000 })))
        .subscribe({ next: (e) => events.push(e), error: (e: unknown) => events.push(e) });
      const refusal = await hostile.forwardResult;
      expect(String(refusal)).toMatch(/maximum packet size 0 is below 1024/);
      expect(events.some((e) => e instanceof Error)).toBe(false);
      sub.unsubscribe();
    } finally {
      hostile.close();
    }
  });
});

describe('a server that sends EOF while it still holds data (Twisted Conch under load) never stalls a channel silently (issue 12)', () => {
  it('the window stays open after EOF: what it still sends arrives as a ProtocolError, not a hang', async () => {
    const { port, close } = await scripted((proto, id, stream) => {
      // Write through ssh2's own stream until the client stops granting window (its reader is
      // slow); then send EOF on the wire while data is still queued for window: Conch's order.
      const block = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const pump = (): void => {
        while (sent < 64 * 1024 * 1024) {
          sent += block.length;
          if (!stream.write(block)) break;
        }
        let drained = false;
        stream.once('drain', () => {
          drained = true;
          pump();
        });
        setTimeout(() => {
          if (!drained) proto.channelEOF(id);
        }, 300);
      };
      pump();
    });
    let received = 0;
    const err = await errorOf(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) =>
          (async () => {
            for await (const chunk of c.exec('x', { stdin: [] })) {
              received += chunk.data.length;
              await new Promise((r) => setTimeout(r, 5)); // a slow reader: the window is closed when EOF comes
            }
          })(),
        ),
      ),
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(/data after its EOF/);
    expect(received).toBeGreaterThan(0);
    close();
  });

  it('idleTimeout: a channel on which the server sends nothing ends with TimeoutError (phase exec), and the command is signalled', async () => {
    const signals: string[] = [];
    const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => ctx.accept());
      client.on('ready', () =>
        client.on('session', (accept) => {
          const session = accept();
          session.on('signal', (_a, _r, info) => signals.push(info.name));
          session.on('exec', (acceptExec) => acceptExec().on('error', () => undefined)); // silent forever
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const err = await errorOf(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) => c.exec('sleep forever', { idleTimeout: 300 })),
      ),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('exec');
    expect(await eventually(() => signals.length > 0, 5000)).toBe(true);
    expect(signals).toEqual(['TERM']);
    server.close();
  });
});
