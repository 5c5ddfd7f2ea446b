/** The stdin side of a channel on its own, against a fake ssh2 channel. */
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../lib/errors.js';
import { ChannelStdin, StreamTail, type StdinHost } from '../../lib/channel/stdin.js';

/** A channel that takes `room` bytes before it asks for a drain. */
function fakeChannel(room = Infinity) {
  const written: Buffer[] = [];
  let queued = 0;
  const chan = {
    ended: false,
    writableLength: 0,
    get writableNeedDrain() {
      return queued > room;
    },
    write(buf: Buffer) {
      written.push(buf);
      queued += buf.length;
      chan.writableLength = queued;
      return queued <= room;
    },
    end() {
      chan.ended = true;
    },
    drain() {
      queued = 0;
      chan.writableLength = 0;
    },
  };
  return { chan, written };
}

function host(overrides: Partial<{ channel: unknown; done: boolean }> = {}) {
  const state = { channel: overrides.channel, done: overrides.done ?? false, overflowed: 0, failed: [] as unknown[] };
  const h: StdinHost = {
    channel: () => state.channel as never,
    done: () => state.done,
    overflow: () => void state.overflowed++,
    fail: (err) => void state.failed.push(err),
    closedError: () => new ChannelClosedError('Channel is closed', { host: 'h', port: 22, phase: 'exec' }),
  };
  return { h, state };
}

describe('ChannelStdin', () => {
  it('queues before the channel opens (up to the limit), flushes in order when it opens, then EOF if asked', () => {
    const { h, state } = host();
    const stdin = new ChannelStdin(h, 10);
    stdin.next('abc');
    stdin.next(Buffer.from('def'));
    stdin.complete();
    stdin.next('ignored after EOF');
    const { chan, written } = fakeChannel();
    state.channel = chan;
    stdin.opened(chan as never);
    expect(Buffer.concat(written).toString()).toBe('abcdef');
    expect(chan.ended).toBe(true);
    const over = new ChannelStdin(h, 4);
    over.next('12345');
    expect(state.overflowed).toBe(1);
  });

  it('write() completes when the channel took the chunk, or after a drain', async () => {
    const { chan, written } = fakeChannel(4);
    const { h } = host({ channel: chan });
    const stdin = new ChannelStdin(h, 1024);
    await lastValueFrom(stdin.write('ab'), { defaultValue: undefined });
    let done = false;
    const pending = lastValueFrom(stdin.write('cdef'), { defaultValue: undefined }).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false); // over the room: waits for a drain
    chan.drain();
    stdin.drained();
    await pending;
    expect(Buffer.concat(written).toString()).toBe('abcdef');
  });

  it('ended(): waiting writes fail with the closed error, later writes too', async () => {
    const { chan } = fakeChannel(0);
    const { h, state } = host({ channel: chan });
    const stdin = new ChannelStdin(h, 1024);
    const waiting = lastValueFrom(stdin.write('x'), { defaultValue: undefined });
    state.done = true;
    stdin.ended();
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(lastValueFrom(stdin.write('y'), { defaultValue: undefined })).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('pump(): an async iterable is pulled with backpressure then EOF; a source error goes to the host', async () => {
    const { chan, written } = fakeChannel();
    const { h, state } = host({ channel: chan });
    const stdin = new ChannelStdin(h, 1024);
    stdin.pump(
      (async function* () {
        yield 'one ';
        yield 'two';
      })(),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(written).toString()).toBe('one two');
    expect(chan.ended).toBe(true);
    const broken = new ChannelStdin(h, 1024);
    broken.pump(
      (async function* () {
        yield 'a';
        throw new Error('source broke');
      })(),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(state.failed.map((e) => (e as Error).message)).toEqual(['source broke']);
  });
});

describe('StreamTail', () => {
  it('keeps about the last `max` bytes and quotes exactly the last `max`', () => {
    const tail = new StreamTail(8);
    for (const piece of ['aaaa', 'bbbb', 'cccc', 'dd']) tail.keep(Buffer.from(piece));
    expect(tail.text()).toBe('bbccccdd');
  });
});
