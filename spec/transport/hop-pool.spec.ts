/** HopPool: one hop connection per key and channel bound, shared, closed after the last target. */
import { Observable, Subject, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HopPool } from '../../lib/transport/hop-pool.js';
import type { Connection } from '../../lib/connection/connection.js';

/** A stand-in hop: counts opens and closes; `conn$` controls what the open connection does. */
function fakeHop() {
  const log: string[] = [];
  let n = 0;
  const conns: Subject<Connection>[] = [];
  const open = (): Observable<Connection> =>
    new Observable<Connection>((s) => {
      const id = ++n;
      log.push(`open ${id}`);
      const conn$ = new Subject<Connection>();
      conns.push(conn$);
      const sub = conn$.subscribe(s);
      return () => {
        sub.unsubscribe();
        log.push(`close ${id}`);
      };
    });
  return { log, open, conns, connection: (id: number) => ({ id }) as unknown as Connection };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('HopPool', () => {
  it('shares one connection between targets with the same key, and closes it after the last one', async () => {
    const pool = new HopPool();
    const hop = fakeHop();
    const seen: unknown[] = [];
    const a = pool.share('bastion', hop.open).subscribe((c) => seen.push(c));
    const b = pool.share('bastion', hop.open).subscribe((c) => seen.push(c));
    const conn = hop.connection(1);
    hop.conns[0]?.next(conn);
    const c = pool.share('bastion', hop.open).subscribe((x) => seen.push(x)); // joins late: gets it at once
    expect(seen).toEqual([conn, conn, conn]);
    expect(hop.log).toEqual(['open 1']);
    expect(pool.stats).toEqual({ opened: 1, open: 1, channels: 3 });
    a.unsubscribe();
    b.unsubscribe();
    c.unsubscribe();
    // The last target left: the connection closes once this tick is over, not before.
    expect(hop.log).toEqual(['open 1']);
    await tick();
    expect(hop.log).toEqual(['open 1', 'close 1']);
    expect(pool.stats).toEqual({ opened: 1, open: 0, channels: 0 });
  });

  it('a target that comes in the same tick as the last one leaves keeps the connection', async () => {
    const pool = new HopPool();
    const hop = fakeHop();
    pool.share('h', hop.open).subscribe().unsubscribe();
    const again = pool.share('h', hop.open).subscribe();
    await tick();
    expect(hop.log).toEqual(['open 1']);
    again.unsubscribe();
    await tick();
    expect(hop.log).toEqual(['open 1', 'close 1']);
  });

  it('different keys never share', () => {
    const pool = new HopPool();
    const hop = fakeHop();
    const subs = [pool.share('alice@bastion', hop.open).subscribe(), pool.share('bob@bastion', hop.open).subscribe()];
    expect(hop.log).toEqual(['open 1', 'open 2']);
    for (const s of subs) s.unsubscribe();
  });

  it('opens another connection when maxChannels targets use one', () => {
    const pool = new HopPool({ maxChannels: 2 });
    const hop = fakeHop();
    const subs = Array.from({ length: 5 }, () => pool.share('h', hop.open).subscribe());
    expect(hop.log).toEqual(['open 1', 'open 2', 'open 3']);
    expect(pool.stats).toEqual({ opened: 3, open: 3, channels: 5 });
    // A freed place is taken by the next target instead of a new connection.
    subs[0]?.unsubscribe();
    const more = pool.share('h', hop.open).subscribe();
    expect(hop.log).toEqual(['open 1', 'open 2', 'open 3']);
    for (const s of [...subs, more]) s.unsubscribe();
  });

  it('keeps an idle connection for `linger` ms, and reuses it within that time', async () => {
    const pool = new HopPool({ linger: 80 });
    const hop = fakeHop();
    pool.share('h', hop.open).subscribe().unsubscribe();
    await new Promise((r) => setTimeout(r, 30));
    const again = pool.share('h', hop.open).subscribe();
    again.unsubscribe();
    await new Promise((r) => setTimeout(r, 40));
    expect(hop.log).toEqual(['open 1']); // the second target restarted the linger
    await new Promise((r) => setTimeout(r, 80));
    expect(hop.log).toEqual(['open 1', 'close 1']);
  });

  it('a hop that fails fails every target on it and leaves the pool: the next target opens a new one', async () => {
    const pool = new HopPool();
    const hop = fakeHop();
    const errors: unknown[] = [];
    pool.share('h', hop.open).subscribe({ error: (e) => errors.push(e) });
    pool.share('h', hop.open).subscribe({ error: (e) => errors.push(e) });
    const lost = new Error('bastion lost');
    hop.conns[0]?.error(lost);
    expect(errors).toEqual([lost, lost]);
    expect(pool.stats.open).toBe(0);
    const next = firstValueFrom(pool.share('h', hop.open));
    hop.conns[1]?.next(hop.connection(2));
    expect(await next).toEqual({ id: 2 });
    await tick();
    expect(hop.log).toEqual(['open 1', 'close 1', 'open 2', 'close 2']);
  });

  it('a hop that closes completes its targets; an open that throws errors the target', () => {
    const pool = new HopPool();
    const hop = fakeHop();
    const said: string[] = [];
    pool.share('h', hop.open).subscribe({ complete: () => said.push('complete') });
    hop.conns[0]?.complete();
    expect(said).toEqual(['complete']);
    const boom = new TypeError('bad hop settings');
    pool.share('x', () => {
      throw boom;
    }).subscribe({ error: (e) => said.push(String(e)) });
    expect(said).toEqual(['complete', 'TypeError: bad hop settings']);
    expect(pool.stats).toEqual({ opened: 2, open: 0, channels: 0 });
  });

  it('closeIdle() closes lingering connections at once; bad options are typed', () => {
    const pool = new HopPool({ linger: 60_000 });
    const hop = fakeHop();
    pool.share('h', hop.open).subscribe().unsubscribe();
    pool.closeIdle();
    expect(hop.log).toEqual(['open 1', 'close 1']);
    expect(() => new HopPool({ maxChannels: 0 })).toThrow(RangeError);
    expect(() => new HopPool({ linger: -1 })).toThrow(RangeError);
    expect(() => pool.share('h', 'nope' as never)).toThrow(TypeError);
  });
});
