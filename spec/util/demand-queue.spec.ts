import { describe, expect, it } from 'vitest';
import { DemandQueue } from '../../lib/util/demand-queue.js';

describe('DemandQueue', () => {
  it('pauses the producer at highWater, resumes it once drained to lowWater', async () => {
    const calls: string[] = [];
    const q = new DemandQueue<string>({ size: (s) => s.length, highWater: 10, lowWater: 4, pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    q.push('aaaa');
    q.push('bbbb');
    expect(q.full).toBe(false);
    q.push('cc');
    expect(q.full).toBe(true);
    expect(calls).toEqual(['pause']);
    expect((await q.next()).value).toBe('aaaa'); // 6 wait: still paused
    expect(calls).toEqual(['pause']);
    expect((await q.next()).value).toBe('bbbb'); // 2 wait: resumed
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('resumes only once the producer has room: exactly highWater waiting is still full', async () => {
    // A producer that asks `full` before each item (as readChunks does) must be resumed when it
    // can go on; resumed at exactly highWater it would find no room and never be resumed again.
    const fullWhenResumed: boolean[] = [];
    const q = new DemandQueue<number>({ highWater: 2, resume: () => fullWhenResumed.push(q.full) });
    q.push(1);
    q.push(2);
    q.push(3); // over highWater: a producer that had requests in flight delivers them
    expect(q.full).toBe(true);
    expect((await q.next()).value).toBe(1); // 2 wait: still full, not resumed
    expect(fullWhenResumed).toEqual([]);
    expect((await q.next()).value).toBe(2); // 1 waits: room again
    expect(fullWhenResumed).toEqual([false]);
  });

  it('hands out what waits before the end or the error', async () => {
    const q = new DemandQueue<number>();
    q.push(1);
    q.push(2);
    q.fail(new Error('boom'));
    q.push(3); // after the outcome: dropped
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const n of q) got.push(n);
      })(),
    ).rejects.toThrow('boom');
    expect(got).toEqual([1, 2]);
  });

  it('a waiting next() is answered by a later push or end', async () => {
    const q = new DemandQueue<number>();
    const first = q.next();
    q.push(7);
    expect(await first).toEqual({ value: 7, done: false });
    const second = q.next();
    q.end();
    expect(await second).toEqual({ value: undefined, done: true });
  });

  it('breaking out of the loop drops what waits, resumes a paused producer and awaits stop', async () => {
    const calls: string[] = [];
    let stopped = false;
    const q = new DemandQueue<number>({
      highWater: 2,
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      stop: () => new Promise<void>((r) => setTimeout(() => r(void (stopped = true)), 10)),
    });
    for (let i = 0; i < 5; i++) q.push(i);
    for await (const n of q) {
      expect(n).toBe(0);
      break;
    }
    expect(stopped).toBe(true);
    expect(calls).toEqual(['pause', 'resume']);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('return() also ends a next() that is still waiting', async () => {
    const q = new DemandQueue<number>();
    const waiting = q.next();
    await q.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});
