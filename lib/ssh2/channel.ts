/**
 * Reach-ins on one channel: signals after EOF, the peer's packet size, and the close that
 * waits for the server's CLOSE.
 */
import type { ClientChannel } from 'ssh2';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/**
 * Whether a live client can send signals the way {@link sendSignal} does (its protocol object
 * has `signal()`): checked at connect, so that a cancel can never silently stop signalling the
 * remote process.
 */
export function signalsReachable(client: object): boolean {
  return typeof (client as any)._protocol?.signal === 'function';
}

/**
 * Sends an SSH "signal" channel request.
 *
 * ssh2's public `Channel.signal()` silently does nothing once EOF was sent (it checks
 * `writable` and `outgoing.state === 'open'`), although RFC 4254 §6.9 allows a signal at any
 * time before the channel is closed, and OpenSSH (≥ 7.9) honours it. After `complete()` the
 * remote process must still be stoppable, so this calls the protocol layer directly while our
 * side of the channel is `open` or `eof`.
 *
 * @returns true when the request was sent.
 */
export function sendSignal(channel: ClientChannel, signal: string): boolean {
  const chan = channel as any;
  const state: unknown = chan.outgoing?.state;
  if (state !== 'open' && state !== 'eof') return false;
  const protocol = chan._client?._protocol;
  if (typeof protocol?.signal !== 'function') return false;
  try {
    protocol.signal(chan.outgoing.id, signal);
    return true;
  } catch {
    return false;
  }
}

/** The peer's maximum packet size for the channel (0 is hostile: ssh2 would spin, ssh2#1504). */
export function outgoingPacketSize(channel: ClientChannel): number | undefined {
  const size: unknown = (channel as any).outgoing?.packetSize;
  return typeof size === 'number' ? size : undefined;
}

/**
 * Keeps a session channel open until the server closes it (or rxssh closes it on purpose).
 * Node's streams destroy a Duplex once both sides ended (`autoDestroy`), and ssh2's `destroy()`
 * sends CHANNEL_CLOSE: after our EOF and the server's EOF, that CLOSE went out before the
 * server's `exit-status`. Servers that send EOF first and the status later (Twisted Conch) then
 * drop the status, and the destroy's own 'close' event ended the run without one — a command
 * that exited 0 reported as failed. OpenSSH's `ssh` waits for the server's CLOSE too.
 *
 * @returns false when the stream's state is not shaped as expected (nothing was changed).
 */
export function closeOnlyWhenServerCloses(channel: ClientChannel): boolean {
  const states = [(channel as any)._readableState, (channel as any)._writableState, (channel.stderr as any)?._readableState];
  if (!states.every((state) => typeof state === 'object' && state !== null && typeof state.autoDestroy === 'boolean')) return false;
  for (const state of states) state.autoDestroy = false;
  return true;
}

/** Whether the server has ended its side of the channel (sent EOF or CLOSE). */
export function serverEnded(channel: ClientChannel): boolean {
  const state: unknown = (channel as any).incoming?.state;
  return state === 'eof' || state === 'closed';
}
