/**
 * The byte stream under a connection: a TCP socket (reads in slabs, Nagle off), or a jump
 * host's `direct-tcpip` channel (ProxyJump); and the guard on what arrives before the server's
 * identification line.
 */
import { isIP, Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { Subscription, type Observable } from 'rxjs';
import { ConnectError, ConnectionLostError, ProtocolError } from '../errors.js';
import { slabReads } from './socket-reads.js';

/** A jump host as a connection uses it (a `Connection` fits): where it is, and a channel through it. */
export interface Hop {
  readonly host: string;
  readonly port: number;
  forwardOut(host: string, port: number): Observable<Duplex>;
}

/** Where to connect and what to tell on the way. */
export interface StreamPlan {
  readonly host: string;
  readonly port: number;
  readonly localAddress: string | undefined;
  /** Resolve to IPv4 (4) or IPv6 (6) only. */
  readonly family?: 4 | 6 | undefined;
  /** SO_KEEPALIVE on the socket (ssh's TCPKeepAlive; the kernel's timers decide when probes go). */
  readonly tcpKeepAlive: boolean;
  /** The name was resolved (the `dns` phase is over). */
  onLookup(): void;
  /** The stream is connected: the server's banner is next. */
  onConnected(): void;
}

/**
 * Opens a TCP socket to the plan's host (connecting: ssh2 may be given it at once). `detach`
 * removes the listeners added here.
 */
export function openSocket(plan: StreamPlan): { socket: Socket; detach: () => void } {
  // Reads land in slabs of the connection's own and reach ssh2 as ordinary 'data' events.
  // (Node's Socket constructor takes `onread` as net.connect() does; @types/node lists it for connect only.)
  const options: SocketConstructorOpts & { onread: OnReadOpts } = { onread: slabReads((chunk) => socket.emit('data', chunk)) };
  const socket = new Socket(options);
  const onLookup = (): void => plan.onLookup();
  const onConnect = (): void => {
    socket.setNoDelay(true); // ssh2 leaves Nagle on: ~40 ms per round trip against sshd
    if (plan.tcpKeepAlive) socket.setKeepAlive(true);
    plan.onConnected();
  };
  socket.once('lookup', onLookup);
  socket.once('connect', onConnect);
  const literal = isIP(plan.host);
  if (plan.family && literal && literal !== plan.family) {
    // Node would connect to an address of the other family as it is; ssh's getaddrinfo refuses it.
    const err = Object.assign(new Error(`${plan.host} is not an IPv${plan.family} address (AddressFamily)`), { code: 'EAI_ADDRFAMILY', hostname: plan.host });
    process.nextTick(() => socket.destroy(err));
  } else {
    socket.connect({ host: plan.host, port: plan.port, ...(plan.localAddress ? { localAddress: plan.localAddress } : {}), ...(plan.family ? { family: plan.family } : {}) });
  }
  return {
    socket,
    detach: () => {
      socket.off('lookup', onLookup);
      socket.off('connect', onConnect);
    },
  };
}

/** What a connection through a hop hears. */
export interface HopListener {
  /** The `direct-tcpip` channel to the target, through `hop`. */
  stream(stream: Duplex, hop: Hop): void;
  /** The hop failed (its own typed error), or the channel could not be opened (`ConnectError` naming the hop; a hostile hop's `ProtocolError` as it is). */
  error(error: unknown): void;
  /** The hop's connection ended (`hop`: the one the stream went through, if it was up). */
  closed(hop: Hop | undefined): void;
}

/**
 * Reaches the plan's host through the first hop `via` emits (ProxyJump). Unsubscribing lets go
 * of the channel, then of the hop.
 */
export function throughHop(via: Observable<Hop>, plan: StreamPlan, listener: HopListener): Subscription {
  let started = false;
  let streaming: Hop | undefined;
  let forward: Subscription | undefined;
  // The channel first, then the hop's connection.
  const both = new Subscription(() => {
    forward?.unsubscribe();
    hop$.unsubscribe();
  });
  const hop$ = via.subscribe({
    next: (hop) => {
      if (started) return;
      started = true;
      forward = hop.forwardOut(plan.host, plan.port).subscribe({
        next: (stream) => {
          streaming = hop;
          plan.onConnected();
          listener.stream(stream, hop);
        },
        error: (err: unknown) =>
          listener.error(
            err instanceof ProtocolError
              ? err
              : new ConnectError(`Cannot reach ${plan.host}:${plan.port} through jump host ${hop.host}:${hop.port}`, { host: plan.host, port: plan.port, phase: 'tcp', cause: err }),
          ),
      });
    },
    // A failure at the jump host before the target's stream is up is reported as it is (its
    // host and port name the hop); a hop lost under a running target is the target's loss.
    error: (err: unknown) =>
      listener.error(
        streaming
          ? new ConnectionLostError(`The connection to jump host ${streaming.host}:${streaming.port} was lost`, { host: plan.host, port: plan.port, phase: 'connection', cause: err })
          : err,
      ),
    complete: () => listener.closed(streaming),
  });
  return both;
}

const MAX_PRE_BANNER_LINES = 1024;
const MAX_BANNER_LINE = 8192;

/**
 * Watches the bytes before the server's identification line: ssh2 counts pre-banner lines and
 * line length per received chunk only, so a slow flood is never cut off and its buffer grows;
 * OpenSSH's limits (1,024 lines, 8 KiB a line) are enforced here across chunks. `onBanner` is
 * called at the `SSH-` line; `onFault` with a `ProtocolError` message. Returns the detach.
 */
export function guardBanner(stream: Duplex, onBanner: () => void, onFault: (message: string) => void): () => void {
  let lines = 0;
  let lineLen = 0;
  let lineStart = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (lineStart.length < 4) lineStart = Buffer.concat([lineStart, Buffer.from([byte])]);
      if (byte === 10) {
        if (lineStart.toString('latin1').startsWith('SSH-')) {
          stream.off('data', onData);
          return onBanner();
        }
        lineStart = Buffer.alloc(0);
        lineLen = 0;
        if (++lines > MAX_PRE_BANNER_LINES) return onFault('More than 1,024 lines before the SSH banner');
      } else if (++lineLen > MAX_BANNER_LINE) {
        return onFault('A line longer than 8 KiB before the end of the SSH banner');
      }
    }
  };
  stream.on('data', onData);
  return () => stream.off('data', onData);
}
