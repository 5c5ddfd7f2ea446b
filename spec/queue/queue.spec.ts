/**
 * Fan-out on a BullMQ queue: a real redis-server (a throwaway one per file), queue workers in
 * this process, in-process SSH servers. The sshd suite (spec/integration/queue.spec.ts) runs
 * the same with `rxssh worker` processes, kill -9 and markers on the server.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate,
  connect,
  exec,
  password,
  pinned,
  QueueError,
  verifyHostKey,
  WorkerLostError,
} from '../../lib/index.js';
import { type HostLine } from '../../lib/fleet/index.js';
import {
  fanOutOnQueue,
  queueWorker,
  redisOptions,
  type QueueHostPipeline,
  type QueueWorker,
} from '../../lib/queue/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { eventually, expectNoLeaks, freeClosedPort, resources, serve } from '../helpers/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let servers: Array<{ info: TestServerInfo; stop: () => void }>;
let redis: TestRedis;
const workers: QueueWorker[] = [];

beforeAll(async () => {
  servers = await Promise.all(Array.from({ length: 4 }, () => serve({ username: 'ops', password: 'pw' })));
  redis = await startRedis();
});
afterAll(async () => {
  servers.forEach((s) => s.stop());
  await redis?.stop();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close({ cancel: true }).catch(() => undefined)));
});

/** The workers' pipeline: their own credentials (here a password and pinned keys, never from the job). */
const pipeline: QueueHostPipeline = (t, job) => {
  const server = servers.find((s) => s.info.port === t.port)?.info;
  return connect({ host: t.host, port: t.port ?? 22, username: t.username ?? job.user ?? 'ops' }).pipe(
    verifyHostKey(server ? pinned(server.hostKey.fingerprint) : () => false),
    authenticate(password('pw')),
    exec(job.command, { stdin: job.stdin ? [job.stdin] : [], ...(job.env ? { env: job.env } : {}) }),
  );
};

let queueNo = 0;
const fresh = () => ({ url: redis.url, name: `spec-${process.pid}-${++queueNo}`, unavailableAfter: 3000 });
const start = (queue: ReturnType<typeof fresh>, extra: { concurrency?: number; name?: string } = {}) => {
  const w = queueWorker(pipeline, { queue, lockDuration: 2000, stalledInterval: 500, ...extra });
  workers.push(w);
  return w;
};

describe('fanOutOnQueue with queueWorker', () => {
  it('one result per host from two workers: output, lines, exit codes, stdin, an unreachable host', async () => {
    const queue = fresh();
    const seen: string[] = [];
    const a = queueWorker(pipeline, { queue, name: 'a', onJob: (e) => e.type === 'started' && seen.push(`a ${e.host}`) });
    const b = queueWorker(pipeline, { queue, name: 'b', onJob: (e) => e.type === 'started' && seen.push(`b ${e.host}`) });
    workers.push(a, b);
    await Promise.all([a.ready, b.ready]);
    const closed = await freeClosedPort();
    const targets = [...servers.map((s) => `127.0.0.1:${s.info.port}`), `127.0.0.1:${closed}`];
    const run$ = fanOutOnQueue(targets, { command: 'lines 3 L' }, { queue });
    const lines: HostLine[] = [];
    run$.lines$.subscribe((l) => lines.push(l));
    const results = await lastValueFrom(run$.pipe(toArray()));
    expect(results).toHaveLength(5);
    expect(results.filter((r) => r.status === 'ok').map((r) => r.stdout)).toEqual(Array(4).fill('L 1\nL 2\nL 3\n'));
    expect(results.find((r) => r.target.port === closed)).toMatchObject({ status: 'unreachable' });
    expect(lines.filter((l) => l.line === 'L 2')).toHaveLength(4);
    expect(seen).toHaveLength(5);

    const failed = await lastValueFrom(fanOutOnQueue(targets.slice(0, 2), { command: 'fail 3 broken' }, { queue }).pipe(toArray()));
    expect(failed.map((r) => [r.status, r.exitCode, r.stderr])).toEqual([
      ['failed', 3, 'broken\n'],
      ['failed', 3, 'broken\n'],
    ]);
    const input = await lastValueFrom(fanOutOnQueue(targets.slice(0, 1), { command: 'cat', stdin: Buffer.from([0, 255, 10]) }, { queue }).pipe(toArray()));
    expect(input[0]?.status).toBe('ok');
    expect(input[0]?.stdout).toBe('\u0000\ufffd\n'); // the bytes arrived (0xff is not UTF-8 on its own)
  });

  it('the same run id submitted again joins the finished jobs: the commands are not run again', async () => {
    const queue = fresh();
    start(queue);
    const s = servers[2]!.info;
    const before = s.stats.execs.length;
    const targets = [`127.0.0.1:${s.port}`];
    const first = await lastValueFrom(fanOutOnQueue(targets, { command: 'echo once' }, { queue, runId: 'same-run' }).pipe(toArray()));
    expect(first.map((r) => [r.status, r.stdout])).toEqual([['ok', 'once\n']]);
    const again = await lastValueFrom(fanOutOnQueue(targets, { command: 'echo once' }, { queue, runId: 'same-run' }).pipe(toArray()));
    // Its output went to the first submitter: the second learns the end, and that output is missing.
    expect(again.map((r) => r.status)).toEqual(['lost']);
    expect(again[0]?.error).toBeInstanceOf(QueueError);
    expect(String((again[0]?.error as Error).message)).toMatch(/output message\(s\) did not arrive/);
    expect(s.stats.execs.length - before).toBe(1);
  });

  it('a per-host timeout and unsubscribing stop the remote command on the worker', async () => {
    const queue = fresh();
    start(queue);
    const s = servers[1]!.info;
    const idle = s.stats.openConnections;
    const slow = await lastValueFrom(fanOutOnQueue([`127.0.0.1:${s.port}`], { command: 'sleep 30' }, { queue, timeout: 800 }).pipe(toArray()));
    expect(slow.map((r) => r.status)).toEqual(['timeout']);
    expect(await eventually(() => s.stats.openConnections === idle, 10_000)).toBe(true); // the worker stopped it
    const signalled = s.stats.signals.length;
    expect(signalled).toBeGreaterThan(0);
    const before = s.stats.openConnections;
    const execs = s.stats.execs.length;
    const sub = fanOutOnQueue([`127.0.0.1:${s.port}`], { command: 'sleep 30' }, { queue }).subscribe();
    expect(await eventually(() => s.stats.execs.length > execs, 10_000)).toBe(true);
    sub.unsubscribe();
    expect(await eventually(() => s.stats.openConnections === before, 10_000)).toBe(true);
    expect(s.stats.signals.length).toBeGreaterThan(signalled);
  });

  it('Redis going away mid-run: every host without a result ends lost with a QueueError, the worker closes with one; no hang, no leak', async () => {
    const own = await startRedis();
    const baseline = resources();
    const queue = { url: own.url, name: 'gone', unavailableAfter: 1500 };
    const worker = queueWorker(pipeline, { queue, lockDuration: 2000 });
    await worker.ready;
    const workerClosed = worker.closed.then(() => 'resolved', (err: unknown) => err);
    const s = servers[3]!.info;
    const run$ = fanOutOnQueue([`127.0.0.1:${s.port}`, `127.0.0.1:${servers[0]!.info.port}`], { command: 'sleep 30' }, { queue });
    const done = lastValueFrom(run$.pipe(toArray()));
    expect(await eventually(() => s.stats.openSessions > 0, 10_000)).toBe(true);
    const started = Date.now();
    own.process.kill('SIGKILL');
    const results = await done;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(results.map((r) => r.status)).toEqual(['lost', 'lost']);
    for (const r of results) expect(r.error).toBeInstanceOf(QueueError);
    const err = await workerClosed;
    expect(err).toBeInstanceOf(QueueError);
    expect(await eventually(() => s.stats.openSessions === 0, 10_000)).toBe(true); // the worker stopped its commands
    await expectNoLeaks(baseline, 10_000);
  });

  it('a worker that stops its running jobs (close with cancel): the host is lost, never ok; a non-zero exit stays failed with its code', async () => {
    const queue = fresh();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const w = queueWorker(pipeline, { queue, lockDuration: 2000, stalledInterval: 500, onJob: (e) => e.type === 'started' && started() });
    workers.push(w);
    const s = servers[3]!.info;
    const run = lastValueFrom(fanOutOnQueue([`127.0.0.1:${s.port}`], { command: 'sleep 30' }, { queue, stalledInterval: 500 }).pipe(toArray()));
    await running;
    await w.close({ cancel: true });
    const [result] = await run;
    // Its job stalled (no lock); BullMQ 6 would put it back in wait until a worker takes it: the
    // host is lost at once, and the job is gone (a worker started now does not run it).
    expect(result?.status).toBe('lost');
    expect(result?.error).toBeInstanceOf(WorkerLostError);
    const execs = s.stats.execs.length;

    start(queue);
    const [failed] = await lastValueFrom(fanOutOnQueue([`127.0.0.1:${s.port}`], { command: 'fail 7 no' }, { queue }).pipe(toArray()));
    expect([failed?.status, failed?.exitCode, failed?.stderr]).toEqual(['failed', 7, 'no\n']);
    expect(s.stats.execs.slice(execs)).toEqual(['fail 7 no']); // the stalled sleep never ran again
  });

  it('redisOptions: redis:// and rediss:// URLs, a database, the user; a password in the URL is refused', () => {
    expect(redisOptions({ url: 'redis://10.0.0.5:6380/2', password: 'pw' })).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 'pw' });
    expect(redisOptions({ url: 'rediss://ops@redis.internal' })).toMatchObject({ host: 'redis.internal', port: 6379, username: 'ops', tls: { servername: 'redis.internal' } });
    expect(redisOptions({ url: 'rediss://127.0.0.1:6380' })).toMatchObject({ tls: {} }); // no SNI for an address
    expect(() => redisOptions({ url: 'redis://ops:secret@h:1' })).toThrow(/no password in the URL/);
    expect(() => redisOptions({ url: 'http://h' })).toThrow(TypeError);
    expect(() => fanOutOnQueue(['h'], { command: 'true' }, { queue: { url: 'redis://h' }, runId: 'a:b' })).toThrow(/runId/);
  });
});
