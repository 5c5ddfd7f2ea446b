/** What forwards take and emit: bind addresses, configs, listening and connection events. */
import { type Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import type { Ssh2Client as Client } from '../ssh2/index.js';
import { optionNames } from '../util/check.js';

/**
 * A local address to listen on: a TCP host and port, or a Unix socket path.
 *
 * @example
 * ```ts
 * connection.forwardLocal({ remoteHost: 'db', remotePort: 5432, bind: { host: '127.0.0.1', port: 15432 } });
 * connection.forwardDynamic({ bind: { path: '/tmp/socks.sock' } });
 * ```
 */
export interface BindAddress {
  /** The address (default 127.0.0.1); `'*'` listens on every interface, as ssh's `-L *:port:…`. */
  readonly host?: string;
  /** The port (default 0: any free port). */
  readonly port?: number;
  /** Listen on this Unix socket instead of TCP: mode 0600, only this user may connect (as ssh's); removed again when the forward ends. */
  readonly path?: string;
  /**
   * The umask the socket at `path` is made under (default 0o177: mode 0600), as ssh's
   * `StreamLocalBindMask`: 0o117 lets the owner's group connect too (0660).
   */
  readonly mask?: number;
  /**
   * Remove whatever is at `path` before listening (default false: an existing file fails the
   * forward with `EADDRINUSE`), as ssh's `StreamLocalBindUnlink yes`: for a socket a process
   * that ended left behind.
   */
  readonly unlink?: boolean;
}

/**
 * Options of {@link Connection.forwardLocal}: where to listen, and either a TCP destination
 * (`remoteHost` + `remotePort`) or a Unix socket on the server (`remoteSocketPath`).
 *
 * @example
 * ```ts
 * const config: LocalForwardConfig = { remoteHost: 'db.internal', remotePort: 5432, bind: { port: 15432 } };
 * connection.forwardLocal(config).subscribe();
 * ```
 */
export interface LocalForwardConfig {
  /** Where to listen (default 127.0.0.1, port 0 = any free port; or a Unix socket `path`). */
  readonly bind?: BindAddress;
  /** The destination host, as the server resolves it. */
  readonly remoteHost?: string;
  /** The destination port. */
  readonly remotePort?: number;
  /** The destination as a Unix socket on the server (OpenSSH `direct-streamlocal`). */
  readonly remoteSocketPath?: string;
}

/**
 * Options of {@link Connection.forwardRemote}.
 *
 * @example
 * ```ts
 * connection.forwardRemote({ bindHost: '127.0.0.1', bindPort: 8080 }).subscribe();
 * ```
 */
export interface RemoteForwardConfig {
  /** The address the server listens on (default 127.0.0.1; others need sshd `GatewayPorts`). */
  readonly bindHost?: string;
  /** The port (default 0: the server picks one). */
  readonly bindPort?: number;
}

/**
 * Options of {@link Connection.forwardDynamic}.
 *
 * @example
 * ```ts
 * connection.forwardDynamic({ bind: { port: 1080 }, allow: (host, port) => port === 443 }).subscribe();
 * ```
 */
export interface DynamicForwardConfig {
  /** Where the SOCKS5 proxy listens (default 127.0.0.1, port 0 = any free port). */
  readonly bind?: BindAddress;
  /**
   * Decides per request whether it may go through; a refused request gets SOCKS status 2
   * ("connection not allowed by ruleset"). Default: everything is allowed.
   */
  readonly allow?: (host: string, port: number) => boolean;
}

/**
 * A forward's listener is up.
 *
 * @example
 * ```ts
 * connection.forwardLocal({ remoteHost: 'localhost', remotePort: 80 }).pipe(
 *   filter((e): e is ForwardListening => e.type === 'listening'),
 * ).subscribe((e) => console.log(`curl http://127.0.0.1:${e.port}/`));
 * ```
 */
export interface ForwardListening {
  /** Discriminator. */
  readonly type: 'listening';
  /** The address listened on (`''` for a Unix socket). */
  readonly host: string;
  /** The port listened on (the one chosen, when 0 was asked for; 0 for a Unix socket). */
  readonly port: number;
  /** The Unix socket listened on, when the listener is one. */
  readonly path?: string;
}

/**
 * `forwardLocal` accepted a connection.
 *
 * @example
 * ```ts
 * connection.forwardLocal({ remoteHost: 'localhost', remotePort: 80 })
 *   .subscribe((e) => e.type === 'connection' && console.log(`from ${e.remoteAddress}:${e.remotePort}`));
 * ```
 */
export interface LocalForwardConnection {
  /** Discriminator. */
  readonly type: 'connection';
  /** The connecting client's address (`''` on a Unix socket). */
  readonly remoteAddress: string;
  /** The connecting client's port (0 on a Unix socket). */
  readonly remotePort: number;
}

/**
 * `forwardDynamic` granted a SOCKS request: the channel to its destination is open.
 *
 * @example
 * ```ts
 * connection.forwardDynamic().subscribe((e) => {
 *   if (e.type === 'connection') console.log(`${e.remoteAddress} → ${e.destinationHost}:${e.destinationPort}`);
 * });
 * ```
 */
export interface DynamicForwardConnection extends LocalForwardConnection {
  /** The destination asked for, as the server will resolve it. */
  readonly destinationHost: string;
  /** The destination port. */
  readonly destinationPort: number;
}

/**
 * A connection arrived at a remote forward.
 *
 * @example
 * ```ts
 * connection.forwardRemote({ bindPort: 8080 }).subscribe((e) => {
 *   if (e.type === 'connection') e.stream.end('HTTP/1.0 200 OK\r\n\r\nhello\n');
 * });
 * ```
 */
export interface RemoteForwardConnection {
  /** Discriminator. */
  readonly type: 'connection';
  /** The connection, as a Duplex stream. */
  readonly stream: Duplex;
  /** Where it came from, as the server saw it (`''` for a Unix socket). */
  readonly sourceAddress: string;
  /** Its source port (0 for a Unix socket). */
  readonly sourcePort: number;
}

/**
 * What `forwardLocal` emits: the listener is up, or a connection was accepted.
 *
 * @example
 * ```ts
 * connection.forwardLocal({ remoteHost: 'localhost', remotePort: 80 })
 *   .subscribe((e) => console.log(e.type === 'listening' ? `listening on ${e.port}` : `from ${e.remoteAddress}`));
 * ```
 */
export type ForwardEvent = ForwardListening | LocalForwardConnection;

/**
 * What `forwardDynamic` emits: the proxy listens, or a request was granted.
 *
 * @example
 * ```ts
 * connection.forwardDynamic().subscribe((e) => console.log(e.type === 'listening' ? `SOCKS on ${e.port}` : `to ${e.destinationHost}`));
 * ```
 */
export type DynamicForwardEvent = ForwardListening | DynamicForwardConnection;

/**
 * What `forwardRemote` emits: the server listens, or a connection arrived (as a stream).
 *
 * @example
 * ```ts
 * connection.forwardRemote({ bindPort: 0 })
 *   .subscribe((e) => console.log(e.type === 'listening' ? `server listens on ${e.port}` : `from ${e.sourceAddress}`));
 * ```
 */
export type RemoteForwardEvent = ForwardListening | RemoteForwardConnection;

/** What the forwarding code needs of a connection. @internal */
export interface ForwardHost {
  readonly host: string;
  readonly port: number;
  readonly client: Client;
  readonly closed: boolean;
  forwardOut(host: string, port: number): Observable<Duplex>;
  forwardOutUnix(path: string): Observable<Duplex>;
}

/** The names each forward config takes. @internal */
export const FORWARD_NAMES = {
  local: optionNames<LocalForwardConfig>()(['bind', 'remoteHost', 'remotePort', 'remoteSocketPath']),
  remote: optionNames<RemoteForwardConfig>()(['bindHost', 'bindPort']),
  dynamic: optionNames<DynamicForwardConfig>()(['bind', 'allow']),
  bind: optionNames<BindAddress>()(['host', 'port', 'path', 'mask', 'unlink']),
};
