import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { run } from '../../lib/index.js';
import { testServer, withTestServer } from '../../lib/testing/index.js';
import { connectTo, eventually, expectNoLeaks, resources } from '../helpers/index.js';

describe('testServer', () => {
  it('binds to loopback only', () => {
    expect(() => testServer({ host: '0.0.0.0' })).toThrow(TypeError);
    expect(() => testServer({ host: '10.0.0.1' })).toThrow(TypeError);
  });

  it('emits address, fresh keys and random credentials per subscription, and closes on unsubscribe', async () => {
    const baseline = resources();
    const infos = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Parameters<Parameters<ReturnType<typeof testServer>['subscribe']>[0] & object>[0]>((resolve) => {
            const sub = testServer().subscribe((info) => {
              resolve(info);
              sub.unsubscribe();
            });
          }),
      ),
    );
    const [a, b] = infos as [{ host: string; port: number; password: string; hostKey: { fingerprint: string } }, typeof infos[0]];
    expect(a.host).toBe('127.0.0.1');
    expect(a.port).toBeGreaterThan(0);
    expect(a.password).not.toBe((b as { password: string }).password);
    expect(a.hostKey.fingerprint).not.toBe((b as { hostKey: { fingerprint: string } }).hostKey.fingerprint);
    await expectNoLeaks(baseline);
  });

  it('scripted commands behave as documented', async () => {
    const results = await lastValueFrom(
      withTestServer({}, (s) =>
        Promise.all(
          ['echo a b', 'true', 'false', 'exit 3', 'stderr e', 'env X', 'bogus'].map((cmd) =>
            lastValueFrom(connectTo(s).pipe(run(cmd))),
          ),
        ),
      ),
    );
    expect(results.map((r) => [r.stdout, r.stderr, r.exitCode])).toEqual([
      ['a b\n', '', 0],
      ['', '', 0],
      ['', '', 1],
      ['', '', 3],
      ['', 'e\n', 0],
      ['\n', '', 0],
      ['', 'rxssh test server: unknown command "bogus"\n', 127],
    ]);
  });

  it("'local' mode runs real commands on this machine, with exit codes and signals", async () => {
    const [sum, code, killed] = await lastValueFrom(
      withTestServer({ commands: 'local' }, (s) =>
        Promise.all([
          lastValueFrom(connectTo(s).pipe(run('echo $((40 + 2))'))),
          lastValueFrom(connectTo(s).pipe(run('echo err >&2; exit 4'))),
          lastValueFrom(connectTo(s).pipe(run('kill -TERM $$'))),
        ]),
      ),
    );
    expect(sum?.stdout).toBe('42\n');
    expect([code?.stderr, code?.exitCode]).toEqual(['err\n', 4]);
    expect(killed?.signal).toBe('TERM');
  });

  it('withTestServer closes the server when the inner pipeline ends', async () => {
    let port = 0;
    await lastValueFrom(
      withTestServer({}, (s) => {
        port = s.port;
        return connectTo(s).pipe(run('true'));
      }),
    );
    const { createConnection } = await import('node:net');
    const refused = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.on('error', () => resolve(true));
      sock.on('connect', () => {
        sock.destroy();
        resolve(false);
      });
    });
    expect(refused).toBe(true);
    expect(await eventually(() => true)).toBe(true);
  });
});

describe('the testServer() TSDoc example', () => {
  it('runs as written and terminates (the server closes after take(1))', async () => {
    const { switchMap, take, lastValueFrom } = await import('rxjs');
    const { connect, verifyHostKey, pinned, authenticate, password, run } = await import('../../lib/index.js');
    const { testServer } = await import('../../lib/testing/index.js');
    const r = await lastValueFrom(
      testServer().pipe(
        switchMap((s) =>
          connect({ host: s.host, port: s.port, username: s.username }).pipe(
            verifyHostKey(pinned(s.hostKey.fingerprint)),
            authenticate(password(s.password)),
            run('echo hello'),
          ),
        ),
        take(1),
      ),
    );
    expect(r.stdout).toBe('hello\n');
  });
});
