import { from, lastValueFrom, map, NEVER, of, take, timer, toArray, throwError, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectError,
  WorkerLostError,
  exec,
  parseHostSpec,
  run,
  splitLines,
  type FanOutTarget,
} from '../../lib/index.js';
import {
  fanOut,
  parseHostsFile,
  statusOf,
  type FanOutProgress,
  type HostLine,
  type HostResult,
} from '../../lib/fleet/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { connectTo, eventually, expectNoLeaks, freeClosedPort, resources, serve } from '../helpers/index.js';

let servers: Array<{ info: TestServerInfo; stop: () => void }>;
beforeAll(async () => {
  servers = await Promise.all(Array.from({ length: 5 }, () => serve()));
});
afterAll(() => servers.forEach((s) => s.stop()));

const byPort = (t: FanOutTarget) => servers.find((s) => s.info.port === t.port)?.info;
const targetsFor = (infos: TestServerInfo[]) => infos.map((i) => `${i.username}@${i.host}:${i.port}`);

describe('inventory', () => {
  it('parses [user@]host[:port], IPv6, and pssh hosts files', () => {
    expect(parseHostSpec('web1')).toEqual({ host: 'web1', label: 'web1' });
    expect(parseHostSpec('deploy@web1:2222')).toEqual({ host: 'web1', port: 2222, username: 'deploy', label: 'deploy@web1:2222' });
    expect(parseHostSpec('[::1]:2222')).toMatchObject({ host: '::1', port: 2222 });
    expect(parseHostSpec('root@::1')).toMatchObject({ host: '::1', username: 'root' });
    expect(() => parseHostSpec('')).toThrow(TypeError);
    expect(() => parseHostSpec('h:99999')).toThrow(RangeError);
    expect(parseHostsFile('# fleet\n\nweb1\nweb2:2200 admin # second\nops@db1\n').map((t) => [t.host, t.port, t.username])).toEqual([
      ['web1', undefined, undefined],
      ['web2', 2200, 'admin'],
      ['db1', undefined, 'ops'],
    ]);
  });

  it('maps errors to statuses', () => {
    expect(statusOf(new ConnectError('x', { host: 'h', port: 1, phase: 'tcp' }))).toBe('unreachable');
    expect(statusOf(new Error('x'))).toBe('failed');
    expect(statusOf(new WorkerLostError('x', { host: 'h', port: 1, phase: 'connection' }))).toBe('lost');
  });
});

describe('fanOut', () => {
  it('one result per host with status, exit code, captured output and timings; lines framed per host', async () => {
    const closed = await freeClosedPort();
    const targets = [...targetsFor(servers.map((s) => s.info)), `rxssh@127.0.0.1:${closed}`];
    const run$ = fanOut(targets, (t) => {
      const info = byPort(t);
      if (!info) return connectTo({ ...servers[0]!.info, port: t.port ?? 22 }).pipe(exec('true'));
      return connectTo(info).pipe(exec(t.port === servers[1]!.info.port ? 'fail 4 broken' : `lines 2 ${t.port}`));
    }, { concurrency: 3 });
    const lines: HostLine[] = [];
    const progress: FanOutProgress[] = [];
    run$.lines$.subscribe((l) => lines.push(l));
    run$.progress$.subscribe((p) => progress.push(p));
    const results = await lastValueFrom(run$.pipe(toArray()));
    expect(results).toHaveLength(6);
    expect(new Set(results.map((r) => r.host)).size).toBe(6);
    const failed = results.find((r) => r.target.port === servers[1]!.info.port);
    expect(failed).toMatchObject({ status: 'failed', exitCode: 4, stderr: 'broken\n' });
    expect(results.find((r) => r.target.port === closed)).toMatchObject({ status: 'unreachable', attempts: 1 });
    const ok = results.filter((r) => r.status === 'ok');
    expect(ok).toHaveLength(4);
    for (const r of ok) {
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${r.target.port} 1\n${r.target.port} 2\n`);
      expect(r.timings.durationMs).toBeGreaterThanOrEqual(0);
      expect(lines.filter((l) => l.host === r.host).map((l) => l.line)).toEqual([`${r.target.port} 1`, `${r.target.port} 2`]);
    }
    expect(Math.max(...progress.map((p) => p.inFlight))).toBeLessThanOrEqual(3);
    expect(progress.at(-1)).toMatchObject({ total: 6, done: 6, ok: 4, failed: 2, inFlight: 0 });
  });

  it('run() results count: a non-zero exit is failed, output captured', async () => {
    const results = await lastValueFrom(
      fanOut(targetsFor([servers[0]!.info]), () => connectTo(servers[0]!.info).pipe(run('fail 2 nope'))).pipe(toArray()),
    );
    expect(results[0]).toMatchObject({ status: 'failed', exitCode: 2, stderr: 'nope\n' });
  });

  it('bounded capture marks truncation', async () => {
    const [r] = await lastValueFrom(
      fanOut(targetsFor([servers[0]!.info]), () => connectTo(servers[0]!.info).pipe(exec('emit 100000')), { capture: 1000 }).pipe(toArray()),
    );
    expect(r?.stdout.length).toBeLessThanOrEqual(1000);
    expect(r?.truncated).toBe(true);
  });

  it('a per-host timeout ends hung hosts as timeout while the others finish', async () => {
    const results = await lastValueFrom(
      fanOut(['a', 'b', 'c'], (t) => (t.host === 'b' ? NEVER : of('done')), { timeout: 200 }).pipe(toArray()),
    );
    expect(results.map((r) => [r.host, r.status]).sort()).toEqual([
      ['a', 'ok'],
      ['b', 'timeout'],
      ['c', 'ok'],
    ]);
  });

  it('a global deadline ends running and waiting hosts as timeout, and the run completes', async () => {
    const t0 = Date.now();
    const results = await lastValueFrom(
      fanOut(['a', 'b', 'c', 'd'], (t) => (t.host === 'a' ? of(1) : NEVER), { concurrency: 2, timeout: 0, deadline: 300 }).pipe(toArray()),
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(results.map((r) => [r.host, r.status, r.attempts]).sort()).toEqual([
      ['a', 'ok', 1],
      ['b', 'timeout', 1],
      ['c', 'timeout', 1],
      ['d', 'timeout', 0],
    ]);
  });

  it('retries connections dropped before the handshake, with backoff', async () => {
    let tries = 0;
    const drop = () =>
      throwError(() => new ConnectError('dropped', { host: 'h', port: 22, phase: 'banner', cause: new Error('ECONNRESET') }));
    const [r] = await lastValueFrom(
      fanOut(['h'], () => (++tries < 3 ? drop() : of('finally')), { retryDelay: 5 }).pipe(toArray()),
    );
    expect(r).toMatchObject({ status: 'ok', attempts: 3, value: 'finally' });
    const [gaveUp] = await lastValueFrom(fanOut(['h'], drop, { retries: 2, retryDelay: 1 }).pipe(toArray()));
    expect(gaveUp).toMatchObject({ status: 'unreachable', attempts: 3 });
  });

  it('an AbortSignal ends the run with cancelled results for the rest', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const results = await lastValueFrom(fanOut(['a', 'b', 'c'], (t) => (t.host === 'a' ? of(1) : NEVER), { concurrency: 1, signal: ac.signal }).pipe(toArray()));
    expect(results.map((r) => r.status)).toEqual(['ok', 'cancelled', 'cancelled']);
  });

  it('unsubscribing cancels everything: remote commands signalled, sockets closed, no late emissions', async () => {
    const baseline = resources();
    const signals = servers.reduce((n, s) => n + s.info.stats.signals.length, 0);
    const seen: Array<HostResult<unknown>> = [];
    const sub = fanOut(targetsFor(servers.map((s) => s.info)), (t) => connectTo(byPort(t)!).pipe(exec('sleep 60'))).subscribe((r) => seen.push(r));
    await eventually(() => servers.every((s) => s.info.stats.openSessions === 1));
    sub.unsubscribe();
    await expectNoLeaks(baseline, 1000); // every socket closed within 1 s
    expect(await eventually(() => servers.reduce((n, s) => n + s.info.stats.signals.length, 0) === signals + servers.length)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
  });

  it('an empty inventory completes at once; a number out of range in the config throws RangeError', async () => {
    expect(await lastValueFrom(fanOut([], () => of(1)).pipe(toArray()))).toEqual([]);
    expect(() => fanOut(['a'], () => of(1), { concurrency: 0 })).toThrow(RangeError);
    expect(() => fanOut(['a'], () => of(1), { timeout: -1 })).toThrow(RangeError);
  });

  it('one shared run for results, lines and progress', async () => {
    let started = 0;
    const run$ = fanOut(['a', 'b'], () => {
      started++;
      return timer(10).pipe(map(() => 1));
    });
    const progress: Observable<FanOutProgress> = run$.progress$;
    const [results, last] = await Promise.all([lastValueFrom(run$.pipe(toArray())), lastValueFrom(progress.pipe(take(100)))]);
    expect(results).toHaveLength(2);
    expect(last).toMatchObject({ done: 2 });
    expect(started).toBe(2);
  });
});

describe('what a host emits is read by its type', () => {
  it('a chunk is output and an exec result an outcome; a look-alike without the type is the host\'s own value', async () => {
    const chunk = { type: 'chunk' as const, stream: 'stdout' as const, data: Buffer.from('out\n') };
    const result = { type: 'exec-result' as const, command: 'c', stdout: 'said\n', stderr: 'warned\n', exitCode: 3, signal: null, truncated: false };
    const lookAlike = { stream: 'stdout', data: Buffer.from('not output\n'), exitCode: 7, stdout: 'not output\n' };
    const results = await lastValueFrom(
      fanOut(['a', 'b', 'c'], (t) => of(t.label === 'a' ? chunk : t.label === 'b' ? result : lookAlike)).pipe(toArray()),
    );
    const by = (label: string) => results.find((r) => r.host === label);
    expect(by('a')).toMatchObject({ status: 'ok', stdout: 'out\n', exitCode: 0 });
    expect(by('b')).toMatchObject({ status: 'failed', stdout: 'said\n', stderr: 'warned\n', exitCode: 3 });
    expect(by('c')).toMatchObject({ status: 'ok', stdout: '', stderr: '', exitCode: null, value: lookAlike });
  });
});

describe('line framing under output without newlines (issue 12)', () => {
  it('32 MiB without a newline: one line cut at maxLineLength and marked truncated, then the next line whole; the capture marked truncated too', async () => {
    const block = Buffer.alloc(64 * 1024, 'x');
    const chunks = [...Array.from({ length: 512 }, () => ({ type: 'chunk' as const, stream: 'stdout' as const, data: block })), { type: 'chunk' as const, stream: 'stdout' as const, data: Buffer.from('\r\ntail\r\n') }];
    const run$ = fanOut(['h'], () => from(chunks));
    const lines: HostLine[] = [];
    run$.lines$.subscribe((l) => lines.push(l));
    const [result] = await lastValueFrom(run$.pipe(toArray()));
    expect(lines.map((l) => [l.line.length, l.truncated])).toEqual([
      [64 * 1024, true],
      [4, false],
    ]);
    expect(lines[1]?.line).toBe('tail');
    expect(result).toMatchObject({ status: 'ok', truncated: true });
  });

  it('splitLines cuts a line longer than maxLength and keeps framing after it', async () => {
    const text = ['a'.repeat(10), 'b\r\nc', 'd\n', 'e'.repeat(7)];
    expect(await lastValueFrom(from(text).pipe(splitLines({ maxLength: 4 }), toArray()))).toEqual(['aaaa', 'cd', 'eeee']);
    expect(await lastValueFrom(from(['x'.repeat(8 * 1024 * 1024)]).pipe(splitLines(), toArray()))).toEqual(['x'.repeat(1024 * 1024)]);
  });
});
