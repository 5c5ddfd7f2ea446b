/**
 * Port forwarding: local (`ssh -L`), remote (`ssh -R`), dynamic SOCKS5 (`ssh -D`) and OpenSSH's
 * Unix-socket forwarding both ways. Each forward is an Observable whose subscription is the
 * forward's lifetime: a listener (local or on the server) held while subscribed and torn down,
 * with every connection it carried, on unsubscribe. Reached through {@link Connection}'s
 * `forwardLocal`, `forwardRemote`, `forwardRemoteUnix` and `forwardDynamic`.
 *
 * @module
 */
import { createServer, type Socket } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { noop, defer, from, Observable, switchMap, type Subscriber, type Subscription } from 'rxjs';
import type { Ssh2Client as Client, ClientChannel } from '../ssh2/index.js';
import { ChannelOpenError, ConnectError, type SshError } from '../errors.js';
import { connectionClosed } from '../ssh2/errors-map.js';

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
  /** The address (default 127.0.0.1). */
  readonly host?: string;
  /** The port (default 0: any free port). */
  readonly port?: number;
  /** Listen on this Unix socket instead of TCP (removed again when the forward ends). */
  readonly path?: string;
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

/**
 * Joins a local socket and a channel both ways. Data the socket sent before the channel opened
 * is held (with backpressure) rather than lost; each side's EOF is passed on as the other's (a
 * half-close goes through both ways); a channel that closes ends the socket after its last byte
 * is written, a socket that closes destroys the channel.
 */
function splice(socket: Socket, open: Observable<Duplex>, opened: (stream: Duplex) => void, failed: (err: SshError) => void): Subscription {
  const early = new PassThrough();
  socket.pipe(early);
  const sub = open.subscribe({
    next: (stream) => {
      opened(stream);
      early.pipe(stream);
      stream.pipe(socket);
      stream.on('close', () => socket.end());
    },
    error: (err: SshError) => failed(err),
  });
  socket.on('close', () => {
    sub.unsubscribe();
    early.destroy();
  });
  return sub;
}

/** Holds a local listener while subscribed; `carry` takes each accepted socket. */
function listenLocally<E>(
  where: { host: string; port: number },
  bind: BindAddress | undefined,
  carry: (socket: Socket, subscriber: Subscriber<ForwardListening | E>) => void,
): Observable<ForwardListening | E> {
  const path = bind?.path;
  const bindHost = bind?.host ?? '127.0.0.1';
  const bindPort = bind?.port ?? 0;
  return new Observable<ForwardListening | E>((subscriber) => {
    const sockets = new Set<Socket>();
    // allowHalfOpen: a client that half-closes (shutdown(SHUT_WR)) still gets everything the
    // remote side sends until it ends too, as with `ssh -L`; its EOF goes on as the channel's EOF.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.on('error', noop);
      socket.on('close', () => sockets.delete(socket));
      carry(socket, subscriber);
    });
    const label = path ?? `${bindHost}:${bindPort}`;
    server.on('error', (err) => subscriber.error(new ConnectError(`Cannot listen on ${label}`, { ...where, phase: 'forward', cause: err })));
    const listening = (): void => {
      const address = server.address();
      subscriber.next(
        path !== undefined
          ? { type: 'listening', host: '', port: 0, path }
          : { type: 'listening', host: bindHost, port: typeof address === 'object' && address ? address.port : bindPort },
      );
    };
    if (path !== undefined) server.listen(path, listening);
    else server.listen(bindPort, bindHost, listening);
    return () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    };
  });
}

/** `Connection.forwardLocal`. @internal */
export function forwardLocal(host: ForwardHost, config: LocalForwardConfig): Observable<ForwardEvent> {
  const { remoteHost, remotePort, remoteSocketPath } = config;
  const byPath = typeof remoteSocketPath === 'string' && remoteSocketPath !== '';
  if (!byPath && (typeof remoteHost !== 'string' || !Number.isInteger(remotePort))) {
    throw new TypeError('forwardLocal() needs remoteHost and remotePort, or remoteSocketPath');
  }
  const open = (): Observable<Duplex> => (byPath ? host.forwardOutUnix(remoteSocketPath) : host.forwardOut(remoteHost as string, remotePort as number));
  return listenLocally<LocalForwardConnection>(host, config.bind, (socket, subscriber) => {
    subscriber.next({ type: 'connection', remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 });
    splice(socket, open(), noop, () => socket.destroy());
  });
}

/** The SOCKS5 reply for a channel that could not be opened (RFC 1928 §6). */
function socksStatusOf(err: SshError): 'CONNECTION_NOT_ALLOWED' | 'CONNECTION_REFUSED' | 'HOST_UNREACHABLE' | 'GENERAL_FAILURE' {
  if (!(err instanceof ChannelOpenError)) return 'GENERAL_FAILURE';
  if (err.reason === 1) return 'CONNECTION_NOT_ALLOWED'; // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
  if (err.reason === 2) return /refused/i.test(err.message) ? 'CONNECTION_REFUSED' : 'HOST_UNREACHABLE'; // SSH_OPEN_CONNECT_FAILED
  return 'GENERAL_FAILURE';
}

/** `Connection.forwardDynamic`. @internal */
export function forwardDynamic(host: ForwardHost, config: DynamicForwardConfig = {}): Observable<DynamicForwardEvent> {
  const allow = config.allow;
  // The SOCKS server is loaded on first use: a library user who never forwards dynamically
  // never loads it.
  return defer(() => from(import('@pondwader/socks5-server'))).pipe(
    switchMap(({ Socks5Server }) =>
      listenLocally<DynamicForwardConnection>(host, config.bind, (socket, subscriber) => {
        const socks = new Socks5Server();
        if (allow) {
          socks.setRulesetValidator((request) => {
            try {
              return allow(request.destAddress, request.destPort) === true;
            } catch {
              return false; // a throwing rule denies; it never escapes into the proxy's promise chain
            }
          });
        }
        socks.setConnectionHandler((request, sendStatus) => {
          if (request.command !== 'connect') {
            sendStatus('COMMAND_NOT_SUPPORTED');
            return;
          }
          const { destAddress, destPort } = request;
          splice(
            socket,
            host.forwardOut(destAddress, destPort),
            () => {
              sendStatus('REQUEST_GRANTED');
              subscriber.next({
                type: 'connection',
                remoteAddress: socket.remoteAddress ?? '',
                remotePort: socket.remotePort ?? 0,
                destinationHost: destAddress,
                destinationPort: destPort,
              });
            },
            (err) => sendStatus(socksStatusOf(err)),
          );
        });
        socks._handleConnection(socket);
      }),
    ),
  );
}

type Incoming = (stream: () => ClientChannel, sourceAddress: string, sourcePort: number) => void;

/** Per ssh2 Client: who takes the connections arriving at each remote forward. */
const routes = new WeakMap<Client, Map<string, Incoming>>();

/**
 * Routes incoming forwarded channels to the forward that asked for them. One listener per
 * client, so a connection that arrives for a forward already torn down is rejected at once
 * instead of left unanswered (ssh2 reserves the channel before it emits).
 */
function routeFor(client: Client): Map<string, Incoming> {
  let table = routes.get(client);
  if (table === undefined) {
    const map = new Map<string, Incoming>();
    table = map;
    routes.set(client, map);
    client.on('tcp connection', (details, accept, reject) => {
      const take = map.get(`tcp:${details.destIP}:${details.destPort}`);
      if (take) take(accept, details.srcIP, details.srcPort);
      else reject();
    });
    client.on('unix connection', (details, accept, reject) => {
      const take = map.get(`unix:${details.socketPath}`);
      if (take) take(() => accept() as ClientChannel, '', 0); // typed as a plain Channel; it is a client one
      else reject();
    });
  }
  return table;
}

/** A server-side listener held while subscribed (`tcpip-forward` or its streamlocal twin). */
function listenRemotely(
  host: ForwardHost,
  label: string,
  listen: (done: (err: Error | null | undefined, port?: number) => void) => void,
  listening: (port: number | undefined) => { key: string; event: ForwardListening },
  unlisten: (event: ForwardListening) => void,
): Observable<RemoteForwardEvent> {
  const where = { host: host.host, port: host.port, phase: 'forward' as const };
  return new Observable<RemoteForwardEvent>((subscriber) => {
    const streams = new Set<ClientChannel>();
    let bound: { key: string; event: ForwardListening } | undefined;
    let done = false;
    if (host.closed) {
      subscriber.error(connectionClosed(where));
      return undefined;
    }
    const table = routeFor(host.client);
    try {
      listen((err, port) => {
        if (done) {
          // Unsubscribed while the request was in flight: the server listens now; cancel it.
          if (!err && !host.closed) {
            try {
              unlisten(listening(port).event);
            } catch {
              // the connection went away meanwhile
            }
          }
          return;
        }
        if (err) {
          subscriber.error(new ChannelOpenError(`The server refused to listen on ${label}: ${err.message}`, undefined, { ...where, cause: err }));
          return;
        }
        bound = listening(port);
        table.set(bound.key, (accept, sourceAddress, sourcePort) => {
          const stream = accept();
          stream.on('error', noop);
          streams.add(stream);
          stream.on('close', () => streams.delete(stream));
          subscriber.next({ type: 'connection', stream, sourceAddress, sourcePort });
        });
        subscriber.next(bound.event);
      });
    } catch (err) {
      subscriber.error(connectionClosed({ ...where, cause: err }));
    }
    return () => {
      done = true;
      for (const s of streams) s.destroy();
      if (bound === undefined) return;
      table.delete(bound.key);
      if (host.closed) return;
      try {
        unlisten(bound.event);
      } catch {
        // the connection went away meanwhile
      }
    };
  });
}

/** `Connection.forwardRemote`. @internal */
export function forwardRemote(host: ForwardHost, config: RemoteForwardConfig = {}): Observable<RemoteForwardEvent> {
  const bindHost = config.bindHost ?? '127.0.0.1';
  const bindPort = config.bindPort ?? 0;
  return listenRemotely(
    host,
    `${bindHost}:${bindPort}`,
    (done) => host.client.forwardIn(bindHost, bindPort, done),
    (port) => {
      const chosen = bindPort === 0 ? (port ?? 0) : bindPort;
      return { key: `tcp:${bindHost}:${chosen}`, event: { type: 'listening', host: bindHost, port: chosen } };
    },
    (event) => host.client.unforwardIn(event.host, event.port, noop),
  );
}

/** `Connection.forwardRemoteUnix`. @internal */
export function forwardRemoteUnix(host: ForwardHost, socketPath: string): Observable<RemoteForwardEvent> {
  if (typeof socketPath !== 'string' || socketPath === '') throw new TypeError('forwardRemoteUnix() needs a socket path');
  return listenRemotely(
    host,
    socketPath,
    (done) => host.client.openssh_forwardInStreamLocal(socketPath, done),
    () => ({ key: `unix:${socketPath}`, event: { type: 'listening', host: '', port: 0, path: socketPath } }),
    () => host.client.openssh_unforwardInStreamLocal(socketPath, noop),
  );
}
