/**
 * Forwards that listen on the server (`ssh -R`, TCP or a Unix socket): the server's
 * `forwarded-tcpip` channels are routed to the forward that asked for them.
 */
import { noop, Observable } from 'rxjs';
import type { Ssh2Client as Client, ClientChannel } from '../ssh2/index.js';
import { ChannelOpenError } from '../errors.js';
import { connectionClosed } from '../ssh2/errors-map.js';
import { FORWARD_NAMES, type RemoteForwardConfig, type ForwardListening, type RemoteForwardEvent, type ForwardHost } from './types.js';
import { checkOptions } from '../util/check.js';

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
  checkOptions('forwardRemote()', config, FORWARD_NAMES.remote);
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
