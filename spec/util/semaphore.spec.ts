import { describe, expect, it } from 'vitest';
import { Semaphore, type Release } from '../../lib/util/semaphore.js';

describe('Semaphore', () => {
  it('grants up to the limit, queues the rest in order, and frees on release', () => {
    const sem = new Semaphore(2);
    const granted: Array<[number, Release]> = [];
    const subs = [0, 1, 2, 3].map((i) => sem.acquire().subscribe((r) => granted.push([i, r])));
    expect(granted.map(([i]) => i)).toEqual([0, 1]);
    expect(sem.inUse).toBe(2);
    expect(sem.waiting).toBe(2);
    granted[0]?.[1]();
    granted[0]?.[1](); // twice is harmless
    expect(granted.map(([i]) => i)).toEqual([0, 1, 2]);
    subs[3]?.unsubscribe(); // leaves the queue
    expect(sem.waiting).toBe(0);
    granted[1]?.[1]();
    granted[2]?.[1]();
    expect(sem.inUse).toBe(0);
  });

  it('rejects a bad limit', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
  });
});
