/**
 * `HopPool`: one authenticated connection to a jump host shared by every target that goes
 * through it (ProxyJump), instead of one login to the bastion per target. Each target is one
 * `direct-tcpip` channel on the shared connection; a bound on channels per connection opens
 * another connection when reached; an idle connection closes after a linger.
 *
 * ```text
 *  target 1 ─┐
 *  target 2 ─┼─ direct-tcpip channels ── one hop connection (login once) ── bastion
 *  target N ─┘            (a second hop connection once maxChannels are in use)
 * ```
 */
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { checkNumber, checkOptions, MILLISECONDS, optionNames, POSITIVE_INTEGER } from '../util/check.js';
import type { Connection } from '../connection/connection.js';

/**
 * Options of {@link HopPool}.
 *
 * @example
 * ```ts
 * import { HopPool } from 'rxssh';
 *
 * const pool = new HopPool({ maxChannels: 32, linger: 5000 });
 * ```
 */
export interface HopPoolConfig {
  /**
   * Targets (each one `direct-tcpip` channel) carried by one hop connection at once; the next
   * target opens another connection to the hop. Default 64: forwarding channels do not count
   * against sshd's `MaxSessions`.
   */
  readonly maxChannels?: number;
  /** How long (ms) a hop connection with no target left stays open for the next one. Default 0: it closes once the current tick is over. */
  readonly linger?: number;
}

const HOP_POOL_NAMES = optionNames<HopPoolConfig>()(['maxChannels', 'linger']);

/**
 * What a {@link HopPool} has done so far.
 *
 * @example
 * ```ts
 * const { opened, open, channels } = pool.stats; // 1, 0, 0 after a run through one bastion
 * ```
 */
export interface HopPoolStats {
  /** Hop connections started since the pool was made (one login each). */
  readonly opened: number;
  /** Hop connections open (or opening) now. */
  readonly open: number;
  /** Targets using the pool's connections now. */
  readonly channels: number;
}

/** One shared hop connection and the targets on it. */
interface Entry {
  readonly key: string;
  readonly users: Set<Subscriber<Connection>>;
  source: Subscription | undefined;
  connection: Connection | undefined;
  /** The connection ended or failed: no new targets. */
  done: boolean;
  linger: NodeJS.Timeout | NodeJS.Immediate | undefined;
}

/**
 * Shares authenticated connections to jump hosts between the targets behind them. `share(key,
 * open)` gives an `Observable<Connection>` to pass as `connect({ via })`: every subscriber with
 * the same key rides on one connection that `open()` made (until `maxChannels` subscribers use
 * it; then another is opened). The connection is closed once its last target is done (after
 * `linger`). A hop that fails or closes fails the targets on it and leaves the pool: the next
 * target opens a new one; a started command is never retried.
 *
 * `connectAlias` uses a pool of its own per process ({@link defaultHopPool}) for `ProxyJump`
 * hops, keyed by the hop's resolved settings (host, port, user, identities, known-hosts
 * settings and the hop before it): targets of one process that reach the same bastion as the
 * same user log in once. Code that acts for different principals in one process passes a pool of
 * its own per principal (or `hopPool: null`).
 *
 * @example
 * ```ts
 * import { HopPool, connect, verifyHostKey, authenticate, run } from 'rxssh';
 *
 * const pool = new HopPool();
 * const bastion = pool.share('bastion', () => connect(bastionConfig).pipe(verifyHostKey(policy), authenticate(key)));
 * connect({ host: '10.0.0.5', username: 'deploy', via: bastion }).pipe(verifyHostKey(policy), authenticate(key), run('uptime'));
 * ```
 */
export class HopPool {
  readonly #maxChannels: number;
  readonly #linger: number;
  readonly #entries = new Map<string, Entry[]>();
  #opened = 0;

  constructor(config: HopPoolConfig = {}) {
    checkOptions('new HopPool()', config, HOP_POOL_NAMES);
    this.#maxChannels = checkNumber('HopPool: maxChannels', config.maxChannels ?? 64, POSITIVE_INTEGER);
    this.#linger = checkNumber('HopPool: linger', config.linger ?? 0, MILLISECONDS);
  }

  /** What the pool has done so far. */
  get stats(): HopPoolStats {
    let open = 0;
    let channels = 0;
    for (const list of this.#entries.values()) {
      open += list.length;
      for (const entry of list) channels += entry.users.size;
    }
    return { opened: this.#opened, open, channels };
  }

  /**
   * The hop connection for `key` as an Observable: subscribing joins a shared connection with
   * room (or opens one with `open()`), unsubscribing leaves it.
   */
  share(key: string, open: () => Observable<Connection>): Observable<Connection> {
    if (typeof key !== 'string') throw new TypeError('HopPool.share(): key must be a string');
    if (typeof open !== 'function') throw new TypeError('HopPool.share(): open must be a function');
    return new Observable<Connection>((subscriber) => {
      const shared = this.#roomFor(key);
      const entry = shared ?? this.#newEntry(key);
      entry.users.add(subscriber);
      if (!shared) this.#connect(entry, open);
      else {
        this.#stopLinger(entry);
        if (entry.connection) subscriber.next(entry.connection);
      }
      return () => {
        if (!entry.users.delete(subscriber) || entry.users.size > 0 || entry.done) return;
        entry.linger = this.#linger > 0 ? setTimeout(() => this.#close(entry), this.#linger) : setImmediate(() => this.#close(entry));
      };
    });
  }

  /** Closes every idle hop connection now (those still carrying targets close with their last one). */
  closeIdle(): void {
    for (const list of [...this.#entries.values()]) for (const entry of [...list]) if (entry.users.size === 0) this.#close(entry);
  }

  #roomFor(key: string): Entry | undefined {
    return this.#entries.get(key)?.find((e) => !e.done && e.users.size < this.#maxChannels);
  }

  #newEntry(key: string): Entry {
    const entry: Entry = { key, users: new Set(), source: undefined, connection: undefined, done: false, linger: undefined };
    const list = this.#entries.get(key);
    if (list) list.push(entry);
    else this.#entries.set(key, [entry]);
    return entry;
  }

  #stopLinger(entry: Entry): void {
    if (entry.linger === undefined) return;
    clearTimeout(entry.linger as NodeJS.Timeout);
    clearImmediate(entry.linger as NodeJS.Immediate);
    entry.linger = undefined;
  }

  /** Opens the entry's connection; what it emits, or how it ends, reaches every target on it. */
  #connect(entry: Entry, open: () => Observable<Connection>): void {
    this.#opened++;
    let source$: Observable<Connection>;
    try {
      source$ = open();
    } catch (err) {
      return this.#end(entry, (s) => s.error(err));
    }
    const subscription = source$.subscribe({
      next: (connection) => {
        entry.connection = connection;
        for (const user of [...entry.users]) user.next(connection);
      },
      error: (err: unknown) => this.#end(entry, (s) => s.error(err)),
      complete: () => this.#end(entry, (s) => s.complete()),
    });
    // An open that failed at once already ended the entry: let go of what it left.
    if (entry.done) subscription.unsubscribe();
    else entry.source = subscription;
  }

  /** The hop connection ended: it leaves the pool, and every target on it hears how. */
  #end(entry: Entry, tell: (s: Subscriber<Connection>) => void): void {
    if (entry.done) return;
    entry.done = true;
    this.#forget(entry);
    for (const user of [...entry.users]) tell(user);
  }

  #close(entry: Entry): void {
    entry.linger = undefined;
    if (entry.users.size > 0) return;
    entry.done = true;
    this.#forget(entry);
    entry.source?.unsubscribe();
  }

  #forget(entry: Entry): void {
    const list = this.#entries.get(entry.key);
    const rest = list?.filter((e) => e !== entry) ?? [];
    if (rest.length > 0) this.#entries.set(entry.key, rest);
    else this.#entries.delete(entry.key);
  }
}

/**
 * The pool `connectAlias` uses for `ProxyJump` hops unless it is given one (`hopPool`): one per
 * process (per worker thread), so every target of a fan-out, a CLI run or a queue worker that
 * goes through the same bastion as the same user shares its login.
 *
 * @example
 * ```ts
 * import { defaultHopPool } from 'rxssh';
 *
 * console.log(defaultHopPool.stats.opened); // bastion logins so far
 * ```
 */
export const defaultHopPool = new HopPool();
