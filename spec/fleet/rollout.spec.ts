/**
 * Rolling out: waves (canary, batches), the failure budget (maxFail, fail fast: the rest
 * `skipped`), the start rate, and exactly one result per host in every combination. The
 * pipelines are plain Observables, so the order of starts and ends is exact.
 */
import { lastValueFrom, throwError, timer, toArray, mergeMap, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fanOut, type FanOutConfig, type HostResult } from '../../lib/fleet/index.js';
import { HostSkippedError } from '../../lib/index.js';
import { planWaves, hostsOf } from '../../lib/fleet/rollout.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`);

/** Runs a fan-out whose host `hN` takes `ms(N)` and fails when `fails(N)`; records starts and ends. */
async function roll(n: number, config: FanOutConfig, fails: (i: number) => boolean = () => false, ms: (i: number) => number = () => 5) {
  const log: string[] = [];
  const starts: number[] = [];
  const results = await lastValueFrom(
    fanOut(hosts(n), (t) => {
      const i = Number(t.host.slice(1));
      log.push(`start ${i}`);
      starts.push(Date.now());
      return timer(ms(i)).pipe(
        mergeMap(() => {
          log.push(`end ${i}`);
          return fails(i) ? throwError(() => new Error(`h${i} broke`)) : of(i);
        }),
      );
    }, { retries: 0, ...config }).pipe(toArray()),
  );
  const status = Object.fromEntries(results.map((r: HostResult<unknown>) => [r.host, r.status]));
  return { log, starts, results, status };
}

/** Each wave's hosts all end before the next wave's first start. */
function wavesOf(log: readonly string[]): number[][] {
  const waves: number[][] = [];
  let current: number[] = [];
  let running = 0;
  for (const e of log) {
    const [kind, n] = e.split(' ');
    if (kind === 'start') {
      if (running === 0 && current.length > 0) {
        waves.push(current);
        current = [];
      }
      running++;
      current.push(Number(n));
    } else running--;
  }
  if (current.length > 0) waves.push(current);
  return waves;
}

describe('waves', () => {
  it('batch N: the next wave starts when the previous one is done', async () => {
    const r = await roll(10, { batch: 3, concurrency: 10 });
    expect(wavesOf(r.log)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(r.results).toHaveLength(10);
  });

  it("batch P% rounds up (Ansible's serial); canary first, alone", async () => {
    expect(wavesOf((await roll(10, { batch: '25%', concurrency: 10 })).log)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(wavesOf((await roll(10, { canary: 2, batch: 4, concurrency: 10 })).log)).toEqual([[0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]);
    expect(wavesOf((await roll(5, { canary: 1, concurrency: 10 })).log)).toEqual([[0], [1, 2, 3, 4]]);
    expect(planWaves(hosts(3), 5, 2)).toEqual([['h0', 'h1', 'h2']]);
  });

  it('concurrency still bounds a wave', async () => {
    const r = await roll(6, { batch: 6, concurrency: 2 });
    let running = 0;
    let most = 0;
    for (const e of r.log) {
      running += e.startsWith('start') ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
  });
});

describe('the failure budget', () => {
  it('fail fast (maxFail 0): the first failure stops new starts; the rest are skipped, typed, never started', async () => {
    const r = await roll(10, { maxFail: 0, concurrency: 1 }, (i) => i === 3);
    expect(r.status).toEqual({ h0: 'ok', h1: 'ok', h2: 'ok', h3: 'failed', h4: 'skipped', h5: 'skipped', h6: 'skipped', h7: 'skipped', h8: 'skipped', h9: 'skipped' });
    expect(r.log.filter((e) => e.startsWith('start'))).toHaveLength(4);
    const skipped = r.results.find((x) => x.status === 'skipped');
    expect(skipped?.error).toBeInstanceOf(HostSkippedError);
    expect(skipped?.attempts).toBe(0);
  });

  it('maxFail N and P%: more failures than allowed stops the run there', async () => {
    const fails = (i: number) => [1, 4, 6, 8].includes(i);
    for (const maxFail of [2, '20%'] as const) {
      const r = await roll(10, { maxFail, concurrency: 1 }, fails);
      expect(Object.values(r.status)).toEqual(['ok', 'failed', 'ok', 'ok', 'failed', 'ok', 'failed', 'skipped', 'skipped', 'skipped']);
    }
    // Not exceeded: every host runs.
    expect(Object.values((await roll(10, { maxFail: 4, concurrency: 1 }, fails)).status).filter((s) => s === 'skipped')).toEqual([]);
  });

  it('hosts running when the budget is spent finish; only hosts not started are skipped', async () => {
    const r = await roll(8, { maxFail: 0, concurrency: 4 }, (i) => i === 0, (i) => (i === 0 ? 5 : 50));
    expect(r.status).toEqual({ h0: 'failed', h1: 'ok', h2: 'ok', h3: 'ok', h4: 'skipped', h5: 'skipped', h6: 'skipped', h7: 'skipped' });
  });

  it('a failing canary with fail fast skips every other host; with batches, later waves are skipped', async () => {
    const canary = await roll(6, { canary: 1, maxFail: 0, concurrency: 6 }, (i) => i === 0);
    expect(Object.values(canary.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    const waves = await roll(9, { batch: 3, maxFail: 1, concurrency: 3 }, (i) => i === 1 || i === 4);
    expect(Object.values(waves.status)).toEqual(['ok', 'failed', 'ok', 'ok', 'failed', 'ok', 'skipped', 'skipped', 'skipped']);
  });

  it('with a deadline, hosts of waves never reached end as timeout, once each', async () => {
    const r = await roll(9, { batch: 3, concurrency: 3, deadline: 30 }, () => false, () => 20);
    expect(r.results).toHaveLength(9);
    expect(new Set(r.results.map((x) => x.host)).size).toBe(9);
    expect(Object.values(r.status).slice(6)).toEqual(['timeout', 'timeout', 'timeout']);
  });
});

describe('the start rate', () => {
  it('rate 20/s: starts at least 50 ms apart, whatever the concurrency', async () => {
    const r = await roll(6, { rate: 20, concurrency: 6 });
    const gaps = r.starts.slice(1).map((t, i) => t - (r.starts[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45); // timers may fire a millisecond or two early
    expect(r.results).toHaveLength(6);
  });

  it('rate 20/s holds after a busy event loop: starts whose timers fire together still start 50 ms apart', async () => {
    const starts: number[] = [];
    const results = await lastValueFrom(
      fanOut(hosts(4), (t) => {
        starts.push(Date.now());
        // The first host keeps the event loop busy past the second and third hosts' turns.
        if (t.host === 'h1') for (const until = Date.now() + 160; Date.now() < until; );
        return of(t.host);
      }, { rate: 20, concurrency: 4, retries: 0 }).pipe(toArray()),
    );
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45); // bursts (0 ms apart) before
    expect(results).toHaveLength(4);
  });
});

describe('bad rollout settings', () => {
  it('are typed errors at call time', () => {
    const p = () => of(1);
    expect(() => fanOut(hosts(3), p, { batch: 0 })).toThrow(RangeError);
    expect(() => fanOut(hosts(3), p, { batch: '150%' })).toThrow(RangeError);
    expect(() => fanOut(hosts(3), p, { maxFail: 'many' as never })).toThrow(TypeError);
    expect(() => fanOut(hosts(3), p, { rate: 0 })).toThrow(RangeError);
    expect(() => fanOut(hosts(3), p, { canary: -1 })).toThrow(RangeError);
    expect(hostsOf('10%', 45, 'x', 'exact')).toBe(4.5);
    expect(hostsOf('10%', 45, 'x')).toBe(5);
  });
});

