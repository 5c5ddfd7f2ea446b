/**
 * Forwards that listen on this machine: local (`ssh -L`, TCP or a Unix socket) and dynamic
 * SOCKS5 (`ssh -D`); each accepted socket is spliced to a channel the server opens onward. A
 * Unix socket listener is made under ssh's `StreamLocalBindMask` (0177 unless the bind address
 * says otherwise: only this user may connect to it; Node's own listen leaves it as the umask has
 * it, 0775 under umask 002), and replaces a stale file only when asked (`StreamLocalBindUnlink`).
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { PassThrough, type Duplex } from 'node:stream';
import { noop, defer, from, Observable, switchMap, type Subscriber, type Subscription } from 'rxjs';
import { ChannelOpenError, ConnectError, type SshError } from '../errors.js';
import { checkNumber, checkOptions } from '../util/check.js';
import { FORWARD_NAMES, type BindAddress, type LocalForwardConfig, type DynamicForwardConfig, type ForwardListening, type LocalForwardConnection, type DynamicForwardConnection, type ForwardEvent, type DynamicForwardEvent, type ForwardHost } from './types.js';

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

/** The umask a Unix socket listener is bound under unless told otherwise: ssh's `StreamLocalBindMask` default. */
const SOCKET_MASK = 0o177;

/** How a Unix socket listener is made: under which umask, and whether a file already there is removed first. */
export interface SocketBind {
  readonly mask: number;
  readonly unlink: boolean;
}

/**
 * Binds `server` to the socket `path` so that only whom `mask` lets in can connect: under that
 * umask (the bind is synchronous, so the process umask is back before any more JavaScript runs;
 * a file libuv's threads create in that instant gets the narrower mode too, never a wider one),
 * or, in a worker thread whose umask cannot change, narrowed by chmod before `listening` is
 * called (a connection in between is possible there, under the umask's mode). With `unlink`,
 * whatever is at `path` is removed first, as ssh's `StreamLocalBindUnlink`. @internal
 */
export function listenOnSocket(server: Server, path: string, how: SocketBind, listening: () => void, failed: (doing: string, err: Error) => void): void {
  if (how.unlink) {
    try {
      rmSync(path, { force: true }); // not a directory: rm fails on one, as unlink(2) does for ssh
    } catch (err) {
      failed('remove what is at', err as Error);
      return;
    }
  }
  if (isMainThread) {
    const before = process.umask(how.mask);
    try {
      server.listen(path, listening);
    } finally {
      process.umask(before);
    }
    return;
  }
  server.listen(path, () => {
    try {
      chmodSync(path, 0o777 & ~how.mask);
    } catch (err) {
      failed('set the mode of', err as Error);
      return;
    }
    listening();
  });
}

/** The socket options of a bind address, checked (a mask outside 0-0o777 is a RangeError at call time). */
function socketBindOf(what: string, bind: BindAddress | undefined): SocketBind {
  checkOptions(`${what}: bind`, bind, FORWARD_NAMES.bind);
  const mask = bind?.mask === undefined ? SOCKET_MASK : checkNumber(`${what}: bind.mask`, bind.mask, UMASK);
  if (bind?.unlink !== undefined && typeof bind.unlink !== 'boolean') throw new TypeError(`${what}: bind.unlink must be a boolean, got ${String(bind.unlink)}`);
  return { mask, unlink: bind?.unlink === true };
}

const UMASK = { min: 0, max: 0o777, integer: true, expected: 'a umask 0-0o777' } as const;

/** Holds a local listener while subscribed; `carry` takes each accepted socket. */
function listenLocally<E>(
  where: { host: string; port: number },
  bind: BindAddress | undefined,
  socketBind: SocketBind,
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
    if (path !== undefined) listenOnSocket(server, path, socketBind, listening, (doing, err) => subscriber.error(new ConnectError(`Cannot ${doing} ${path}`, { ...where, phase: 'forward', cause: err })));
    else if (bindHost === '*') server.listen(bindPort, listening); // every interface (IPv6 and IPv4 where both are)
    else server.listen(bindPort, bindHost, listening);
    return () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    };
  });
}

/** `Connection.forwardLocal`. @internal */
export function forwardLocal(host: ForwardHost, config: LocalForwardConfig): Observable<ForwardEvent> {
  checkOptions('forwardLocal()', config, FORWARD_NAMES.local);
  const { remoteHost, remotePort, remoteSocketPath } = config;
  const byPath = typeof remoteSocketPath === 'string' && remoteSocketPath !== '';
  if (!byPath && (typeof remoteHost !== 'string' || !Number.isInteger(remotePort))) {
    throw new TypeError('forwardLocal() needs remoteHost and remotePort, or remoteSocketPath');
  }
  const open = (): Observable<Duplex> => (byPath ? host.forwardOutUnix(remoteSocketPath) : host.forwardOut(remoteHost as string, remotePort as number));
  return listenLocally<LocalForwardConnection>(host, config.bind, socketBindOf('forwardLocal()', config.bind), (socket, subscriber) => {
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
  checkOptions('forwardDynamic()', config, FORWARD_NAMES.dynamic);
  const allow = config.allow;
  const socketBind = socketBindOf('forwardDynamic()', config.bind);
  // The SOCKS server is loaded on first use: a library user who never forwards dynamically
  // never loads it.
  return defer(() => from(import('@pondwader/socks5-server'))).pipe(
    switchMap(({ Socks5Server }) =>
      listenLocally<DynamicForwardConnection>(host, config.bind, socketBind, (socket, subscriber) => {
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
