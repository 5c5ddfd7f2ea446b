/** A SOCKS5 client of our own for tests: greeting, CONNECT by domain name, the reply code. */
import { connect, type Socket } from 'node:net';
import type { Observable } from 'rxjs';
import type { ForwardListening } from '../../lib/index.js';

/** Reads exactly `n` bytes from a paused socket (or rejects when it ends first). */
function readExactly(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      if (got.length < n) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (got.length > n) socket.unshift(got.subarray(n));
      resolve(got.subarray(0, n));
    };
    const onClose = (): void => reject(new Error(`socket closed after ${got.length} of ${n} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

/**
 * Opens a SOCKS5 CONNECT to `host:port` through the proxy on `proxyPort`. `early` is written
 * in the same write as the request, before the reply (what an optimistic client does). Resolves with the
 * reply code (0 = granted) and the socket, paused, positioned after the reply.
 */
export async function socksConnect(proxyPort: number, host: string, port: number, early?: Buffer): Promise<{ reply: number; socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port: proxyPort });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(Buffer.from([5, 1, 0])); // version 5, one method: no authentication
  const choice = await readExactly(socket, 2);
  if (choice[0] !== 5 || choice[1] !== 0) throw new Error(`unexpected method choice ${choice.toString('hex')}`);
  const name = Buffer.from(host);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  // The request and any early bytes go out in one write, so they reach the proxy as one chunk.
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, portBytes, early ?? Buffer.alloc(0)]));
  const head = await readExactly(socket, 4).catch(() => Buffer.from([5, 255, 0, 0]));
  if (head[1] === 255) return { reply: 255, socket }; // closed without a reply
  const rest = head[3] === 4 ? 18 : head[3] === 3 ? (await readExactly(socket, 1))[0]! + 2 : 6;
  await readExactly(socket, rest);
  return { reply: head[1]!, socket };
}

/** Reads a socket to its end, as text. */
export function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.once('close', () => resolve(text));
    socket.resume();
  });
}

/** Subscribes to a forward and resolves once it listens; `stop()` unsubscribes. */
export function holdForward<E extends { type: string }>(forward$: Observable<E>): Promise<{ listening: ForwardListening; events: E[]; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const events: E[] = [];
    const sub = forward$.subscribe({
      next: (e) => {
        events.push(e);
        if (e.type === 'listening') resolve({ listening: e as unknown as ForwardListening, events, stop: () => sub.unsubscribe() });
      },
      error: reject,
    });
  });
}
