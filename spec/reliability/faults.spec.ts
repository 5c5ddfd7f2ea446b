/**
 * Servers that stall mid-protocol (auth never answered, channel never confirmed), and a soak of
 * 1,000 connect/exec/close cycles with failures mixed in: heap and file descriptors return to
 * their baseline.
 */
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { from, lastValueFrom, mergeMap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectError, ExitStatusError, TimeoutError, authenticate, connect, password, run, verifyHostKey, withConnection } from '../../lib/index.js';
import { Server } from '../../lib/ssh2/index.js';
import { generateEd25519, type TestServerInfo } from '../../lib/testing/index.js';
import { connectTo, errorOf, expectNoLeaks, freeClosedPort, resources, serve } from '../helpers/index.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/** An ssh2 server scripted to stall: it never answers auth, or never confirms a channel. */
async function stallingServer(stall: 'auth' | 'channel'): Promise<{ port: number; close: () => void }> {
  const clients = new Set<{ end(): void }>();
  const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
    clients.add(client);
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (stall === 'auth') return; // never accept, never reject
      ctx.accept();
    });
    client.on('ready', () => client.on('session', () => undefined)); // never accept or reject
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const c of clients) c.end();
      server.close();
    },
  };
}

describe('stalled servers end at the phase deadline', () => {
  it('a server that never answers authentication → TimeoutError (auth)', async () => {
    const srv = await stallingServer('auth');
    const err = await errorOf(
      connect({ host: '127.0.0.1', port: srv.port, username: 'u', timeouts: { auth: 400 } }).pipe(verifyHostKey(() => true), authenticate(password('p'))),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('auth');
    srv.close();
  });

  it('a channel open that is never confirmed → TimeoutError (channel)', async () => {
    const srv = await stallingServer('channel');
    const err = await errorOf(
      connect({ host: '127.0.0.1', port: srv.port, username: 'u', timeouts: { channelOpen: 400 } }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) => c.exec('true', { stdin: [] })),
      ),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('channel');
    srv.close();
  });
});

describe('soak', () => {
  let server: { info: TestServerInfo; stop: () => void };
  beforeAll(async () => {
    server = await serve();
  });
  afterAll(() => server.stop());

  const fds = () => readdirSync('/proc/self/fd').length;

  it('1,000 connect/exec/close cycles, failures included: heap and fds back to baseline', async () => {
    const closed = await freeClosedPort();
    const cycle = (i: number) => {
      if (i % 20 === 0) return connect({ host: '127.0.0.1', port: closed, username: 'x' }).pipe(verifyHostKey(() => true), authenticate(password('x')), run('true'));
      if (i % 10 === 0) return connect({ host: server.info.host, port: server.info.port, username: server.info.username }).pipe(verifyHostKey(() => true), authenticate(password('wrong')), run('true'));
      return connectTo(server.info).pipe(run(i % 3 === 0 ? 'fail 3 x' : 'echo ok', { check: true }));
    };
    const outcome = (i: number) =>
      lastValueFrom(cycle(i)).then(
        () => 'ok',
        (e: unknown) => (e instanceof ConnectError ? 'refused' : e instanceof AuthenticationError ? 'auth' : e instanceof ExitStatusError ? 'exit' : `other ${String(e)}`),
      );
    // Warm-up (JIT, pools), then the baseline.
    await lastValueFrom(from(Array.from({ length: 50 }, (_, i) => i)).pipe(mergeMap(outcome, 10), toArray()));
    await new Promise((r) => setTimeout(r, 300));
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const fd0 = fds();
    const res0 = resources();
    const outcomes = await lastValueFrom(from(Array.from({ length: 1000 }, (_, i) => i)).pipe(mergeMap(outcome, 20), toArray()));
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
    expect(counts).toEqual({ refused: 50, auth: 50, exit: 300, ok: 600 });
    await expectNoLeaks(res0);
    await new Promise((r) => setTimeout(r, 300));
    gc();
    expect(fds()).toBeLessThanOrEqual(fd0);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(16 * 1024 * 1024);
  });
});
