import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WritableBackpressure } from '../../lib/util/writable-backpressure.js';

/** A Writable that holds what it is given until `flush()`, then writes at once. */
function held(highWaterMark: number): Writable & { flush: () => void } {
  const pending: Array<() => void> = [];
  let open = false;
  const w = new Writable({ highWaterMark, write: (_chunk, _enc, done) => (open ? done() : void pending.push(done)) });
  return Object.assign(w, {
    flush: () => {
      open = true;
      pending.splice(0).forEach((done) => done());
    },
  });
}

describe('WritableBackpressure', () => {
  it('limit 0: pauses once when write() refuses, across two streams; resumes when the last drains', async () => {
    const calls: string[] = [];
    const bp = new WritableBackpressure({ pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    const [out, err] = [held(4), held(4)];
    bp.wrote(out, !out.write(Buffer.alloc(2))); // taken: nothing to wait for
    expect(calls).toEqual([]);
    bp.wrote(out, !out.write(Buffer.alloc(8)));
    bp.wrote(err, !err.write(Buffer.alloc(8)));
    expect(calls).toEqual(['pause']);
    out.flush();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['pause']);
    err.flush();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('with a limit, only a stream that holds that much counts as full; release() resumes once and removes its listener', () => {
    const calls: string[] = [];
    const bp = new WritableBackpressure({ pause: () => calls.push('pause'), resume: () => calls.push('resume') }, 32);
    const out = held(4);
    out.write(Buffer.alloc(16));
    bp.wrote(out); // refused, but holds 16 < 32
    expect(calls).toEqual([]);
    out.write(Buffer.alloc(16));
    bp.wrote(out);
    expect(calls).toEqual(['pause']);
    expect(out.listenerCount('drain')).toBe(1);
    bp.release();
    bp.release();
    expect(calls).toEqual(['pause', 'resume']);
    expect(out.listenerCount('drain')).toBe(0);
  });
});
