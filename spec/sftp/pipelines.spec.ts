/** The SFTP read and write pipelines on their own, against scripted servers. */
import { describe, expect, it } from 'vitest';
import { ReadPipeline, slices, WritePipeline, type Piece, type ReadRequest, type ReadTarget } from '../../lib/sftp/pipelines.js';

const EOF = Object.assign(new Error('eof'), { code: 1 });
const isEof = (err: unknown) => (err as { code?: number }).code === 1;

/** A file of `size` bytes (`i % 251`) served by a scripted server: answers on a later tick, records what was asked. */
function server(size: number, script: { short?: (position: number) => number | undefined; fail?: (position: number) => unknown; shrinkTo?: number } = {}) {
  const log = { inFlight: 0, maxInFlight: 0, requests: [] as Array<[number, number]> };
  const read: ReadRequest = (buf, length, position, done) => {
    log.requests.push([position, length]);
    log.inFlight++;
    log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
    setImmediate(() => {
      log.inFlight--;
      const failure = script.fail?.(position);
      if (failure) return done(failure, 0);
      const fileEnd = script.shrinkTo ?? size;
      if (position >= fileEnd) return done(EOF, 0);
      const n = Math.min(length, fileEnd - position, script.short?.(position) ?? length);
      for (let i = 0; i < n; i++) buf[i] = (position + i) % 251;
      done(undefined, n);
    });
  };
  return { read, log };
}

/** A target with `buffers` reusable buffers that copies what it gets into `out`. */
function target(out: Buffer, buffers: number, chunkSize: number, fill?: (position: number) => Promise<void> | void): ReadTarget & { held: number } {
  const free: Buffer[] = Array.from({ length: buffers }, () => Buffer.alloc(chunkSize));
  const t = {
    held: 0,
    claim: () => {
      const b = free.pop();
      if (b) t.held++;
      return b;
    },
    fill: (position: number, buf: Buffer, n: number) => {
      buf.copy(out, position, 0, n);
      const settled = fill?.(position);
      const back = () => {
        free.push(buf);
        t.held--;
      };
      if (settled) return settled.finally(back);
      back();
      return undefined;
    },
    unclaim: (buf: Buffer) => {
      free.push(buf);
      t.held--;
    },
  };
  return t;
}

const expected = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => i % 251));

describe('ReadPipeline', () => {
  it('reads a whole file with at most `concurrency` requests in flight, in request-sized pieces', async () => {
    const { read, log } = server(100_000);
    const out = Buffer.alloc(100_000);
    const end = await new ReadPipeline({ read, target: target(out, 16, 4096), chunkSize: 4096, concurrency: 5, end: 100_000, isEof, failure: (e) => e }).run();
    expect(end).toBe(100_000);
    expect(out.equals(expected(100_000))).toBe(true);
    expect(log.maxInFlight).toBe(5);
    expect(Math.max(...log.requests.map(([, l]) => l))).toBe(4096);
  });

  it('re-requests the rest of a short read before anything new', async () => {
    const { read, log } = server(20_000, { short: (p) => (p === 4096 ? 1000 : undefined) });
    const out = Buffer.alloc(20_000);
    await new ReadPipeline({ read, target: target(out, 4, 4096), chunkSize: 4096, concurrency: 2, end: 20_000, isEof, failure: (e) => e }).run();
    expect(out.equals(expected(20_000))).toBe(true);
    expect(log.requests).toContainEqual([5096, 3096]);
  });

  it('a file that shrank meanwhile ends where the server says EOF', async () => {
    const { read } = server(50_000, { shrinkTo: 30_000 });
    const out = Buffer.alloc(50_000);
    const end = await new ReadPipeline({ read, target: target(out, 8, 4096), chunkSize: 4096, concurrency: 4, end: 50_000, isEof, failure: (e) => e }).run();
    expect(end).toBe(30_000);
    expect(out.subarray(0, 30_000).equals(expected(30_000))).toBe(true);
  });

  it('a failed request: no new requests, rejects with the mapped error once those in flight are answered, every buffer back', async () => {
    const boom = new Error('permission denied');
    const { read, log } = server(100_000, { fail: (p) => (p === 8192 ? boom : undefined) });
    const t = target(Buffer.alloc(100_000), 8, 4096);
    const run = new ReadPipeline({ read, target: t, chunkSize: 4096, concurrency: 4, end: 100_000, isEof, failure: (e) => new Error(`mapped: ${(e as Error).message}`) }).run();
    await expect(run).rejects.toThrow('mapped: permission denied');
    expect(log.inFlight).toBe(0);
    expect(t.held).toBe(0);
    expect(log.requests.length).toBeLessThan(10);
  });

  it('waits for free buffers (a slow consumer) and goes on at wake(); an abort rejects after the requests in flight', async () => {
    const { read, log } = server(40_000);
    const gates: Array<() => void> = [];
    const t = target(Buffer.alloc(40_000), 2, 4096, () => new Promise<void>((r) => gates.push(r)));
    const abort = new AbortController();
    const pipeline = new ReadPipeline({ read, target: t, chunkSize: 4096, concurrency: 8, end: 40_000, isEof, failure: (e) => e, signal: abort.signal });
    const run = pipeline.run();
    await new Promise((r) => setTimeout(r, 20));
    expect(log.requests).toHaveLength(2); // two buffers, both held by the consumer
    gates.splice(0).forEach((g) => g());
    await new Promise((r) => setTimeout(r, 20));
    expect(log.requests).toHaveLength(4);
    abort.abort();
    gates.splice(0).forEach((g) => g());
    await expect(run).rejects.toThrow('cancelled');
    expect(log.requests).toHaveLength(4);
    expect(t.held).toBe(0);
  });
});

describe('WritePipeline', () => {
  const writer = (fail?: (position: number) => unknown) => {
    const log = { inFlight: 0, maxInFlight: 0, writes: [] as Array<[number, number]> };
    const out: Buffer[] = [];
    const write = (data: Buffer, position: number, done: (err: unknown) => void) => {
      log.writes.push([position, data.length]);
      log.inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
      setImmediate(() => {
        log.inFlight--;
        const failure = fail?.(position);
        if (!failure) out.push(Buffer.from(data));
        done(failure);
      });
    };
    return { write, log, out };
  };

  it('writes pieces in order at consecutive positions, `concurrency` at a time, releasing each when answered', async () => {
    const { write, log } = writer();
    let released = 0;
    const pieces: Piece[] = Array.from({ length: 20 }, (_, i) => ({ data: Buffer.alloc(1000 + i), release: () => released++ }));
    const progress: number[] = [];
    await new WritePipeline({ write, concurrency: 4, failure: (e) => e, onProgress: (bytes) => progress.push(bytes) }).run(pieces);
    expect(log.maxInFlight).toBe(4);
    let at = 0;
    for (const [i, [position, length]] of log.writes.entries()) {
      expect([position, length]).toEqual([at, 1000 + i]);
      at += length;
    }
    expect(released).toBe(20);
    expect(progress.at(-1)).toBe(at);
  });

  it('a failed write stops pulling from the source and rejects once the writes in flight are answered', async () => {
    const { write, log } = writer((p) => (p === 3000 ? new Error('disk full') : undefined));
    let pulled = 0;
    async function* source(): AsyncGenerator<Piece> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield { data: Buffer.alloc(1000) };
      }
    }
    await expect(new WritePipeline({ write, concurrency: 2, failure: (e) => new Error(`mapped: ${(e as Error).message}`) }).run(source())).rejects.toThrow('mapped: disk full');
    expect(log.inFlight).toBe(0);
    expect(pulled).toBeLessThan(10);
  });

  it('an abort does not wait for a slow source: it rejects at once', async () => {
    const { write } = writer();
    // Its second piece never comes: if the abort waited for it, the spec would hang.
    async function* slow(): AsyncGenerator<Piece> {
      yield { data: Buffer.alloc(10) };
      await new Promise(() => undefined);
      yield { data: Buffer.alloc(10) };
    }
    const abort = new AbortController();
    const run = new WritePipeline({ write, concurrency: 2, failure: (e) => e, signal: abort.signal }).run(slow());
    await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await expect(run).rejects.toThrow('cancelled');
  });
});

describe('slices', () => {
  it('cuts big chunks without copying and gathers small ones into request-sized pieces', async () => {
    const big = Buffer.alloc(10_000, 1);
    const pieces: Buffer[] = [];
    for await (const p of slices([big, Buffer.alloc(100, 2), Buffer.alloc(100, 3), Buffer.alloc(5000, 4)], 4096)) pieces.push(p.data);
    expect(pieces.map((p) => p.length)).toEqual([4096, 4096, 4096, 2912]);
    expect(pieces[0]?.buffer).toBe(big.buffer); // a view of the caller's chunk
    expect(Buffer.concat(pieces).equals(Buffer.concat([big, Buffer.alloc(100, 2), Buffer.alloc(100, 3), Buffer.alloc(5000, 4)]))).toBe(true);
  });
});
