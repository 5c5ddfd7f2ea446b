import { concatMap, firstValueFrom, from, lastValueFrom, map, mergeMap, range, reduce, switchMap, take, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChannelClosedError,
  ChannelOpenError,
  ConnectionLostError,
  ExitStatusError,
  OutputFlow,
  StdinOverflowError,
  decodeText,
  exec,
  selectStream,
  shareConnection,
  splitLines,
  withConnection,
  type ChannelEvent,
  type ExecChunk,
  type ExitInfo,
} from '../../lib/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { catRoundTrip, connectTo, errorOf, eventually, expectNoLeaks, resources, serve } from '../helpers/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve({ maxSessions: 10 });
});
afterAll(() => server.stop());

const stdoutText = (chunks: ExecChunk[]) =>
  Buffer.concat(chunks.filter((c) => c.stream === 'stdout').map((c) => c.data)).toString();

describe('ChannelSubject (exec as a duplex Subject)', () => {
  it('next() writes stdin, complete() sends EOF, output arrives tagged, exit 0 completes', async () => {
    const chunks = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => {
          const cat = c.exec('cat');
          const out = cat.pipe(toArray());
          cat.next('hello ');
          cat.next(new TextEncoder().encode('world\n'));
          cat.complete();
          return out;
        }),
      ),
    );
    expect(stdoutText(chunks)).toBe('hello world\n');
    expect(chunks.every((c) => c.stream === 'stdout' && Buffer.isBuffer(c.data))).toBe(true);
  });

  it('is lazy and multicast: one channel for two subscribers, none before subscribe', async () => {
    const before = server.info.stats.execs.length;
    const [a, b] = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => {
          const ch = c.exec('echo shared');
          expect(server.info.stats.execs.length).toBe(before);
          return from(
            Promise.all([lastValueFrom(ch.pipe(toArray())), lastValueFrom(ch.pipe(toArray()))]),
          );
        }),
      ),
    );
    expect(stdoutText(a ?? [])).toBe('shared\n');
    expect(stdoutText(b ?? [])).toBe('shared\n');
    expect(server.info.stats.execs.length).toBe(before + 1);
  });

  it('a non-zero exit errors with ExitStatusError (code, stderr tail, context)', async () => {
    const err = await errorOf(connectTo(server.info).pipe(withConnection((c) => c.exec('fail 3 something broke', { stdin: [] }))));
    expect(err).toBeInstanceOf(ExitStatusError);
    const e = err as ExitStatusError;
    expect(e.exitCode).toBe(3);
    expect(e.signal).toBeNull();
    expect(e.stderrTail).toBe('something broke\n');
    expect(e.command).toBe('fail 3 something broke');
    expect(e.phase).toBe('exec');
    expect(e.host).toBe(server.info.host);
  });

  it('check: false completes and reports the exit to closeObserver', async () => {
    const exits: ExitInfo[] = [];
    await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => c.exec('exit 7', { stdin: [], check: false, closeObserver: { next: (e) => exits.push(e) } })),
      ),
      { defaultValue: undefined },
    );
    expect(exits).toEqual([{ exitCode: 7, signal: null }]);
  });

  it('an exit by signal is an ExitStatusError with the signal', async () => {
    const err = await errorOf(connectTo(server.info).pipe(withConnection((c) => c.exec('signal KILL', { stdin: [] }))));
    expect(err).toBeInstanceOf(ExitStatusError);
    expect((err as ExitStatusError).signal).toBe('KILL');
    expect((err as ExitStatusError).exitCode).toBeNull();
  });

  it('a close without exit status is its own outcome, never exit 0', async () => {
    const chunks: ExecChunk[] = [];
    const err = await errorOf(
      connectTo(server.info).pipe(withConnection((c) => c.exec('noexit', { stdin: [] }).pipe(map((x) => chunks.push(x))))),
    );
    expect(stdoutText(chunks)).toBe('bye\n');
    expect(err).toBeInstanceOf(ExitStatusError);
    expect((err as ExitStatusError).exitCode).toBeNull();
    expect((err as ExitStatusError).signal).toBeNull();
    expect((err as Error).message).toMatch(/without an exit status/);
  });

  it('stderr is delivered tagged and never stalls stdout (10 MiB of unread stderr)', async () => {
    // 10 MiB to stderr first (5× the shared window), then 10 MiB to stdout; we only read stdout.
    const bytes = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => c.exec('emit-both 10485760', { stdin: [] })),
        selectStream('stdout'),
        reduce((n, b) => n + b.length, 0),
      ),
    );
    expect(bytes).toBe(10 * 1024 * 1024);
    const tagged = await lastValueFrom(
      connectTo(server.info).pipe(withConnection((c) => c.exec('stderr to the side', { stdin: [] })), toArray()),
    );
    expect(tagged).toEqual([{ type: 'chunk', stream: 'stderr', data: Buffer.from('to the side\n') }]);
  });

  it('64 MiB through cat, hash-exact, with stdin pulled only as fast as the window allows', async () => {
    const total = 64 * 1024 * 1024;
    const r = await catRoundTrip(connectTo(server.info), total, 256 * 1024);
    expect(r.received).toBe(total);
    expect(r.gotHash).toBe(r.sentHash);
    // Backpressure: the generator is never far ahead of what came back (windows + buffers,
    // a few MiB), nowhere near the 64 MiB it would be without it.
    expect(r.maxAhead).toBeLessThan(16 * 1024 * 1024);
  });

  it('next() beyond stdinLimit aborts with StdinOverflowError instead of buffering or dropping', async () => {
    const err = await errorOf(
      connectTo(server.info).pipe(
        withConnection((c) => {
          // `sleep` never reads stdin: the 2 MiB window fills, then the queue reaches the limit.
          const ch = c.exec('sleep 30', { stdinLimit: 1024 * 1024 });
          setTimeout(() => {
            for (let i = 0; i < 64; i++) ch.next(Buffer.alloc(64 * 1024));
          }, 50);
          return ch;
        }),
      ),
    );
    expect(err).toBeInstanceOf(StdinOverflowError);
    expect((err as StdinOverflowError).limit).toBe(1024 * 1024);
  });

  it('for await reads only as fast as the loop: 256 MiB to a slow consumer, bounded memory, byte-exact', async () => {
    const total = 256 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    let received = 0;
    let wrong = 0;
    let chunks = 0;
    await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) =>
          from(
            (async () => {
              for await (const { data } of c.exec(`emit ${total}`, { stdin: [] })) {
                for (let i = 0; i < data.length; i += 4093) if (data[i] !== ((received + i) % 65536) % 251) wrong++;
                received += data.length;
                if (++chunks % 8 === 0) {
                  peak = Math.max(peak, process.memoryUsage().rss);
                  await new Promise((r) => setTimeout(r, 1)); // a deliberately slow consumer
                }
              }
            })(),
          ),
        ),
      ),
    );
    expect(received).toBe(total);
    expect(wrong).toBe(0);
    expect(peak - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('breaking out of for await stops the command', async () => {
    const before = server.info.stats.signals.length;
    await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) =>
          from(
            (async () => {
              let n = 0;
              for await (const chunk of c.exec('yes', { stdin: [] })) {
                n += chunk.data.length;
                if (n > 1024 * 1024) break;
              }
            })(),
          ),
        ),
      ),
    );
    expect(await eventually(() => server.info.stats.signals.length > before)).toBe(true);
  });

  it('pipeTo() pauses the channel while the Writable is full', async () => {
    const { Writable } = await import('node:stream');
    let written = 0;
    let maxBuffered = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        setImmediate(done);
      },
    });
    const total = 32 * 1024 * 1024;
    const probe = setInterval(() => (maxBuffered = Math.max(maxBuffered, slow.writableLength)), 1);
    await lastValueFrom(
      connectTo(server.info).pipe(withConnection((c) => c.exec(`emit ${total}`, { stdin: [] }).pipeTo(slow))),
      { defaultValue: undefined },
    );
    clearInterval(probe);
    await new Promise((r) => slow.end(r));
    expect(written).toBe(total);
    // Without pausing, the Writable would buffer most of the 32 MiB.
    expect(maxBuffered).toBeLessThan(4 * 1024 * 1024);
  });

  it('OutputFlow: the exec operator\'s output stops while the flow is paused (the server waits) and resumes byte-exact', async () => {
    const total = 16 * 1024 * 1024;
    const flow = new OutputFlow();
    flow.pause(); // before the channel opens: it starts paused
    let received = 0;
    const done = lastValueFrom(
      connectTo(server.info).pipe(
        exec(`emit ${total}`, { flow }),
        tap(({ data }) => (received += data.length)),
      ),
      { defaultValue: undefined },
    );
    await new Promise((r) => setTimeout(r, 500));
    const whilePaused = received;
    // At most what the SSH window let the server send before the pause held it (2 MiB).
    expect(whilePaused).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(flow.paused).toBe(true);
    flow.resume();
    flow.resume(); // one resume undoes any number of pauses; more do nothing
    await done;
    expect(received).toBe(total);
    expect(flow.paused).toBe(false);
  });

  it('write() completes when ssh2 took the chunk and errors with ChannelClosedError after close', async () => {
    const outcome = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => {
          const cat = c.exec('cat');
          const done = lastValueFrom(cat.pipe(toArray()));
          return from(
            (async () => {
              await lastValueFrom(from(['a', 'b', 'c']).pipe(concatMap((x) => cat.write(x))), { defaultValue: undefined });
              cat.complete();
              const chunks = await done;
              const late = await errorOf(cat.write('late'));
              return { text: stdoutText(chunks), late };
            })(),
          );
        }),
      ),
    );
    expect(outcome.text).toBe('abc');
    expect(outcome.late).toBeInstanceOf(ChannelClosedError);
  });

  it('unsubscribe before exit signals the remote process (TERM), closes the channel, keeps the connection', async () => {
    const baseline = resources();
    const signalsBefore = server.info.stats.signals.length;
    const result = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) =>
          from(
            (async () => {
              const execs = server.info.stats.execs.length;
              const sub = c.exec('sleep 60').subscribe({ error: () => undefined });
              await eventually(() => server.info.stats.execs.length > execs);
              sub.unsubscribe();
              await eventually(() => server.info.stats.signals.length > signalsBefore);
              const after = await lastValueFrom(c.run('echo still usable'));
              return { signals: server.info.stats.signals.slice(signalsBefore), after: after.stdout };
            })(),
          ),
        ),
      ),
    );
    expect(result.signals).toEqual(['TERM']);
    expect(result.after).toBe('still usable\n');
    await expectNoLeaks(baseline);
    expect(await eventually(() => server.info.stats.openSessions === 0)).toBe(true);
  });

  it('unsubscribing while the exec request is in flight still stops the command once it starts', async () => {
    const signalsBefore = server.info.stats.signals.length;
    const execs = server.info.stats.execs.length;
    const baseline = resources();
    const sub = connectTo(server.info).pipe(withConnection((c) => c.exec('sleep 60', { stdin: [] }))).subscribe({ error: () => undefined });
    // Unsubscribe as soon as the server sees the exec request, before its reply can arrive.
    await eventually(() => server.info.stats.execs.length > execs, 5000);
    sub.unsubscribe();
    expect(await eventually(() => server.info.stats.signals.length > signalsBefore)).toBe(true);
    expect(server.info.stats.signals.slice(signalsBefore)).toEqual(['TERM']);
    await expectNoLeaks(baseline);
  });

  it('the cancel signal is sent after EOF too (ssh2 signal() would be a silent no-op)', async () => {
    const signalsBefore = server.info.stats.signals.length;
    await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) =>
          from(
            (async () => {
              const execs = server.info.stats.execs.length;
              const ch = c.exec('sleep 60', { cancelSignal: 'INT' });
              const sub = ch.subscribe({ error: () => undefined });
              ch.complete(); // EOF
              await eventually(() => server.info.stats.execs.length > execs);
              await new Promise((r) => setTimeout(r, 50));
              sub.unsubscribe();
              await eventually(() => server.info.stats.signals.length > signalsBefore);
            })(),
          ),
        ),
      ),
      { defaultValue: undefined },
    );
    expect(server.info.stats.signals.slice(signalsBefore)).toEqual(['INT']);
  });

  it('signal() on demand ends a command by that signal', async () => {
    const err = await errorOf(
      connectTo(server.info).pipe(
        withConnection((c) => {
          const ch = c.exec('sleep 60');
          setTimeout(() => ch.signal('SIGUSR1'), 100);
          return ch;
        }),
      ),
    );
    expect((err as ExitStatusError).signal).toBe('USR1');
    expect(() => connectTo(server.info).pipe(withConnection((c) => [c.exec('x').signal('NOPE')]))).not.toThrow();
  });

  it('yes | take(2000) → exactly 2000 lines, then the channel is closed', async () => {
    const lines = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => c.exec('yes', { stdin: [] })),
        selectStream('stdout'),
        decodeText(),
        splitLines(),
        take(2000),
        toArray(),
      ),
    );
    expect(lines).toHaveLength(2000);
    expect(new Set(lines)).toEqual(new Set(['y']));
    expect(await eventually(() => server.info.stats.openSessions === 0 && server.info.stats.openConnections === 0)).toBe(true);
  });

  it('20 concurrent execs on one connection all succeed behind the channel limit (server MaxSessions 10)', async () => {
    const refusedBefore = server.info.stats.refusedSessions;
    const results = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => range(0, 20).pipe(mergeMap((i) => c.run(`echo ${i}`)), toArray())),
      ),
    );
    expect(results.map((r) => r.stdout.trim()).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    expect(server.info.stats.refusedSessions).toBe(refusedBefore);
  });

  it('refusals by the server session limit are retried while other channels are open: all succeed', async () => {
    const refusedBefore = server.info.stats.refusedSessions;
    const results = await lastValueFrom(
      connectTo(server.info, { maxChannels: 30 }).pipe(
        withConnection((c) => range(0, 20).pipe(mergeMap((i) => c.run(`echo ${i}`)), toArray())),
      ),
    );
    expect(results).toHaveLength(20);
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    expect(server.info.stats.refusedSessions).toBeGreaterThan(refusedBefore); // the server did refuse
  });

  it('a server that refuses every channel → ChannelOpenError with the reason', async () => {
    const none = await serve({ maxSessions: 0 });
    const err = await errorOf(connectTo(none.info).pipe(withConnection((c) => c.exec('true', { stdin: [] }))));
    expect(err).toBeInstanceOf(ChannelOpenError);
    expect((err as ChannelOpenError).phase).toBe('channel');
    expect((err as ChannelOpenError).reason).toBeGreaterThan(0);
    none.stop();
  });

  it('channel$ reports channels opening and closing', async () => {
    const events: ChannelEvent[] = [];
    await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => {
          c.channel$.subscribe((e) => events.push(e));
          return c.run('exit 4');
        }),
      ),
    );
    expect(events.map((e) => [e.type, e.kind, e.command])).toEqual([
      ['open', 'exec', 'exit 4'],
      ['close', 'exec', 'exit 4'],
    ]);
    expect(events[1]).toMatchObject({ exitCode: 4, signal: null });
  });

  it('env and pty options reach the server', async () => {
    const r = await lastValueFrom(connectTo(server.info).pipe(withConnection((c) => c.run('env RXSSH_X', { env: { RXSSH_X: '42' }, pty: { rows: 30, cols: 100 } }))));
    expect(r.stdout.trim()).toBe('42');
  });

  it('a server dying mid-stream: bytes so far delivered, then ConnectionLostError (never success)', async () => {
    const own = await serve();
    const baseline = resources();
    let received = 0;
    const err = await errorOf(
      connectTo(own.info).pipe(
        withConnection((c) => c.exec('emit 1000000000', { stdin: [] })),
        map(({ data }) => {
          received += data.length;
          if (received > 4 * 1024 * 1024) own.stop();
        }),
      ),
    );
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).phase).toBe('exec');
    expect(received).toBeGreaterThan(4 * 1024 * 1024);
    await expectNoLeaks(baseline);
  });

  it('exit status 0 but the connection dies before the output ended → ConnectionLostError, not success', async () => {
    const own = await serve();
    const err = await errorOf(
      connectTo(own.info).pipe(
        withConnection((c) => c.exec('exit-early', { stdin: [] })),
        map((chunk) => {
          if (chunk.data.toString() === 'part\n') setTimeout(() => own.stop(), 50);
        }),
      ),
    );
    expect(err).toBeInstanceOf(ConnectionLostError);
  });

  it('a later subscription opens a new channel (repeat reruns the command)', async () => {
    const before = server.info.stats.execs.length;
    const texts = await lastValueFrom(
      connectTo(server.info).pipe(
        shareConnection(),
        withConnection((c) => {
          const ch = c.exec('echo again', { stdin: [] });
          return from([0, 1]).pipe(concatMap(() => ch.pipe(selectStream('stdout'), decodeText())), toArray());
        }),
      ),
    );
    expect(texts).toEqual(['again\n', 'again\n']);
    expect(server.info.stats.execs.length).toBe(before + 2);
  });

  it('exec() and run() refuse an empty command', async () => {
    const c = await firstValueFrom(connectTo(server.info).pipe(shareConnection(), take(1)));
    expect(() => c.exec('')).toThrow(TypeError);
    expect(() => c.run('')).toThrow(TypeError);
    expect(() => c.subsystem('')).toThrow(TypeError);
    expect(() => c.exec('x', { stdinLimit: -1 })).toThrow(RangeError); // a number out of range
    expect(() => c.exec('x', { cancelSignal: 'NOPE' })).toThrow(TypeError);
  });

  it('shell() and subsystem() channels follow the same Subject semantics', async () => {
    const out = await lastValueFrom(
      connectTo(server.info).pipe(
        withConnection((c) => {
          const sh = c.shell();
          sh.next('typed into the shell');
          sh.complete();
          const sub = c.subsystem('echo');
          sub.next('to a subsystem');
          sub.complete();
          return from(Promise.all([lastValueFrom(sh.pipe(toArray())), lastValueFrom(sub.pipe(toArray()))]));
        }),
        switchMap(([a, b]) => [stdoutText(a), stdoutText(b)]),
        toArray(),
      ),
    );
    expect(out).toEqual(['typed into the shell', 'to a subsystem']);
  });
});
