/**
 * The connection stage: an authenticated SSH connection on which channels are opened (exec,
 * shell, subsystem, SFTP in sftp-channel.ts, forwarding channels in forward-channel.ts); its
 * channel events are in channel-events.ts, `shareConnection` in share.ts.
 *
 * @module
 */
import type { Observable, ObservableInput } from 'rxjs';
import { holdWhile } from '../util/hold.js';
import type { Duplex } from 'node:stream';
import type { SftpSession } from '../sftp/sftp.js';
import { ConnectionLostError } from '../errors.js';
import { forwardDynamic, forwardLocal } from '../forward/local.js';
import { forwardRemote, forwardRemoteUnix } from '../forward/remote.js';
import type { DynamicForwardConfig, DynamicForwardEvent, ForwardEvent, ForwardHost, LocalForwardConfig, RemoteForwardConfig, RemoteForwardEvent } from '../forward/types.js';
import type { AuthEvent, HostKeyInfo } from '../transport/transport.js';
import { ChannelSubject, type ChannelConfig } from '../channel/channel.js';
import { runOn, type ExecResult, type RunConfig } from '../channel/run.js';
import type { Session } from '../transport/session.js';
import type { ChannelEvent } from './channel-events.js';
import { sftpChannel, type SftpConfig } from './sftp-channel.js';
import { forwardChannel } from './forward-channel.js';


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

  private constructor(
    session: Session,
    /** The verified host key. */
    readonly hostKey: HostKeyInfo,
    /** Every authentication event, in order (the same as `Transport.auth$` replayed). */
    readonly auth: readonly AuthEvent[],
  ) {
    this.#session = session;
    this.channel$ = session.channelEvents.asObservable();
  }

  /** @internal */
  static create(session: Session, hostKey: HostKeyInfo, auth: readonly AuthEvent[]): Connection {
    return new Connection(session, hostKey, auth);
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
    // The Subject cannot run as another user: never ignore the request.
    if (config && 'become' in config) throw new TypeError('Connection.exec() cannot become another user: use run() or the exec() operator with become');
    return ChannelSubject.create(this.#session, { kind: 'exec', command }, config);
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
    return ChannelSubject.create(this.#session, { kind: 'shell', command: '' }, { pty: true, ...config });
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
    return ChannelSubject.create(this.#session, { kind: 'subsystem', command: name }, config);
  }

  /**
   * An SFTP session: the subscription holds one `sftp` subsystem channel (counted against the
   * connection's channel limit, so sequential sessions never exhaust `MaxSessions`) and closes
   * it on unsubscribe. Emits the {@link SftpSession} once. With `become` (sudo only), the SFTP
   * server runs as that user on an exec channel (`sudo … sftp-server`): files are read and
   * written with its rights; a refusal is a `BecomeError`.
   *
   * @example
   * ```ts
   * connection.sftp().pipe(switchMap((sftp) => sftp.readdir('/etc'))).subscribe((e) => console.log(e.name));
   * connection.sftp({ become: { password: pw } }).pipe(switchMap((sftp) => sftp.writeFile('/etc/app.conf', text, { mode: 0o600 })));
   * ```
   */
  sftp(config: SftpConfig = {}): Observable<SftpSession> {
    return sftpChannel(this.#session, config);
  }

  /**
   * Runs `project` with an SFTP session held open for as long as the Observable it returns
   * runs; completes with it and then closes the session's channel.
   *
   * @example
   * ```ts
   * connection.withSftp((sftp) => sftp.upload('./app.tgz', '/srv/app.tgz')).subscribe((p) => console.log(p.bytes));
   * ```
   */
  withSftp<R>(project: (sftp: SftpSession) => ObservableInput<R>, config: SftpConfig = {}): Observable<R> {
    // The session's channel closing first fails work still running on it (it gets one turn to
    // report its own error); it never completes.
    return this.sftp(config).pipe(holdWhile(project, { settle: (sftp, done) => sftp.whenIdle(done), lost: () => new ConnectionLostError('The SFTP channel closed', { host: this.#session.host, port: this.#session.port, phase: 'sftp' }) }));
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
  forwardOut(host: string, port: number): Observable<Duplex> {
    if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError('forwardOut() needs a host and a port 1-65535');
    }
    return forwardChannel(this.#session, `${host}:${port}`, (session, done) => session.client.forwardOut('127.0.0.1', 0, host, port, done));
  }

  /**
   * Opens a channel to a Unix-domain socket on the server (OpenSSH `direct-streamlocal`, what
   * `ssh -L local:/remote.sock` uses) and emits it as a Duplex stream; unsubscribing closes it.
   *
   * @example
   * ```ts
   * connection.forwardOutUnix('/run/docker.sock').subscribe((stream) => stream.end('GET /_ping HTTP/1.0\r\n\r\n'));
   * ```
   */
  forwardOutUnix(socketPath: string): Observable<Duplex> {
    if (typeof socketPath !== 'string' || socketPath === '') throw new TypeError('forwardOutUnix() needs a socket path');
    return forwardChannel(this.#session, socketPath, (session, done) => session.client.openssh_forwardOutStreamLocal(socketPath, done));
  }

  /**
   * Local forwarding (`ssh -L`): listens on `bind` (default 127.0.0.1, port 0 = any free port;
   * or a Unix socket `path`) while subscribed and carries each accepted connection to
   * `remoteHost:remotePort` as seen from the server, or to the server's Unix socket
   * `remoteSocketPath`. Emits `listening` (with the bound port) and then one event per
   * connection; unsubscribing closes the listener and every forwarded connection. Bytes a client
   * sends before its channel is open are held, not lost.
   *
   * @example
   * ```ts
   * connection.forwardLocal({ remoteHost: 'localhost', remotePort: 5432, bind: { port: 15432 } })
   *   .subscribe((e) => e.type === 'listening' && console.log(`psql -p ${e.port}`));
   * connection.forwardLocal({ remoteSocketPath: '/run/docker.sock', bind: { path: '/tmp/docker.sock' } })
   *   .subscribe(); // DOCKER_HOST=unix:///tmp/docker.sock
   * ```
   */
  forwardLocal(config: LocalForwardConfig): Observable<ForwardEvent> {
    return forwardLocal(this.#forwardHost(), config);
  }

  /**
   * Dynamic forwarding (`ssh -D`): a SOCKS5 proxy on `bind` (default 127.0.0.1, port 0 = any free
   * port) while subscribed. Each CONNECT request becomes a channel to its destination as the
   * server resolves it (so `socks5h://` names resolve remotely); a refused or unreachable
   * destination gets the matching SOCKS reply. Emits `listening`, then one event per granted
   * request; unsubscribing closes the proxy and every connection through it. SOCKS5 without
   * authentication, CONNECT only (as OpenSSH's own `-D` offers for SOCKS5).
   *
   * @example
   * ```ts
   * connection.forwardDynamic({ bind: { port: 1080 } }).subscribe((e) => {
   *   if (e.type === 'connection') console.log(`→ ${e.destinationHost}:${e.destinationPort}`);
   * }); // curl --socks5-hostname 127.0.0.1:1080 http://intranet/
   * ```
   */
  forwardDynamic(config: DynamicForwardConfig = {}): Observable<DynamicForwardEvent> {
    return forwardDynamic(this.#forwardHost(), config);
  }

  /**
   * Remote forwarding (`ssh -R`): asks the server to listen on `bindHost:bindPort` (port 0 = the
   * server picks) while subscribed and emits `listening` (with the port), then each incoming
   * connection as a Duplex stream. Unsubscribing sends `cancel-tcpip-forward` and closes them;
   * a connection that arrives after that is refused rather than left waiting.
   *
   * @example
   * ```ts
   * connection.forwardRemote({ bindPort: 8080 }).subscribe((e) => {
   *   if (e.type === 'connection') e.stream.end('HTTP/1.0 200 OK\r\n\r\nhello');
   * });
   * ```
   */
  forwardRemote(config: RemoteForwardConfig = {}): Observable<RemoteForwardEvent> {
    return forwardRemote(this.#forwardHost(), config);
  }

  /**
   * Remote forwarding of a Unix socket (`ssh -R /path:…`, OpenSSH `streamlocal-forward`): the
   * server listens on `socketPath` while subscribed and each connection to it arrives here as a
   * Duplex stream. Needs sshd's `AllowStreamLocalForwarding` (on by default); an existing socket
   * file makes the server refuse unless its `StreamLocalBindUnlink` is on.
   *
   * @example
   * ```ts
   * connection.forwardRemoteUnix('/tmp/app.sock').subscribe((e) => {
   *   if (e.type === 'connection') e.stream.end('hello from the client side\n');
   * }); // on the server: nc -U /tmp/app.sock
   * ```
   */
  forwardRemoteUnix(socketPath: string): Observable<RemoteForwardEvent> {
    return forwardRemoteUnix(this.#forwardHost(), socketPath);
  }

  /** What the forwarding module needs of this connection. */
  #forwardHost(): ForwardHost {
    const session = this.#session;
    return {
      host: session.host,
      port: session.port,
      client: session.client,
      get closed() {
        return session.closed;
      },
      forwardOut: (host, port) => this.forwardOut(host, port),
      forwardOutUnix: (path) => this.forwardOutUnix(path),
    };
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
  run(command: string, config: RunConfig & { readonly encoding: 'buffer' }): Observable<ExecResult<Buffer>>;
  run(command: string, config?: RunConfig & { readonly encoding?: 'utf8' }): Observable<ExecResult>;
  run(command: string, config: RunConfig = {}): Observable<ExecResult<string | Buffer>> {
    return runOn((cmd, cfg) => this.exec(cmd, cfg), command, config, this);
  }
}
