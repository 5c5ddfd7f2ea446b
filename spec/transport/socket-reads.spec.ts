import { createHash, randomBytes } from 'node:crypto';
import { createServer, Socket, type AddressInfo, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { describe, expect, it } from 'vitest';
import { slabReads } from '../../lib/transport/socket-reads.js';

/** Plays libuv: asks for a buffer, fills `n` bytes of it with `fill`, reports the read. */
function reader() {
  const chunks: Buffer[] = [];
  const offered: number[] = [];
  const opts = slabReads((chunk) => chunks.push(chunk));
  const read = (n: number, fill: number): void => {
    const buf = (opts.buffer as () => Uint8Array)();
    offered.push(buf.length);
    const take = Math.min(n, buf.length);
    buf.fill(fill, 0, take);
    opts.callback(take, buf);
  };
  return { chunks, offered, read };
}

describe('slabReads', () => {
  it('never hands the same bytes out twice: every chunk kept keeps its content', () => {
    const { chunks, read } = reader();
    const sizes = [100, 16 * 1024, 70_000, 300, 65_536, 5, 200_000, 1, 40_000, 8_000, 120_000];
    sizes.forEach((n, i) => read(n, i + 1));
    chunks.forEach((chunk, i) => expect(chunk.every((b) => b === i + 1), `chunk ${i}`).toBe(true));
    const regions = chunks.map((c) => [c.buffer, c.byteOffset, c.byteOffset + c.length] as const);
    for (const [i, [ab, start, end]] of regions.entries()) {
      for (const [buffer, s, e] of regions.slice(i + 1)) {
        if (buffer === ab) expect(end <= s || e <= start).toBe(true);
      }
    }
  });

  it('small reads stay in 4 KiB slabs; reads that fill what they are offered move to 256 KiB slabs, a small read back', () => {
    const { offered, read } = reader();
    read(200, 1);
    read(300, 2);
    expect(offered[0]).toBe(4 * 1024);
    expect(offered[1]).toBe(4 * 1024 - 200);
    read(1 << 20, 3); // fills the rest of the small slab: bulk from here
    read(1 << 20, 4);
    expect(offered[3]).toBe(256 * 1024);
    read(30_000, 5); // a partial but large read: still bulk
    read(1 << 20, 6);
    expect(offered[5]).toBe(256 * 1024 - 30_000);
    read(1 << 20, 7); // the slab is used up: a new one of bulk size
    expect(offered[6]).toBe(256 * 1024);
    read(100, 8); // a small read: the next buffer comes from a new small slab
    read(10, 9);
    expect(offered[8]).toBe(4 * 1024);
    read(4 * 1024 - 10 - 100, 10); // leaves 100 bytes, below the minimum
    read(10, 11);
    expect(offered[10]).toBe(4 * 1024);
  });

  it('over a real socket: every byte arrives, in order and intact, with chunks held to the end', async () => {
    const data = randomBytes(4 * 1024 * 1024 + 123);
    const server = createServer((s) => {
      // Varied write sizes, some after a pause, so that reads come up both short and full.
      let at = 0;
      const sizes = [1, 500, 40_000, 70_000, 1 << 20, 3];
      let i = 0;
      const step = (): void => {
        while (at < data.length) {
          const n = sizes[i++ % sizes.length] ?? 1;
          const ok = s.write(data.subarray(at, at + n));
          at += n;
          if (i % 7 === 0) return void setTimeout(step, 2);
          if (!ok) return void s.once('drain', step);
        }
        s.end();
      };
      step();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const chunks: Buffer[] = [];
      const options: SocketConstructorOpts & { onread: OnReadOpts } = { onread: slabReads((chunk) => socket.emit('data', chunk)) };
      const socket = new Socket(options);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise<void>((resolve, reject) => {
        socket.once('end', resolve);
        socket.once('error', reject);
      });
      socket.connect((server.address() as AddressInfo).port, '127.0.0.1');
      await ended;
      socket.destroy();
      const got = Buffer.concat(chunks);
      expect(got.length).toBe(data.length);
      expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(chunks.length).toBeGreaterThan(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
