/**
 * ssh2's packet writer, shared by the reach-ins that send a message of their own (an IGNORE,
 * a certificate USERAUTH_REQUEST): its `sendPacket` queues during a key exchange, as ssh2's own do.
 */
import { createRequire } from 'node:module';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/** ssh2's packet sender (it queues during a key exchange), or undefined if it moved. */
export const sendPacket: ((proto: object, packet: Buffer) => unknown) | undefined = (() => {
  try {
    const fn: unknown = (createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as { sendPacket?: unknown }).sendPacket;
    return typeof fn === 'function' ? (fn as (proto: object, packet: Buffer) => unknown) : undefined;
  } catch {
    return undefined;
  }
})();

/** Sends SSH_MSG_IGNORE with empty data (RFC 4253 §11.2: always allowed, never answered). */
export function sendIgnore(proto: any): boolean {
  const writer = proto?._packetRW?.write;
  if (!sendPacket || typeof writer?.alloc !== 'function' || typeof writer.finalize !== 'function') return false;
  const at: number = writer.allocStart;
  const packet: Buffer = writer.alloc(5);
  packet[at] = 2; // SSH_MSG_IGNORE
  packet.writeUInt32BE(0, at + 1); // string data, empty
  sendPacket(proto, writer.finalize(packet));
  return true;
}
