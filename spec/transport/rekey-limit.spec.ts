/** The RekeyLimit watcher on a stand-in transport stream and ssh2 client: when it asks, and what it puts back. */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchRekeyLimit } from '../../lib/transport/rekey-limit.js';
import type { Ssh2Client } from '../../lib/ssh2/index.js';

/** A transport stream whose writes go nowhere (reads are emitted by hand). */
const stream = (): Duplex => new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });

/** An ssh2 client as far as the watcher sees one: `handshake` events and `_protocol.rekey()`. */
function fakeClient(shaped = true): EventEmitter & { asked: number } {
  const client = Object.assign(new EventEmitter(), { asked: 0 });
  if (shaped) Object.assign(client, { _protocol: { rekey: () => client.asked++ } });
  return client;
}

afterEach(() => vi.useRealTimers());

describe('watchRekeyLimit', () => {
  it('bytes: asks once either direction passed the limit, counts again from there, and a server exchange restarts the count', async () => {
    const socket = stream();
    const client = fakeClient();
    const write = socket.write;
    const detach = watchRekeyLimit(socket, client as unknown as Ssh2Client, { bytes: 1000 }, () => undefined);
    client.emit('handshake');
    socket.emit('data', Buffer.alloc(999));
    expect(client.asked).toBe(0);
    socket.emit('data', Buffer.alloc(1)); // received: 1000
    expect(client.asked).toBe(1);
    client.emit('handshake'); // ours ended: what came meanwhile already counts toward the new keys
    socket.write(Buffer.alloc(600));
    socket.write(Buffer.alloc(600)); // sent: 1200, asked at the next turn of the loop, once
    expect(client.asked).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(client.asked).toBe(2);
    client.emit('handshake');
    client.emit('handshake'); // the server's: the count starts again
    socket.emit('data', Buffer.alloc(999));
    expect(client.asked).toBe(2);
    detach();
    socket.emit('data', Buffer.alloc(5000));
    socket.write(Buffer.alloc(5000));
    await new Promise((r) => setImmediate(r));
    expect(client.asked).toBe(2);
    expect(socket.listenerCount('data')).toBe(0);
    expect(socket.write).toBe(write);
    expect(client.listenerCount('handshake')).toBe(0);
  });

  it('interval: asks that long after each exchange ended; detach clears the timer', () => {
    vi.useFakeTimers();
    const socket = stream();
    const client = fakeClient();
    const detach = watchRekeyLimit(socket, client as unknown as Ssh2Client, { interval: 1000 }, () => undefined);
    vi.advanceTimersByTime(5000);
    expect(client.asked).toBe(0); // counted from the first exchange
    client.emit('handshake');
    vi.advanceTimersByTime(999);
    expect(client.asked).toBe(0);
    vi.advanceTimersByTime(1);
    expect(client.asked).toBe(1);
    client.emit('handshake');
    vi.advanceTimersByTime(500);
    detach();
    vi.advanceTimersByTime(5000);
    expect(client.asked).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an ssh2 that cannot be asked is reported, never passed over', () => {
    const socket = stream();
    const client = fakeClient(false);
    const unshaped = vi.fn();
    watchRekeyLimit(socket, client as unknown as Ssh2Client, { bytes: 16 }, unshaped);
    socket.emit('data', Buffer.alloc(16));
    expect(unshaped).toHaveBeenCalledOnce();
  });
});
