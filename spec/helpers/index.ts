/** Shared helpers of the specs: servers, pipelines and the leak check. */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { firstValueFrom, lastValueFrom, tap, type Observable } from 'rxjs';
import { inject } from 'vitest';
import { authenticate, connect, exec, password, pinned, verifyHostKey, type ConnectConfig, type Connection } from '../../lib/index.js';
import { testServer, type TestServerConfig, type TestServerInfo } from '../../lib/testing/index.js';
import type { SshdInfo } from '../integration/sshd.js';

/** The real sshd started by the global setup; throws (fails the spec) when there is none. */
export function sshd(): SshdInfo {
  const value = inject('sshd');
  if ('unavailable' in value) throw new Error(`real sshd unavailable: ${value.unavailable}`);
  return value;
}

/** Starts an in-process test server; `stop()` closes it. */
export async function serve(config: TestServerConfig = {}): Promise<{ info: TestServerInfo; stop: () => void }> {
  let stop = (): void => undefined;
  const info = await new Promise<TestServerInfo>((resolve, reject) => {
    const sub = testServer(config).subscribe({ next: resolve, error: reject });
    stop = () => sub.unsubscribe();
  });
  return { info, stop };
}

/** connect → verify (pinned) → authenticate (password) against a test server. */
export function connectTo(s: TestServerInfo, extra: Partial<ConnectConfig> = {}): Observable<Connection> {
  return connect({ host: s.host, port: s.port, username: s.username, ...extra }).pipe(
    verifyHostKey(pinned(s.hostKey.fingerprint)),
    authenticate(password(s.password)),
  );
}

export const first = <T>(o: Observable<T>): Promise<T> => firstValueFrom(o);
export const last = <T>(o: Observable<T>): Promise<T> => lastValueFrom(o);

/** Resolves with the error an Observable ends with; rejects if it completes instead. */
export function errorOf(o: Observable<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    o.subscribe({ error: resolve, complete: () => reject(new Error('expected an error, but it completed')) });
  });
}

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'PipeWrap', 'ProcessWrap', 'fd'];

/** Counts of the resource kinds that a leak would show in, and the open file descriptors. */
export function resources(): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(WATCHED.map((k) => [k, 0]));
  for (const r of process.getActiveResourcesInfo()) if (r in counts) counts[r] = (counts[r] ?? 0) + 1;
  counts['fd'] = readdirSync('/proc/self/fd').length;
  return counts;
}

/**
 * Waits until no more sockets, servers, timers, child processes or file descriptors are open
 * than at `baseline`; fails with the difference if that does not happen within `ms`.
 */
export async function expectNoLeaks(baseline: Record<string, number>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = resources();
    const extra = WATCHED.filter((k) => (now[k] ?? 0) > (baseline[k] ?? 0));
    if (extra.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`leaked: ${extra.map((k) => `${k} ${baseline[k]} → ${now[k]}`).join(', ')}`);
    }
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20).unref());
  }
}

/** Polls `check` until it returns true or `ms` pass; returns its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A loopback port that nothing listens on (see `freePort`: never one the kernel hands out meanwhile). */
export async function freeClosedPort(): Promise<number> {
  const { freePort } = await import('../integration/sshd.js');
  return freePort();
}

/** What {@link catRoundTrip} saw: bytes back, both hashes, and how far stdin ran ahead. */
export interface CatRoundTrip {
  readonly received: number;
  readonly sentHash: string;
  readonly gotHash: string;
  /** The most bytes the stdin generator had produced beyond what had come back. */
  readonly maxAhead: number;
}

/**
 * Sends `total` bytes (a patterned block of `blockSize`, repeated) through `cat` on the
 * connection and hashes both directions; stdin comes from an async generator, so it is pulled
 * only as fast as the channel takes it.
 */
export async function catRoundTrip(connection$: Observable<Connection>, total: number, blockSize: number): Promise<CatRoundTrip> {
  const block = Buffer.alloc(blockSize);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7 + 3) % 256;
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let produced = 0;
  let received = 0;
  let maxAhead = 0;
  async function* stdin(): AsyncGenerator<Buffer> {
    while (produced < total) {
      produced += block.length;
      maxAhead = Math.max(maxAhead, produced - received);
      sent.update(block);
      yield block;
    }
  }
  await lastValueFrom(
    connection$.pipe(
      exec('cat', { stdin: stdin() }),
      tap(({ data }) => {
        received += data.length;
        got.update(data);
      }),
    ),
    { defaultValue: undefined },
  );
  return { received, sentHash: sent.digest('hex'), gotHash: got.digest('hex'), maxAhead };
}
