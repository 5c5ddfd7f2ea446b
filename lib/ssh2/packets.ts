/**
 * ssh2's packet writer, shared by the reach-ins that send a message of their own (an IGNORE,
 * a certificate USERAUTH_REQUEST): its `sendPacket` queues during a key exchange, as ssh2's own do.
 */
import { once, ssh2Function } from './lazy.js';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/** ssh2's packet sender (it queues during a key exchange), or undefined if it moved. */
export const sendPacket = once(() => ssh2Function<(proto: object, packet: Buffer) => unknown>('ssh2/lib/protocol/utils.js', 'sendPacket'));

/** Sends SSH_MSG_IGNORE with empty data (RFC 4253 §11.2: always allowed, never answered). */
export function sendIgnore(proto: any): boolean {
  const writer = proto?._packetRW?.write;
  const send = sendPacket();
  if (!send || typeof writer?.alloc !== 'function' || typeof writer.finalize !== 'function') return false;
  const at: number = writer.allocStart;
  const packet: Buffer = writer.alloc(5);
  packet[at] = 2; // SSH_MSG_IGNORE
  packet.writeUInt32BE(0, at + 1); // string data, empty
  send(proto, writer.finalize(packet));
  return true;
}
