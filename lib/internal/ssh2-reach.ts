/**
 * The one place where rxssh reaches inside ssh2 past its public API. Each reach-in is
 * pinned by spec/internal/ssh2-reach.spec.ts, which breaks if ssh2 changes the shape used.
 */
import type { ClientChannel } from 'ssh2';

// `any` is allowed in this file only (see eslint.config.js): ssh2's internals are untyped.

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
 * Makes an ssh2 *server* session keep honouring channel requests (such as `signal`) after the
 * client's EOF, as OpenSSH does and RFC 4254 allows. ssh2 sets `_ending` on EOF and then
 * ignores every request; the in-process test server clears it again so that it behaves like
 * sshd for cancel-after-EOF. `_ending` is set again on CHANNEL_CLOSE.
 */
export function allowRequestsAfterEof(session: object): void {
  const s = session as any;
  if (typeof s._ending !== 'boolean' || typeof s.on !== 'function') return;
  s.on('eof', () => {
    s._ending = false;
  });
}

/** Whether the server has ended its side of the channel (sent EOF or CLOSE). */
export function serverEnded(channel: ClientChannel): boolean {
  const state: unknown = (channel as any).incoming?.state;
  return state === 'eof' || state === 'closed';
}
