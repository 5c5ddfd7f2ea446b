/**
 * Reach-ins at the connection layer: ssh2's message handlers for channel opens and channel
 * data, wrapped to refuse hostile packet sizes and to police windows and EOF (ssh2#1504, #1505).
 */
import { once, ssh2Function } from './lazy.js';
import type { ClientChannel } from 'ssh2';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/**
 * Polices what the server sends on a channel, which ssh2 does not: data larger than the
 * channel's remaining receive window (ssh2#1505: ssh2 drops data that arrives when the window is
 * exactly 0 and otherwise lets the window go negative and buffers without limit), and data after
 * the server's own EOF (RFC 4254 §5.3; ssh2 drops it silently). Wraps ssh2's CHANNEL_DATA /
 * CHANNEL_EXTENDED_DATA handlers (they live on the client's protocol object once `connect()`
 * ran): such data is not passed on and `onViolation` gets the channel and what was wrong.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was wrapped).
 */
export function policeChannels(client: object, onViolation: (channel: ClientChannel, what: string) => void): boolean {
  const c = client as any;
  const handlers = c._protocol?._handlers;
  const channels = c._chanMgr;
  if (!handlers || typeof channels?.get !== 'function') return false;
  for (const name of ['CHANNEL_DATA', 'CHANNEL_EXTENDED_DATA']) {
    const original = handlers[name];
    if (typeof original !== 'function') return false;
    // ssh2 calls these with (protocol, recipient, data) and, for extended data, its type: four
    // named parameters rather than a rest array, as this runs for every packet of every channel.
    handlers[name] = (p: unknown, recipient: number, data: Buffer, type?: unknown) => {
      const channel = channels.get(recipient);
      if (typeof channel === 'object' && channel !== null && typeof channel.incoming === 'object' && channel.incoming !== null) {
        const { window, state } = channel.incoming as { window?: unknown; state?: unknown };
        const what = typeof window === 'number' && data.length > window ? 'data past the channel window' : state === 'eof' ? 'data after its EOF' : undefined;
        if (what !== undefined) {
          onViolation(channel as ClientChannel, what);
          return undefined;
        }
      }
      return original(p, recipient, data, type);
    };
  }
  // After the server's EOF, ssh2 re-opens the receive window only from the stream's _read, which
  // Node never calls once the stream has ended: a server that sent EOF while data of its own was
  // still waiting for window (Twisted Conch does under load) then waits forever, and so do we.
  // The window is re-opened at EOF instead, so what such a server still sends arrives — and is
  // refused above as data after EOF, a typed error instead of a silent stall.
  const onEof = handlers.CHANNEL_EOF;
  const windowAdjust = channelWindowAdjust();
  if (typeof onEof !== 'function' || typeof windowAdjust !== 'function') return false;
  handlers.CHANNEL_EOF = (p: unknown, recipient: number, ...rest: unknown[]) => {
    const result = onEof(p, recipient, ...rest);
    const channel = channels.get(recipient);
    if (typeof channel === 'object' && channel !== null && channel._waitChanDrain === true) {
      channel._waitChanDrain = false;
      windowAdjust(channel);
    }
    return result;
  };
  return true;
}

/** ssh2's own window adjustment of a channel (re-opens it to its full size). */
const channelWindowAdjust = once(() => ssh2Function<(channel: object) => void>('ssh2/lib/Channel.js', 'windowAdjust'));

/**
 * The smallest maximum packet size rxssh accepts from a server for any channel. ssh2 writes a
 * packet of at most that size per loop turn without yielding: 0 makes it spin forever
 * (ssh2#1504) and a few bytes make a large write take millions of synchronous turns, so the
 * event loop freezes and no timer fires. Real servers announce 16 KiB or more (OpenSSH 32 KiB,
 * Dropbear 32 KiB); OpenSSH's own client sets no lower bound.
 */
export const MIN_CHANNEL_PACKET_SIZE = 1024;

/** What the open callback of a refused channel gets as `reason` (not an RFC 4254 code). */
export const HOSTILE_PACKET_SIZE = 'hostile-packet-size';

const CHANNEL_ADDRESSED = ['CHANNEL_WINDOW_ADJUST', 'CHANNEL_DATA', 'CHANNEL_EXTENDED_DATA', 'CHANNEL_EOF', 'CHANNEL_CLOSE', 'CHANNEL_REQUEST', 'CHANNEL_SUCCESS', 'CHANNEL_FAILURE'];

/**
 * The one guard for every channel of a connection, whichever kind (session, exec, shell, sftp,
 * direct-tcpip, direct-streamlocal — so jump hops too — and the server's forwarded-tcpip,
 * forwarded-streamlocal, agent and x11 opens): a channel whose announced maximum packet size is
 * below {@link MIN_CHANNEL_PACKET_SIZE} is never handed to anyone.
 * - One we opened: we close it at once, and its open callback fails with an Error whose
 *   `reason` is {@link HOSTILE_PACKET_SIZE}; its local id stays reserved (messages to it are
 *   dropped) until the server's CHANNEL_CLOSE, so no later channel can receive them.
 * - One the server opens: refused with an open failure.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function guardChannelOpens(client: object): boolean {
  const c = client as any;
  const protocol = c._protocol;
  const handlers = protocol?._handlers;
  const channels = c._chanMgr;
  if (!handlers || typeof channels?.get !== 'function' || typeof channels.remove !== 'function' || typeof protocol.channelClose !== 'function' || typeof protocol.channelOpenFail !== 'function') {
    return false;
  }
  const names = ['CHANNEL_OPEN_CONFIRMATION', 'CHANNEL_OPEN', ...CHANNEL_ADDRESSED];
  if (names.some((n) => typeof handlers[n] !== 'function')) return false;
  const refused = new Set<number>();
  const confirm = handlers.CHANNEL_OPEN_CONFIRMATION;
  handlers.CHANNEL_OPEN_CONFIRMATION = (p: unknown, info: any, ...rest: unknown[]) => {
    const size: unknown = info?.packetSize;
    if (typeof size === 'number' && size >= MIN_CHANNEL_PACKET_SIZE) return confirm(p, info, ...rest);
    const pending = channels.get(info?.recipient);
    if (typeof pending !== 'function') return confirm(p, info, ...rest);
    refused.add(info.recipient);
    // A do-nothing "pending open" keeps the id reserved: ssh2 ignores data for it and, should
    // the connection end first, its clean-up just calls it.
    channels.update(info.recipient, () => undefined);
    protocol.channelClose(info.sender);
    const err = Object.assign(new Error(`the server announced a maximum packet size of ${String(size)} bytes for the channel (below ${MIN_CHANNEL_PACKET_SIZE}: hostile)`), { reason: HOSTILE_PACKET_SIZE });
    pending(err);
    return undefined;
  };
  const open = handlers.CHANNEL_OPEN;
  handlers.CHANNEL_OPEN = (p: unknown, info: any, ...rest: unknown[]) => {
    const size: unknown = info?.packetSize;
    if (typeof size === 'number' && size >= MIN_CHANNEL_PACKET_SIZE) return open(p, info, ...rest);
    protocol.channelOpenFail(info?.sender, 1 /* SSH_OPEN_ADMINISTRATIVELY_PROHIBITED */, `maximum packet size ${String(size)} is below ${MIN_CHANNEL_PACKET_SIZE}`);
    return undefined;
  };
  for (const name of CHANNEL_ADDRESSED) {
    const original = handlers[name];
    handlers[name] = (p: unknown, recipient: number, ...rest: unknown[]) => {
      if (!refused.has(recipient)) return original(p, recipient, ...rest);
      if (name === 'CHANNEL_CLOSE') {
        refused.delete(recipient);
        channels.remove(recipient);
      }
      return undefined;
    };
  }
  return true;
}
