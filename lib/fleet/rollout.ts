/**
 * Rolling a fan-out out safely, as Ansible's `serial` and `max_fail_percentage` do: hosts in
 * waves (a canary wave first, then batches; the next wave starts when the previous one is done),
 * a failure budget after which no new host starts, and a bound on connection starts per second.
 */

/** A count of hosts, or a percentage of the run's hosts (`'10%'`). */
export type HostAmount = number | `${number}%`;

/** `amount` in hosts out of `total` (a percentage rounds up, as Ansible's `serial`); `what` names it in errors. */
export function hostsOf(amount: HostAmount, total: number, what: string, round: 'up' | 'exact' = 'up'): number {
  if (typeof amount === 'number') {
    if (!Number.isInteger(amount) || amount < 0) throw new RangeError(`${what} must be a non-negative integer or a percentage like "10%", not ${amount}`);
    return amount;
  }
  const m = typeof amount === 'string' ? /^(\d+(?:\.\d+)?)%$/.exec(amount) : null;
  if (!m) throw new TypeError(`${what} must be a number of hosts or a percentage like "10%", not ${JSON.stringify(amount)}`);
  const percent = Number(m[1]);
  if (percent > 100) throw new RangeError(`${what}: ${amount} is more than 100%`);
  const exact = (total * percent) / 100;
  return round === 'up' ? Math.ceil(exact) : exact;
}

/**
 * The waves of a run: the first `canary` hosts alone, then the rest in batches of `batch` (all
 * at once without one). Waves are slices of the list, in order.
 */
export function planWaves<T>(list: readonly T[], canary: number, batch: number | undefined): T[][] {
  const waves: T[][] = [];
  let at = 0;
  if (canary > 0) {
    waves.push(list.slice(0, canary));
    at = Math.min(canary, list.length);
  }
  const size = batch === undefined || batch <= 0 ? list.length - at : batch;
  for (; at < list.length; at += size) waves.push(list.slice(at, at + size));
  return waves.filter((w) => w.length > 0);
}

/** Spaces host starts `1000 / perSecond` ms apart. */
export interface StartPacer {
  /** A place in line: how long to wait before asking {@link begin}. */
  reserve(): number;
  /**
   * Whether the host may start now (0, and the start is counted) or must wait so long first:
   * timers that a busy event loop fires together must not start hosts together.
   */
  begin(): number;
}

/** The pacer of `rate` starts per second (none: every host starts at once). */
export function startPacer(perSecond: number | undefined): StartPacer {
  if (perSecond === undefined) return { reserve: () => 0, begin: () => 0 };
  const gap = 1000 / perSecond;
  let next = 0;
  let last = -Infinity;
  return {
    reserve: () => {
      const now = Date.now();
      const at = Math.max(now, next);
      next = at + gap;
      return at - now;
    },
    begin: () => {
      const now = Date.now();
      if (now < last + gap) return Math.ceil(last + gap - now);
      last = now;
      return 0;
    },
  };
}
