/**
 * The connection stage: an authenticated SSH connection on which channels are opened, and the
 * `shareConnection` operator that lets several pipelines use one connection.
 *
 * @module
 */
import { Observable, ReplaySubject, share, type MonoTypeOperatorFunction } from 'rxjs';
import type { ClientChannel } from 'ssh2';
import { ChannelOpenError, ConnectionLostError } from './errors.js';
import type { AuthEvent } from './auth.js';
import { ChannelSubject, type ChannelConfig, type ChannelInfo } from './channel.js';
import { runOn, type ExecResult, type RunConfig } from './exec.js';
import type { HostKeyInfo } from './host-key.js';
import type { Session } from './internal/session.js';

/** A channel opened and its request was accepted. */
export interface ChannelOpenEvent extends ChannelInfo {
  /** Discriminator. */
  readonly type: 'open';
}

/** A channel closed. */
export interface ChannelCloseEvent extends ChannelInfo {
  /** Discriminator. */
  readonly type: 'close';
  /** The exit status, or `null` (signal, or none reported). */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or `null`. */
  readonly signal: string | null;
}

/**
 * What `channel$` reports: a channel opened (its request accepted) or closed (with how its
 * command ended).
 *
 * @example
 * ```ts
 * import type { ChannelEvent } from 'rxssh';
 *
 * const log = (e: ChannelEvent) => console.log(e.type, e.id, e.kind, e.command);
 * // open 1 exec uname -a
 * // close 1 exec uname -a
 * ```
 */
export type ChannelEvent = ChannelOpenEvent | ChannelCloseEvent;

/**
 * Stage 3, emitted by `authenticate`: an authenticated connection. Open channels on it with
 * {@link Connection.exec}, {@link Connection.shell}, {@link Connection.subsystem} or run a
 * command to completion with {@link Connection.run}.
 *
 * @remarks
 * The connection lives as long as the pipeline's subscription; a server-side close completes
 * the stage. Channels are queued per connection behind `maxChannels` (default 8, below
 * OpenSSH's `MaxSessions 10`), so opening many at once never fails with "Channel open failure".
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password } from 'rxssh';
 * import { switchMap } from 'rxjs';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   authenticate(password('secret')),
 *   switchMap((connection) => connection.run('uptime')),
 * ).subscribe((r) => console.log(r.stdout)); // 10:42:01 up 3 days, …
 * ```
 */
export class Connection {
  readonly #session: Session;

  /** @internal */
  constructor(
    session: Session,
    /** The verified host key. */
    readonly hostKey: HostKeyInfo,
    /** Every authentication event, in order (the same as `Transport.auth$` replayed). */
    readonly auth: readonly AuthEvent[],
  ) {
    this.#session = session;
    this.channel$ = session.channelEvents.asObservable();
  }

  /** Channel open/close events, as they happen; completes when the connection ends. */
  readonly channel$: Observable<ChannelEvent>;

  /** The host as given to `connect`. */
  get host(): string {
    return this.#session.host;
  }

  /** The port. */
  get port(): number {
    return this.#session.port;
  }

  /** The user name authenticated. */
  get username(): string {
    return this.#session.username;
  }

  /** Calls `listener` once no channel is open or being opened. @internal */
  whenIdle(listener: () => void): () => void {
    return this.#session.limiter.whenIdle(listener);
  }

  /** Channels open or being opened right now. */
  get openChannels(): number {
    return this.#session.limiter.inUse;
  }

  /**
   * An exec channel as a duplex Subject (see {@link ChannelSubject}). Nothing is opened until
   * it is subscribed. Throws `TypeError` for an empty command.
   *
   * @example
   * ```ts
   * const cat = connection.exec('cat');
   * cat.subscribe((chunk) => process.stdout.write(chunk.data));
   * cat.next('hello\n');
   * cat.complete(); // EOF: cat exits 0, the Subject completes
   * ```
   */
  exec(command: string, config?: ChannelConfig): ChannelSubject {
    if (typeof command !== 'string' || command.length === 0) throw new TypeError('exec() needs a command');
    return new ChannelSubject(this.#session, { kind: 'exec', command }, config);
  }

  /**
   * An interactive shell channel (with a pty unless `pty: false`).
   *
   * @example
   * ```ts
   * const sh = connection.shell({ pty: { rows: 40, cols: 120 } });
   * sh.subscribe((chunk) => process.stdout.write(chunk.data));
   * sh.next('echo hi; exit\n');
   * ```
   */
  shell(config: ChannelConfig = {}): ChannelSubject {
    return new ChannelSubject(this.#session, { kind: 'shell', command: '' }, { pty: true, ...config });
  }

  /**
   * A subsystem channel (e.g. `sftp`), speaking raw bytes.
   *
   * @example
   * ```ts
   * const sftp = connection.subsystem('sftp');
   * ```
   */
  subsystem(name: string, config?: ChannelConfig): ChannelSubject {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('subsystem() needs a name');
    return new ChannelSubject(this.#session, { kind: 'subsystem', command: name }, config);
  }

  /**
   * Opens a `direct-tcpip` channel to `host:port` as seen from the server (what `ssh -W` and
   * ProxyJump use) and emits it as a Duplex stream; unsubscribing closes it. Errors with
   * `ChannelOpenError` when the server refuses (e.g. `AllowTcpForwarding no`).
   *
   * @example
   * ```ts
   * connection.forwardOut('db.internal', 5432).subscribe((stream) => stream.pipe(process.stdout));
   * ```
   */
  forwardOut(host: string, port: number): Observable<ClientChannel> {
    if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError('forwardOut() needs a host and a port 1–65535');
    }
    const session = this.#session;
    return new Observable<ClientChannel>((subscriber) => {
      let channel: ClientChannel | undefined;
      let closed = false;
      if (session.closed) {
        subscriber.error(new ConnectionLostError('Connection is closed', { host: session.host, port: session.port, phase: 'forward' }));
        return undefined;
      }
      try {
        session.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
          if (closed) {
            stream?.on('error', () => undefined);
            stream?.destroy();
            return;
          }
          if (err || !stream) {
            subscriber.error(
              new ChannelOpenError(`Cannot open a channel to ${host}:${port}: ${err?.message ?? 'no channel'}`, (err as { reason?: number } | undefined)?.reason, {
                host: session.host,
                port: session.port,
                phase: 'forward',
                cause: err,
              }),
            );
            return;
          }
          channel = stream;
          stream.on('error', () => undefined); // persistent: errors surface through the user of the stream
          subscriber.next(stream);
        });
      } catch (err) {
        subscriber.error(new ConnectionLostError('Connection is closed', { host: session.host, port: session.port, phase: 'forward', cause: err }));
      }
      return () => {
        closed = true;
        channel?.destroy();
      };
    });
  }

  /**
   * Runs a command to completion and emits one {@link ExecResult}. A non-zero exit is data
   * unless `check: true`.
   *
   * @example
   * ```ts
   * connection.run('id -u').subscribe((r) => console.log(r.exitCode, r.stdout)); // 0 '1000\n'
   * ```
   */
  run(command: string, config?: RunConfig): Observable<ExecResult> {
    if (typeof command !== 'string' || command.length === 0) throw new TypeError('run() needs a command');
    return runOn(this, command, config);
  }
}

/**
 * Shares one connection between several pipelines, ref-counted: it is opened by the first
 * subscriber, replayed to later ones, and closed when the last one leaves.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password, shareConnection, run } from 'rxssh';
 * import { forkJoin } from 'rxjs';
 *
 * const connection$ = connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   authenticate(password('secret')),
 *   shareConnection(),
 * );
 * forkJoin([connection$.pipe(run('uname')), connection$.pipe(run('uptime'))])
 *   .subscribe(([a, b]) => console.log(a.stdout, b.stdout)); // one connection, two channels
 * ```
 */
export function shareConnection(): MonoTypeOperatorFunction<Connection> {
  return share<Connection>({
    connector: () => new ReplaySubject<Connection>(1),
    resetOnError: true,
    resetOnComplete: true,
    resetOnRefCountZero: true,
  });
}
