import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PhaseDeadline } from '../../lib/transport/phase-deadline.js';

describe('PhaseDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires once with its length; arming again replaces the running deadline', () => {
    const expired: number[] = [];
    const deadline = new PhaseDeadline((ms) => expired.push(ms));
    deadline.arm(1000);
    vi.advanceTimersByTime(900);
    deadline.arm(500); // the next phase: its own bound, counted from now
    vi.advanceTimersByTime(400);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([500]);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([500]);
  });

  it('0 arms nothing (and stops the running one); clear() stops it and leaves no timer behind', () => {
    const expired: number[] = [];
    const deadline = new PhaseDeadline((ms) => expired.push(ms));
    deadline.arm(100);
    deadline.arm(0);
    vi.advanceTimersByTime(1000);
    deadline.arm(100);
    deadline.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual([]);
  });
});
