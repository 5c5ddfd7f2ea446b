/**
 * ssh_config `RekeyLimit` on a live connection (`ConnectConfig.rekeyLimit`): counts what the
 * transport stream carries each way since the last key exchange (the server's or ours) and asks
 * for a new one once either direction passed `bytes`, or `interval` ms after the last one, as
 * OpenSSH's client does.
 */
import type { Duplex } from 'node:stream';
import { startRekey, type Ssh2Client } from '../ssh2/index.js';
import type { SessionSettings } from './session-settings.js';

/**
 * Watches `socket` (what ssh2 reads and writes) for `client`; returns the detach, which puts
 * `socket.write` back and clears the timer. `unshaped` is called if ssh2 cannot be asked.
 */
export function watchRekeyLimit(socket: Duplex, client: Ssh2Client, limit: NonNullable<SessionSettings['rekeyLimit']>, unshaped: () => void): () => void {
  let sent = 0;
  let received = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = false;
  let ours = false; // an exchange we asked for runs: what passes meanwhile counts toward the new keys
  let detached = false;
  /** Asks ssh2 for an exchange; only where ssh2 is between packets (never inside its write). */
  const rekey = (): void => {
    asked = false;
    if (detached) return;
    // Counted from the request (an exchange already running, when ssh2 ignores ours, renews the keys too).
    sent = 0;
    received = 0;
    ours = true;
    if (!startRekey(client)) unshaped();
  };
  /** The limit was reached while ssh2 was writing: rekey at the next read, or on the next turn of the loop. */
  const ask = (): void => {
    if (asked) return;
    asked = true;
    setImmediate(() => asked && rekey());
  };
  /** A key exchange ended (the first, a server's or ours): count and time from here. */
  const renewed = (): void => {
    if (!ours) {
      sent = 0;
      received = 0;
    }
    ours = false;
    if (limit.interval === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(rekey, limit.interval);
    timer.unref(); // an open connection is what keeps a program alive, not this timer
  };
  const bytes = limit.bytes ?? Infinity;
  // After ssh2's own 'data' listener (added first): the packets of this chunk are handled.
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (asked || received >= bytes) rekey();
  };
  const write = socket.write;
  socket.write = function countedWrite(this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    sent += (chunk as { length?: number }).length ?? 0;
    if (sent >= bytes) ask();
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex['write'];
  socket.on('data', onData);
  client.on('handshake', renewed);
  return () => {
    detached = true;
    clearTimeout(timer);
    socket.write = write;
    socket.off('data', onData);
    client.off('handshake', renewed);
  };
}
