/**
 * A connection for async/await code: `openConnection()` resolves with a handle that keeps the
 * connection open until it is closed or disposed (`await using`), with one-line calls for the
 * everyday jobs. The reactive stages stay underneath: `handle.connection` is the Connection.
 *
 * @module
 */
import { from, isObservable, lastValueFrom, switchMap, type Observable, type Subscription } from 'rxjs';
import { ConnectionLostError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { ExecResult, RunConfig } from '../channel/run.js';
import { userInfo } from 'node:os';
import { agent, authenticate, password, privateKey, type AuthProvider } from '../auth/auth.js';
import { connect } from '../transport/connect.js';
import { parseHostSpec } from '../config/target.js';
import { verifyHostKey } from '../transport/host-key.js';
import { knownKeyTypesOf } from '../transport/known-types.js';
import { knownHosts } from '../transport/known-hosts.js';
import { fromSshConfig } from '../config/ssh-config.js';
import { credentialsFor } from '../config/credentials.js';
import { connectAlias, type ConnectAliasConfig } from '../config/connect-alias.js';
import type { SftpSession } from '../sftp/sftp.js';
import { remotePath, uploadPath } from '../sftp/paths.js';
import type { TransferConfig } from '../sftp/types.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * An open connection for async code. It stays open until {@link ConnectionHandle.close} (or
 * `await using` disposes it); the connection ending by itself settles {@link ConnectionHandle.closed}.
 *
 * @example
 * ```ts
 * import { openConnection } from 'rxssh';
 *
 * await using ssh = await openConnection('web1');
 * const { stdout } = await ssh.run('uptime');
 * await ssh.putFile('./app.tgz', '/srv/app.tgz');
 * ```
 */
export class ConnectionHandle implements AsyncDisposable {
  readonly #stop: () => void;
  readonly #ended: Promise<void>;

  private constructor(
    /** The reactive connection: exec, shell, sftp, forwarding, as in a pipeline. */
    readonly connection: Connection,
    stop: () => void,
    ended: Promise<void>,
  ) {
    this.#stop = stop;
    this.#ended = ended;
  }

  /** @internal */
  static create(connection: Connection, stop: () => void, ended: Promise<void>): ConnectionHandle {
    return new ConnectionHandle(connection, stop, ended);
  }

  /** Settles when the connection has ended: resolves after a close, rejects with the error that ended it otherwise. */
  get closed(): Promise<void> {
    return this.#ended;
  }

  /**
   * Runs a command to completion; resolves with its output and exit status (a non-zero exit
   * is a result unless `check` is set).
   *
   * @example
   * ```ts
   * const r = await ssh.run('cat > notes.txt && wc -c notes.txt', { cwd: '/tmp', stdin: 'hello\n' });
   * console.log(r.exitCode, r.stdout); // 0 '6 notes.txt\n'
   * const png = await ssh.run('cat logo.png', { encoding: 'buffer' }); // png.stdout is a Buffer
   * ```
   */
  async run(command: string, config: RunConfig & { readonly encoding: 'buffer' }): Promise<ExecResult<Buffer>>;
  async run(command: string, config?: RunConfig & { readonly encoding?: 'utf8' }): Promise<ExecResult>;
  async run(command: string, config: RunConfig = {}): Promise<ExecResult<string | Buffer>> {
    return lastValueFrom(this.connection.run(command, config as RunConfig & { readonly encoding?: 'utf8' }) as Observable<ExecResult<string | Buffer>>);
  }

  /**
   * Uploads a local file (pipelined, hash-exact).
   *
   * @example
   * ```ts
   * await ssh.putFile('./build.tgz', '/srv/build.tgz');
   * ```
   */
  async putFile(local: string, remote: string, config: TransferConfig = {}): Promise<void> {
    // As scp: `~` is the remote home, an existing directory receives the file under its name.
    await lastValueFrom(
      this.connection.withSftp((sftp) => from(uploadPath(sftp, local, remote)).pipe(switchMap((path) => sftp.upload(local, path, config)))),
      { defaultValue: undefined },
    );
  }

  /**
   * Downloads a remote file (pipelined, hash-exact; an existing local file is replaced only on success).
   *
   * @example
   * ```ts
   * await ssh.getFile('/var/log/syslog', './syslog');
   * ```
   */
  async getFile(remote: string, local: string, config: TransferConfig = {}): Promise<void> {
    await lastValueFrom(
      this.connection.withSftp((sftp) => from(remotePath(sftp, remote)).pipe(switchMap((path) => sftp.download(path, local, config)))),
      { defaultValue: undefined },
    );
  }

  /**
   * Runs `work` with an SFTP session, closed when the promise settles.
   *
   * @example
   * ```ts
   * const names = await ssh.sftp(async (sftp) => (await lastValueFrom(sftp.readdir('/etc').pipe(toArray()))).map((e) => e.name));
   * ```
   */
  async sftp<T>(work: (sftp: SftpSession) => Promise<T>): Promise<T> {
    return lastValueFrom(this.connection.withSftp((sftp) => work(sftp)));
  }

  /**
   * Closes the connection (every channel on it ends) and waits until it has ended.
   *
   * @example
   * ```ts
   * const ssh = await openConnection('web1');
   * try {
   *   await ssh.run('true');
   * } finally {
   *   await ssh.close();
   * }
   * ```
   */
  async close(): Promise<void> {
    this.#stop();
    await this.#ended.catch(() => undefined);
  }

  /** `await using` calls {@link ConnectionHandle.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A host as a plain object, the shape node-ssh users know: the host key is still checked
 * against known_hosts (`knownHosts` files, default `~/.ssh/known_hosts` and
 * `/etc/ssh/ssh_known_hosts`); unknown hosts fail closed.
 *
 * @example
 * ```ts
 * const target: OpenConnectionTarget = { host: '10.0.0.5', port: 2222, username: 'ops', privateKey: readFileSync('/home/ops/.ssh/id_ed25519') };
 * ```
 */
export interface OpenConnectionTarget {
  /** The host name or address. */
  readonly host: string;
  /** The port (default 22). */
  readonly port?: number;
  /** Default: the local user's name. */
  readonly username?: string;
  /** A password to offer. */
  readonly password?: string;
  /** A private key (PEM or OpenSSH text, or its bytes). */
  readonly privateKey?: string | Uint8Array;
  /** The private key's passphrase. */
  readonly passphrase?: string;
  /** Use the agent: `true` for `SSH_AUTH_SOCK`, or its socket path; `false`: never (also not as the default). */
  readonly agent?: boolean | string;
  /** known_hosts files to verify the host key with. */
  readonly knownHosts?: readonly string[];
}

const OPEN_TARGET_NAMES = optionNames<OpenConnectionTarget>()(['host', 'port', 'username', 'password', 'privateKey', 'passphrase', 'agent', 'knownHosts']);

/** `user@host:port`, `host`, an alias, or `ssh://user@host:port`: through ssh_config, as `ssh` would. */
function fromSpec(spec: string, options: ConnectAliasConfig): Observable<Connection> {
  if (spec.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new TypeError(`openConnection(): not an ssh:// URL: ${JSON.stringify(spec)}`);
    }
    if (url.password || (url.pathname !== '' && url.pathname !== '/')) throw new TypeError('openConnection(): an ssh:// URL takes [user@]host[:port] only (no password, no path)');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return connectAlias(host, { ...options, ...(url.username ? { user: decodeURIComponent(url.username) } : {}), ...(url.port ? { port: Number(url.port) } : {}) });
  }
  const t = parseHostSpec(spec);
  return connectAlias(t.host, { ...options, ...(t.username ? { user: t.username } : {}), ...(t.port ? { port: t.port } : {}) });
}

/** A plain object: connect, verify against known_hosts, authenticate with what it gives (else the agent and default keys). */
function fromObject(target: OpenConnectionTarget): Observable<Connection> {
  if (typeof target !== 'object' || target === null || typeof target.host !== 'string' || target.host === '') throw new TypeError('openConnection() needs a host alias, a [user@]host[:port], or { host, ... }');
  checkOptions('openConnection()', target, OPEN_TARGET_NAMES, { privateKeyPath: 'give the key itself: privateKey: readFileSync(path)' });
  const policy = knownHosts(target.knownHosts ? { files: [...target.knownHosts] } : {});
  const providers: AuthProvider[] = [];
  if (target.agent) providers.push(agent(typeof target.agent === 'string' ? target.agent : undefined));
  if (target.privateKey !== undefined) providers.push(privateKey(Buffer.from(target.privateKey), target.passphrase !== undefined ? { passphrase: target.passphrase } : {}));
  if (target.password !== undefined) providers.push(password(target.password));
  // Nothing given: the agent (unless `agent: false`) and the default keys, as ssh would.
  const credentials = providers.length > 0 ? providers : credentialsFor(fromSshConfig(target.host, { file: null, systemFile: null }), target.agent === false ? { agentSocket: null } : {});
  const lookup = knownKeyTypesOf(policy);
  return connect({
    host: target.host,
    ...(target.port !== undefined ? { port: target.port } : {}),
    username: target.username ?? userInfo().username,
    ...(lookup ? { preferredHostKeyTypes: lookup } : {}),
  }).pipe(verifyHostKey(policy), authenticate(...credentials));
}

/**
 * Opens a connection for async code and keeps it open until the handle is closed or disposed.
 * Give a host alias, `[user@]host[:port]` or `ssh://[user@]host[:port]` (resolved like `ssh`
 * does: `~/.ssh/config`, known_hosts, the agent and the default keys — see
 * {@link connectAlias}), a plain {@link OpenConnectionTarget} (`{ host, port, username,
 * password | privateKey | agent }`, the host key still checked against known_hosts), or any
 * `Observable<Connection>` pipeline (your own `connect → verifyHostKey → authenticate`). Rejects
 * with the typed error the connection failed with.
 *
 * @example
 * ```ts
 * import { openConnection, connect, verifyHostKey, pinned, authenticate, privateKey } from 'rxssh';
 *
 * await using web = await openConnection('web1');
 * console.log((await web.run('uptime', { timeout: 10_000 })).stdout);
 *
 * await using box = await openConnection('deploy@10.0.0.7:2222');
 * await using other = await openConnection({ host: '10.0.0.8', username: 'ops', privateKey: pem });
 *
 * await using db = await openConnection(
 *   connect({ host: '10.0.0.5', username: 'ops' }).pipe(verifyHostKey(pinned('SHA256:…')), authenticate(privateKey(pem))),
 * );
 * ```
 */
export function openConnection(target: string | OpenConnectionTarget | Observable<Connection>, options: ConnectAliasConfig = {}): Promise<ConnectionHandle> {
  if (typeof target !== 'string' && Object.values(options ?? {}).some((value) => value !== undefined)) {
    throw new TypeError(`openConnection(): options (${Object.keys(options).join(', ')}) apply to a host alias or [user@]host[:port]; ${isObservable(target) ? 'an Observable brings its own connection' : 'give { host, ... } what it takes, or connect() for more'}`);
  }
  const source = isObservable(target) ? target : typeof target === 'string' ? fromSpec(target, options) : fromObject(target);
  return new Promise<ConnectionHandle>((resolve, reject) => {
    let handle: ConnectionHandle | undefined;
    let settleEnded: { resolve: () => void; reject: (err: unknown) => void } | undefined;
    const ended = new Promise<void>((res, rej) => (settleEnded = { resolve: res, reject: rej }));
    ended.catch(() => undefined); // observed through `closed`, never unhandled
    const held: { subscription?: Subscription; stopped?: boolean } = {};
    const stop = (): void => {
      held.stopped = true;
      held.subscription?.unsubscribe();
      settleEnded?.resolve();
    };
    const subscription = source.subscribe({
      next: (connection) => {
        if (handle) return;
        handle = ConnectionHandle.create(connection, stop, ended);
        connection.channel$.subscribe({ complete: () => settleEnded?.resolve(), error: (err: unknown) => settleEnded?.reject(err) });
        resolve(handle);
      },
      error: (err: unknown) => {
        if (handle) settleEnded?.reject(err);
        else reject(err);
      },
      complete: () => {
        settleEnded?.resolve();
        if (!handle) reject(new ConnectionLostError('The connection ended before it was established', { host: '', port: 0, phase: 'connection' }));
      },
    });
    held.subscription = subscription;
    if (held.stopped) subscription.unsubscribe();
  });
}
