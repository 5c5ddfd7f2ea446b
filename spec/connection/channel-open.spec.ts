import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelOpenError, ConnectionLostError, ProtocolError, TimeoutError, type SshError } from '../../lib/errors.js';
import { openChannel, type OpenFailure, type OpenPort, type OpenSpec, type Opened } from '../../lib/connection/channel-open.js';
import { Semaphore } from '../../lib/util/semaphore.js';

/** A connection as the opener sees it, with every open it sent waiting for an answer. */
function fakePort(limit = 2, openMs = 1000): OpenPort & { sent: Array<(err: OpenFailure | undefined, channel: string | undefined) => void>; lose(): void } {
  const listeners = new Set<() => void>();
  return {
    host: 'h',
    port: 22,
    limiter: new Semaphore(limit),
    closed: false,
    lost: false,
    failure: undefined,
    route: undefined,
    channelOpenTimeout: openMs,
    lastChannelClosedAt: 0,
    sent: [],
    onLost: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lose() {
      Object.assign(this, { lost: true, closed: true });
      for (const l of [...listeners]) l();
    },
  };
}

function specFor(port: ReturnType<typeof fakePort>, extra: Partial<OpenSpec<string>> = {}): OpenSpec<string> & { discarded: string[]; closers: Array<() => void> } {
  const discarded: string[] = [];
  const closers: Array<() => void> = [];
  return {
    phase: 'channel',
    send: (done) => void port.sent.push(done),
    refused: (err) => new ChannelOpenError(`refused: ${err?.message ?? ''}`, err?.reason, { host: 'h', port: 22, phase: 'channel' }),
    discard: (channel, closed) => {
      discarded.push(channel);
      closers.push(closed);
    },
    ...extra,
    discarded,
    closers,
  };
}

const refusal = (reason: number): OpenFailure => Object.assign(new Error('open failed'), { reason });

function watch(port: ReturnType<typeof fakePort>, spec: OpenSpec<string>) {
  const seen: { opened?: Opened<string>; error?: SshError; completed: boolean } = { completed: false };
  const subscription = openChannel(port, spec).subscribe({
    next: (o) => (seen.opened = o),
    error: (e: SshError) => (seen.error = e),
    complete: () => (seen.completed = true),
  });
  return { seen, subscription };
}

describe('openChannel', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits for a slot, hands over the channel and its slot, and completes', () => {
    const port = fakePort(1);
    const first = watch(port, specFor(port));
    const second = watch(port, specFor(port));
    expect(port.sent).toHaveLength(1); // the second waits for the slot
    port.sent[0]?.(undefined, 'one');
    expect(first.seen.opened?.channel).toBe('one');
    expect(first.seen.completed).toBe(true);
    expect(port.limiter.inUse).toBe(1); // the subscriber owns the slot now
    first.seen.opened?.release();
    expect(port.sent).toHaveLength(2);
    port.sent[1]?.(undefined, 'two');
    expect(second.seen.opened?.channel).toBe('two');
    vi.advanceTimersByTime(5000); // no deadline left running
    expect(second.seen.error).toBeUndefined();
  });

  it('a refusal is the spec’s error and frees the slot', () => {
    const port = fakePort();
    const { seen } = watch(port, specFor(port));
    port.sent[0]?.(refusal(1), undefined);
    expect(seen.error).toBeInstanceOf(ChannelOpenError);
    expect((seen.error as ChannelOpenError).reason).toBe(1);
    expect(port.limiter.inUse).toBe(0);
  });

  it('retries a refusal that looks like the session limit, with back-off, only where asked', () => {
    const port = fakePort(3);
    port.limiter.acquire().subscribe(); // another channel of this connection is open
    const { seen } = watch(port, specFor(port, { retryTransient: true }));
    port.sent[0]?.(refusal(2), undefined);
    expect(seen.error).toBeUndefined();
    expect(port.sent).toHaveLength(1);
    vi.advanceTimersByTime(20);
    expect(port.sent).toHaveLength(2);
    port.sent[1]?.(refusal(4), undefined);
    vi.advanceTimersByTime(39);
    expect(port.sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    port.sent[2]?.(undefined, 'third time');
    expect(seen.opened?.channel).toBe('third time');

    const plain = watch(port, specFor(port));
    port.sent[3]?.(refusal(2), undefined);
    expect(plain.seen.error).toBeInstanceOf(ChannelOpenError);
  });

  it('the deadline fails the open; the channel the server confirms later is discarded, and only then is the slot free', () => {
    const port = fakePort(1, 500);
    const spec = specFor(port);
    const { seen } = watch(port, spec);
    vi.advanceTimersByTime(500);
    expect(seen.error).toBeInstanceOf(TimeoutError);
    expect(seen.error?.phase).toBe('channel');
    expect(port.limiter.inUse).toBe(1); // the open is still in flight
    port.sent[0]?.(undefined, 'late');
    expect(spec.discarded).toEqual(['late']);
    expect(port.limiter.inUse).toBe(1); // until the server confirmed the close
    spec.closers[0]?.();
    expect(port.limiter.inUse).toBe(0);
    expect(port.lastChannelClosedAt).toBeGreaterThan(0);
  });

  it('the deadline while waiting to retry frees the slot at once', () => {
    const port = fakePort(2, 50);
    port.limiter.acquire().subscribe();
    const { seen } = watch(port, specFor(port, { retryTransient: true }));
    port.sent[0]?.(refusal(2), undefined);
    vi.advanceTimersByTime(20);
    port.sent[1]?.(refusal(2), undefined); // next retry in 40 ms, after the deadline
    vi.advanceTimersByTime(30);
    expect(seen.error).toBeInstanceOf(TimeoutError);
    expect(port.limiter.inUse).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(port.sent).toHaveLength(2); // no retry after the deadline
  });

  it('unsubscribing while queued leaves the queue; in flight, the channel that arrives is discarded and its slot freed once closed', () => {
    const port = fakePort(1);
    const spec = specFor(port);
    const inFlight = watch(port, spec);
    const queued = watch(port, specFor(port));
    queued.subscription.unsubscribe();
    expect(port.limiter.waiting).toBe(0);
    inFlight.subscription.unsubscribe();
    port.sent[0]?.(undefined, 'nobody wants it');
    expect(inFlight.seen.opened).toBeUndefined();
    expect(spec.discarded).toEqual(['nobody wants it']);
    const next = watch(port, specFor(port));
    expect(port.sent).toHaveLength(1); // the slot is held until the discarded channel closed
    spec.closers[0]?.();
    expect(port.sent).toHaveLength(2);
    port.sent[1]?.(undefined, 'next');
    expect(next.seen.opened?.channel).toBe('next');
  });

  it('a refusal answered after unsubscribing frees the slot', () => {
    const port = fakePort(1);
    const { subscription } = watch(port, specFor(port));
    subscription.unsubscribe();
    port.sent[0]?.(refusal(1), undefined);
    expect(port.limiter.inUse).toBe(0);
  });

  it('a lost connection fails with the typed error rxssh ended it with, or ConnectionLostError', () => {
    const port = fakePort();
    const first = watch(port, specFor(port));
    const second = watch(port, specFor(port));
    Object.assign(port, { lost: true });
    const fault = new ProtocolError('bad packet', { host: 'h', port: 22, phase: 'exec' });
    port.sent[0]?.(new Error('No response from server'), undefined);
    expect(first.seen.error).toBeInstanceOf(ConnectionLostError);
    Object.assign(port, { failure: fault });
    port.sent[1]?.(new Error('No response from server'), undefined);
    expect(second.seen.error).toBe(fault);
    expect(port.limiter.inUse).toBe(0);
  });

  it('lost while waiting for a slot or a retry fails at once; lost in flight, the answer only frees the slot', () => {
    const port = fakePort(1);
    port.limiter.acquire().subscribe(); // the only slot is taken: the next open waits
    const waiting = watch(port, specFor(port));
    const other = fakePort(3);
    other.limiter.acquire().subscribe();
    const retrying = watch(other, specFor(other, { retryTransient: true }));
    other.sent[0]?.(refusal(2), undefined);
    const inFlight = watch(other, specFor(other));
    port.lose();
    other.lose();
    expect(waiting.seen.error).toBeInstanceOf(ConnectionLostError);
    expect(port.limiter.waiting).toBe(0);
    expect(retrying.seen.error).toBeInstanceOf(ConnectionLostError);
    expect(inFlight.seen.error).toBeInstanceOf(ConnectionLostError);
    expect(other.limiter.inUse).toBe(2); // the one held elsewhere and the one in flight
    other.sent[1]?.(new Error('No response from server'), undefined);
    expect(other.limiter.inUse).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(other.sent).toHaveLength(2); // no retry after the loss
  });

  it('a closed connection, or ssh2 throwing on send, is ConnectionLostError with the phase; unlimited opens take no slot', () => {
    const port = fakePort();
    Object.assign(port, { closed: true });
    expect(watch(port, specFor(port)).seen.error).toBeInstanceOf(ConnectionLostError);
    Object.assign(port, { closed: false });
    const thrown = watch(port, specFor(port, { phase: 'forward', send: () => { throw new Error('Not connected'); } }));
    expect(thrown.seen.error).toBeInstanceOf(ConnectionLostError);
    expect(thrown.seen.error?.phase).toBe('forward');
    expect(thrown.seen.error?.cause).toBeInstanceOf(Error);
    expect(port.limiter.inUse).toBe(0);
    const unlimited = watch(port, specFor(port, { limited: false }));
    expect(port.limiter.inUse).toBe(0);
    port.sent[0]?.(undefined, 'free');
    expect(unlimited.seen.opened?.channel).toBe('free');
  });
});
