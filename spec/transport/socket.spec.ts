/** The stream under a connection: the banner guard, the TCP socket, the jump host's channel. */
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { NEVER, Observable, of, Subject, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { guardBanner, openSocket, throughHop, type Hop, type StreamPlan } from '../../lib/transport/socket.js';
import { ConnectError, ProtocolError } from '../../lib/index.js';

function plan(port = 22): StreamPlan & { seen: string[] } {
  const seen: string[] = [];
  return { host: '127.0.0.1', port, localAddress: undefined, tcpKeepAlive: true, seen, onLookup: () => void seen.push('lookup'), onConnected: () => void seen.push('connected') };
}

describe('guardBanner', () => {
  it('lets lines before the banner through and calls onBanner at the SSH- line, across chunks', () => {
    const stream = new PassThrough();
    const said: string[] = [];
    guardBanner(stream, () => said.push('banner'), (m) => said.push(m));
    stream.write('hello\r\nwor');
    stream.write('ld\nSS');
    stream.write('H-2.0-OpenSSH_9.6\r\nbinary after');
    expect(said).toEqual(['banner']);
  });

  it('refuses a 1,025th line and a line longer than 8 KiB, even in one-byte chunks', () => {
    const lines = new PassThrough();
    const said: string[] = [];
    guardBanner(lines, () => said.push('banner'), (m) => said.push(m));
    for (let i = 0; i < 1025; i++) lines.write('x\n');
    expect(said).toEqual(['More than 1,024 lines before the SSH banner']);
    const long = new PassThrough();
    const said2: string[] = [];
    guardBanner(long, () => said2.push('banner'), (m) => said2.push(m));
    for (let i = 0; i < 8193; i++) long.write('y');
    expect(said2).toEqual(['A line longer than 8 KiB before the end of the SSH banner']);
  });
});

describe('openSocket', () => {
  it('connects with Nagle off and says so; detach removes its listeners', async () => {
    const server = createServer((s) => {
      s.on('error', () => undefined); // the client's destroy may reset it
      s.end('SSH-2.0-x\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const p = plan((server.address() as AddressInfo).port);
    const { socket, detach } = openSocket(p);
    socket.on('error', () => undefined); // as the session's own no-op listener
    await new Promise((r) => socket.once('connect', r));
    expect(p.seen).toContain('connected');
    expect(socket.listenerCount('connect')).toBe(0);
    detach();
    expect(socket.listenerCount('lookup')).toBe(0);
    socket.destroy();
    await new Promise((r) => server.close(r));
  });
});

describe('throughHop', () => {
  const hop = (forward: () => Observable<Duplex>): Hop => ({ host: 'bastion', port: 22, forwardOut: forward });

  it('hands the channel of the first hop over; unsubscribing lets go of the channel, then of the hop', () => {
    const order: string[] = [];
    const channel = new PassThrough();
    const via = new Observable<Hop>((s) => {
      s.next(hop(() => new Observable<Duplex>((c) => (c.next(channel), () => order.push('channel')))));
      return () => order.push('hop');
    });
    const p = plan();
    const streams: Duplex[] = [];
    const sub = throughHop(via, p, { stream: (d) => streams.push(d), error: (e) => order.push(`error ${String(e)}`), closed: () => order.push('closed') });
    expect(streams).toEqual([channel]);
    expect(p.seen).toEqual(['connected']);
    sub.unsubscribe();
    expect(order).toEqual(['channel', 'hop']);
  });

  it('a channel the hop refuses is a ConnectError naming the hop; a hostile hop keeps its ProtocolError', () => {
    const errors: unknown[] = [];
    const listener = { stream: () => undefined, error: (e: unknown) => errors.push(e), closed: () => undefined };
    throughHop(of(hop(() => throwError(() => new Error('administratively prohibited')))), plan(), listener);
    const hostile = new ProtocolError('tiny packets', { host: 'bastion', port: 22, phase: 'channel' });
    throughHop(of(hop(() => throwError(() => hostile))), plan(), listener);
    expect(errors[0]).toBeInstanceOf(ConnectError);
    expect((errors[0] as Error).message).toContain('through jump host bastion:22');
    expect(errors[1]).toBe(hostile);
  });

  it('the hop ending is reported as closed; a hop error as it is', () => {
    const said: unknown[] = [];
    const listener = { stream: () => undefined, error: (e: unknown) => said.push(e), closed: () => said.push('closed') };
    const hops = new Subject<Hop>();
    throughHop(hops, plan(), listener);
    hops.next(hop(() => NEVER));
    hops.complete();
    const failure = new Error('bastion unreachable');
    throughHop(throwError(() => failure), plan(), listener);
    expect(said).toEqual(['closed', failure]);
  });
});
