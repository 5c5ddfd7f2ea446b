import { from, lastValueFrom, map, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { type ExitStatusError, decodeText, exec, run, selectStream, shareConnection, splitLines, withConnection } from '../../lib/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { connectTo, errorOf, eventually, expectNoLeaks, resources, serve } from '../helpers/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve();
});
afterAll(() => server.stop());

describe('pipeline operators', () => {
  it('run(): one ExecResult, then the connection is closed with no manual cleanup', async () => {
    const baseline = resources();
    const result = await lastValueFrom(connectTo(server.info).pipe(run('fail 2 bad')));
    expect(result).toEqual({ type: 'exec-result', command: 'fail 2 bad', stdout: '', stderr: 'bad\n', exitCode: 2, signal: null, truncated: false });
    expect(await eventually(() => server.info.stats.openConnections === 0)).toBe(true);
    await expectNoLeaks(baseline);
  });

  it('run({ check: true }) errors on a non-zero exit', async () => {
    const err = await errorOf(connectTo(server.info).pipe(run('exit 9', { check: true })));
    expect((err as ExitStatusError).exitCode).toBe(9);
  });

  it('run() reports a missing exit status as nulls and truncates at maxBuffer', async () => {
    const none = await lastValueFrom(connectTo(server.info).pipe(run('noexit')));
    expect(none.exitCode).toBeNull();
    expect(none.signal).toBeNull();
    const cut = await lastValueFrom(connectTo(server.info).pipe(run('emit 100000', { maxBuffer: 1000 })));
    expect(cut.truncated).toBe(true);
    expect(Buffer.byteLength(cut.stdout, 'utf8')).toBeGreaterThanOrEqual(1000);
  });

  it("run(cmd, { encoding: 'buffer' }): stdout and stderr are the bytes as received, typed Buffer; a bad encoding is a TypeError", async () => {
    const pattern = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const bytes = await lastValueFrom(connectTo(server.info).pipe(run('emit 1000', { encoding: 'buffer' })));
    expectTypeOf(bytes.stdout).toEqualTypeOf<Buffer>();
    expect(Buffer.isBuffer(bytes.stdout) && Buffer.isBuffer(bytes.stderr)).toBe(true);
    expect(bytes.stdout.equals(pattern)).toBe(true);
    const text = await lastValueFrom(connectTo(server.info).pipe(run('emit 1000')));
    expectTypeOf(text.stdout).toEqualTypeOf<string>();
    expect(Buffer.from(text.stdout).equals(pattern)).toBe(false); // UTF-8 decoding replaced the invalid bytes
    const echoed = await lastValueFrom(connectTo(server.info).pipe(run('cat', { encoding: 'buffer', stdin: [Buffer.from([0xff, 0xfe, 0, 1])] })));
    expect([...echoed.stdout]).toEqual([0xff, 0xfe, 0, 1]);
    expect(() => run('true', { encoding: 'latin1' as 'utf8' })).not.toThrow(); // checked when it runs
    expect(await errorOf(connectTo(server.info).pipe(run('true', { encoding: 'latin1' as 'utf8' })))).toBeInstanceOf(TypeError);
  });

  it('exec() sends EOF at once without stdin, so cat ends', async () => {
    const out = await lastValueFrom(connectTo(server.info).pipe(exec('cat'), toArray()));
    expect(out).toEqual([]);
  });

  it('exec() with stdin from an array, an Observable, a Promise, an async iterable', async () => {
    async function* gen() {
      yield 'c';
      yield new Uint8Array([100]);
    }
    for (const stdin of [['a', 'b'], of('a', 'b'), Promise.resolve('ab'), gen()]) {
      const text = await lastValueFrom(
        connectTo(server.info).pipe(exec('cat', { stdin }), selectStream('stdout'), decodeText(), toArray(), map((t) => t.join(''))),
      );
      expect(['ab', 'cd']).toContain(text);
    }
  });

  it('composes remote commands: the output of one is the stdin of the next', async () => {
    const connection$ = connectTo(server.info).pipe(shareConnection());
    const piped = await lastValueFrom(
      connection$.pipe(
        withConnection((c) => c.exec('echo one two three', { stdin: [] }).pipe(selectStream('stdout'), (stdout) => c.exec('cat', { stdin: stdout }))),
        selectStream('stdout'),
        decodeText(),
        toArray(),
      ),
    );
    expect(piped.join('')).toBe('one two three\n');
  });

  it('unsubscribing a pipeline mid-command signals it and closes the connection', async () => {
    const baseline = resources();
    const before = server.info.stats.signals.length;
    const execs = server.info.stats.execs.length;
    const sub = connectTo(server.info).pipe(exec('sleep 60')).subscribe({ error: () => undefined });
    await eventually(() => server.info.stats.execs.length > execs);
    sub.unsubscribe();
    expect(await eventually(() => server.info.stats.signals.length > before)).toBe(true);
    expect(await eventually(() => server.info.stats.openConnections === 0)).toBe(true);
    await expectNoLeaks(baseline);
  });

  it('throws TypeError at call time for an empty command', () => {
    expect(() => exec('')).toThrow(TypeError);
    expect(() => run('')).toThrow(TypeError);
    expect(() => selectStream('stdin' as never)).toThrow(TypeError);
    expect(() => decodeText('no-such-encoding')).toThrow(RangeError);
  });
});

describe('decoding', () => {
  it('decodeText keeps UTF-8 sequences split across chunks', async () => {
    const bytes = Buffer.from('héllo wörld ✓', 'utf8');
    const chunks = Array.from(bytes).map((b) => new Uint8Array([b]));
    const text = await lastValueFrom(from(chunks).pipe(decodeText(), toArray()));
    expect(text.join('')).toBe('héllo wörld ✓');
  });

  it('splitLines splits on \\n and \\r\\n and flushes the last line', async () => {
    const lines = await lastValueFrom(from(['a\r\nb', '\nc', 'd\n\ne']).pipe(splitLines(), toArray()));
    expect(lines).toEqual(['a', 'b', 'cd', '', 'e']);
  });
});
