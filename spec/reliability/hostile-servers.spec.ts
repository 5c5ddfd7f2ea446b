/**
 * Hostile servers on raw sockets, and a fuzz corpus of seeded random server byte streams:
 * every pipeline ends exactly once, with a typed error, within its deadline, without a crash or
 * a leak.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { from, lastValueFrom, mergeMap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConnectionLostError, ProtocolError, SshError, TimeoutError, authenticate, connect, password, verifyHostKey } from '../../lib/index.js';
import { rawServer } from '../helpers/fault-proxy.js';
import { errorOf, expectNoLeaks, resources } from '../helpers/index.js';

const attempt = (port: number, handshake = 1000) =>
  connect({ host: '127.0.0.1', port, username: 'u', timeouts: { handshake, auth: 1000 } }).pipe(verifyHostKey(() => true), authenticate(password('p')));

/** Fails if the Observable does not end within `ms`. */
async function endsWithin(ms: number, o: ReturnType<typeof attempt>): Promise<unknown> {
  const t0 = Date.now();
  const err = await Promise.race([errorOf(o), new Promise((_, reject) => setTimeout(() => reject(new Error(`did not end within ${ms} ms`)), ms).unref())]);
  return { err, elapsed: Date.now() - t0 };
}

describe('hostile servers', () => {
  it.each([
    ['1,025 pre-banner lines', (s: Socket) => s.end('junk line\r\n'.repeat(1025)), ProtocolError],
    ['an 8 KiB banner line', (s: Socket) => s.write(`SSH-2.0-${'x'.repeat(8200)}\r\n`), ProtocolError],
    ['SSH-1.5', (s: Socket) => s.write('SSH-1.5-ancient\r\n'), ProtocolError],
    ['an HTTP answer', (s: Socket) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'), SshError],
    ['close before the banner', (s: Socket) => s.end(), ConnectionLostError],
    ['close right after the banner', (s: Socket) => s.end('SSH-2.0-bye\r\n'), ConnectionLostError],
    ['a truncated packet, then EOF', (s: Socket) => s.end(Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), Buffer.from([0, 0, 1])])), ConnectionLostError],
    ['an oversized packet length', (s: Socket) => s.write(Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), Buffer.from([0x7f, 0xff, 0xff, 0xff]), randomBytes(64)])), ProtocolError],
    ['a reset after the banner', (s: Socket) => s.write('SSH-2.0-x\r\n', () => s.resetAndDestroy()), SshError],
  ])('%s → a typed error, no leak', async (_name, behave, cls) => {
    const srv = await rawServer(behave);
    const baseline = resources();
    const { err } = (await endsWithin(5000, attempt(srv.port))) as { err: unknown };
    expect(err).toBeInstanceOf(cls);
    expect((err as SshError).code).toMatch(/^ERR_SSH_/);
    srv.close(); // the server's own sockets are not the client's
    await expectNoLeaks(baseline);
  });

  it('a flood of pre-banner data keeps memory flat', async () => {
    const srv = await rawServer((s) => {
      const line = Buffer.from(`${'y'.repeat(200)}\r\n`);
      const pump = (): void => {
        while (!s.destroyed && s.write(line));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    const before = process.memoryUsage().rss;
    const { err } = (await endsWithin(5000, attempt(srv.port, 10_000))) as { err: unknown };
    expect(err).toBeInstanceOf(ProtocolError); // rxssh caps pre-banner lines across chunks
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    srv.close();
  });

  it('a banner dripped at 1 byte per 100 ms is cut off by the handshake deadline', async () => {
    const srv = await rawServer((s) => {
      const banner = Buffer.from('SSH-2.0-slow\r\n');
      let i = 0;
      const t = setInterval(() => (i < banner.length && !s.destroyed ? s.write(banner.subarray(i, ++i)) : clearInterval(t)), 100);
      s.on('close', () => clearInterval(t));
    });
    const { err, elapsed } = (await endsWithin(5000, attempt(srv.port, 600))) as { err: unknown; elapsed: number };
    expect(err).toBeInstanceOf(TimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    srv.close();
  });
});

describe('fuzz: 1,000 seeded random server byte streams', () => {
  /** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
  const prng = (seed: number) => () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it('always a typed error within the deadline; never a crash or hang', async () => {
    const seeds = Array.from({ length: 1000 }, (_, i) => i + 1);
    let current = 0;
    const srv = await rawServer((s) => {
      const seed = ++current;
      const rnd = prng(seed);
      const withBanner = rnd() < 0.5;
      const body = Buffer.alloc(Math.floor(rnd() * 2048));
      for (let i = 0; i < body.length; i++) body[i] = Math.floor(rnd() * 256);
      const bytes = Buffer.concat([withBanner ? Buffer.from('SSH-2.0-fuzz\r\n') : Buffer.alloc(0), body]);
      if (rnd() < 0.5) s.end(bytes);
      else s.write(bytes);
    });
    const baseline = resources();
    const failures = await lastValueFrom(
      from(seeds).pipe(
        mergeMap(async (seed) => {
          try {
            const { err } = (await endsWithin(5000, attempt(srv.port, 400))) as { err: unknown };
            return err instanceof SshError ? undefined : `seed ${seed}: not a typed error: ${String(err)}`;
          } catch (e) {
            return `seed ${seed}: ${String(e)}`;
          }
        }, 25),
        toArray(),
      ),
    );
    const bad = failures.filter(Boolean);
    expect(bad, bad.join('\n')).toEqual([]);
    srv.close();
    await expectNoLeaks(baseline);
  });
});
