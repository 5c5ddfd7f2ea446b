/** fanOut in worker threads: the same guarantees as in-process, the SSH work on other threads. */
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOutInWorkers, type HostLine } from '../../lib/fleet/index.js';
import { OutputFlow } from '../../lib/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { eventually, expectNoLeaks, freeClosedPort, resources, serve } from '../helpers/index.js';

let servers: Array<{ info: TestServerInfo; stop: () => void }>;
beforeAll(async () => {
  servers = await Promise.all(Array.from({ length: 4 }, () => serve({ username: 'ops', password: 'pw' })));
});
afterAll(() => servers.forEach((s) => s.stop()));

const module = new URL('../fixtures/worker-pipeline.ts', import.meta.url);
const args = (command: string, extra: Record<string, unknown> = {}) => ({
  username: 'ops',
  password: 'pw',
  fingerprints: Object.fromEntries(servers.map((s) => [String(s.info.port), s.info.hostKey.fingerprint])),
  command,
  ...extra,
});

describe('fanOutInWorkers', () => {
  it('one result per host, run on worker threads (not the main one), with typed statuses for failures', async () => {
    const closed = await freeClosedPort();
    const targets = [...servers.map((s) => `127.0.0.1:${s.info.port}`), `127.0.0.1:${closed}`];
    const results = await lastValueFrom(fanOutInWorkers(targets, { module, export: 'command', args: args('echo hi') }, { threads: 2, concurrency: 8 }).pipe(toArray()));
    expect(results).toHaveLength(5);
    const ok = results.filter((r) => r.status === 'ok');
    expect(ok).toHaveLength(4);
    for (const r of ok) expect(r.stdout).toMatch(/^hi\nthread [1-9]\d*\n$/);
    expect(results.find((r) => r.target.port === closed)).toMatchObject({ status: 'unreachable' });
    const failed = await lastValueFrom(fanOutInWorkers(targets.slice(0, 2), { module, export: 'command', args: args('fail 3 broken') }, { threads: 2 }).pipe(toArray()));
    expect(failed.map((r) => [r.status, r.exitCode])).toEqual([
      ['failed', 3],
      ['failed', 3],
    ]);
  });

  it('an exec result with bytes crosses back as Buffers, its output captured like an in-process one', async () => {
    const [r] = await lastValueFrom(fanOutInWorkers([`127.0.0.1:${servers[0]!.info.port}`], { module, export: 'command', args: args('echo bytes', { binary: true }) }, { threads: 1 }).pipe(toArray()));
    expect(r).toMatchObject({ status: 'ok', exitCode: 0, stdout: 'bytes\n' });
    const value = r!.value as { type: string; stdout: unknown; stderr: unknown };
    expect(value.type).toBe('exec-result');
    expect(Buffer.isBuffer(value.stdout) && Buffer.isBuffer(value.stderr)).toBe(true);
    expect((value.stdout as Buffer).toString()).toBe('bytes\n');
  });

  it('config.flow pauses every host\'s channels inside the workers (WorkerContext.flow) and resumes them, no line lost', async () => {
    const bytes = 16 * 1024 * 1024; // `emit` writes i % 251: a newline at least every 251 bytes
    const flow = new OutputFlow();
    flow.pause();
    const run$ = fanOutInWorkers([`127.0.0.1:${servers[2]!.info.port}`], { module, export: 'emitted', args: args('', { bytes }) }, { threads: 1, flow });
    let lines = 0;
    run$.lines$.subscribe(() => lines++);
    const done = lastValueFrom(run$.pipe(toArray()));
    const server = servers[2]!.info;
    expect(await eventually(() => server.stats.execs.includes(`emit ${bytes}`), 20_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000)); // unpaused, 16 MiB would be here by now
    const whilePaused = lines;
    // At most the SSH window (2 MiB, ~8,400 lines) and what was on its way.
    expect(whilePaused).toBeLessThan(12_000);
    flow.resume();
    const [result] = await done;
    expect(result).toMatchObject({ status: 'ok', exitCode: 0 });
    // Every line, as many as the same run gives with the flow never paused.
    const free = fanOutInWorkers([`127.0.0.1:${servers[2]!.info.port}`], { module, export: 'emitted', args: args('', { bytes }) }, { threads: 1, flow: new OutputFlow() });
    let freeLines = 0;
    free.lines$.subscribe(() => freeLines++);
    await lastValueFrom(free);
    expect(freeLines).toBeGreaterThan(60_000);
    expect(lines).toBe(freeLines);
  });

  it('lines$ live from the workers; per-host timeouts stop the remote command; the pool ends with the run', async () => {
    const baseline = resources();
    const run$ = fanOutInWorkers(servers.map((s) => `127.0.0.1:${s.info.port}`), { module, export: 'command', args: args('lines 3 L', { stream: true }) }, { threads: 2 });
    const lines: HostLine[] = [];
    run$.lines$.subscribe((l) => lines.push(l));
    const results = await lastValueFrom(run$.pipe(toArray()));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(lines).toHaveLength(12);
    const slow = await lastValueFrom(fanOutInWorkers([`127.0.0.1:${servers[0]!.info.port}`], { module, export: 'command', args: args('sleep 30', { stream: true }) }, { threads: 1, timeout: 500 }).pipe(toArray()));
    expect(slow.map((r) => r.status)).toEqual(['timeout']);
    await expectNoLeaks(baseline, 10_000);
  });

  it('unsubscribing cancels the running hosts inside the workers', async () => {
    const s = servers[1]!.info;
    const before = s.stats.openConnections;
    const sub = fanOutInWorkers([`127.0.0.1:${s.port}`], { module, export: 'command', args: args('sleep 30', { stream: true }) }, { threads: 1 }).subscribe();
    expect(await eventually(() => s.stats.openConnections > before, 10_000)).toBe(true);
    sub.unsubscribe();
    expect(await eventually(() => s.stats.openConnections === before, 10_000)).toBe(true);
  });
});
