import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../lib/util/buffer-pool.js';

describe('BufferPool', () => {
  it('makes buffers on demand up to count, then hands back given ones to waiters first', async () => {
    const pool = new BufferPool(16, 2);
    const a = pool.tryTake();
    const b = pool.tryTake();
    expect(a?.length).toBe(16);
    expect(b).not.toBe(a);
    expect(pool.tryTake()).toBeUndefined();
    const waiting = pool.take();
    pool.give(a as Buffer);
    expect(await waiting).toBe(a); // reused, not a new one
    pool.give(b as Buffer);
    expect(pool.tryTake()).toBe(b);
  });

  it('rejects a size or count that is not a positive integer', () => {
    expect(() => new BufferPool(0, 1)).toThrow(RangeError);
    expect(() => new BufferPool(8, 1.5)).toThrow(RangeError);
  });
});
