/**
 * Faults and hardened defaults against real OpenSSH sshd: weak algorithms refused unless asked
 * for, strict KEX, bit flips after the key exchange for each cipher/MAC, rekey under load,
 * partial-success auth, stderr after EOF, ignored stdin, server-side idle timeouts.
 */
import { readFileSync } from 'node:fs';
import { catchError, lastValueFrom, map, tap } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ExitStatusError,
  ProtocolError,
  SshError,
  authenticate,
  connect,
  password,
  privateKey,
  run,
  verifyHostKey,
  withConnection,
  type AuthEvent,
  type ConnectConfig,
} from '../../lib/index.js';
import type { Algorithms } from 'ssh2';
import { catRoundTrip, errorOf, sshd } from '../helpers/index.js';
import { faultProxy } from '../helpers/fault-proxy.js';
import { startSshd, type SshdInfo } from './sshd.js';

let s: SshdInfo;
beforeAll(() => {
  s = sshd();
});

const key = (info: SshdInfo) => readFileSync(info.keys['ed25519'] ?? '');
const login = (info: SshdInfo, extra: Partial<ConnectConfig> = {}) =>
  connect({ host: '127.0.0.1', port: info.port, username: info.username, ...extra }).pipe(verifyHostKey(() => true), authenticate(privateKey(key(info))));

async function withServer<T>(extra: string[], use: (info: SshdInfo) => Promise<T>): Promise<T> {
  const server = await startSshd({ account: s, extra });
  try {
    return await use(server.info);
  } finally {
    await server.stop();
  }
}

describe('hardened algorithm defaults', () => {
  it('an ssh-rsa (SHA-1) only host key is refused unless algorithmPolicy is compatible', async () => {
    await withServer(['HostKeyAlgorithms ssh-rsa'], async (info) => {
      const err = await errorOf(login(info).pipe(run('true')));
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).phase).toBe('kex');
      const ok = await lastValueFrom(login(info, { algorithmPolicy: 'compatible' }).pipe(run('echo legacy')));
      expect(ok.stdout).toBe('legacy\n');
    });
  });

  it('hmac-sha1 only is refused unless algorithmPolicy is compatible', async () => {
    await withServer(['Ciphers aes128-ctr', 'MACs hmac-sha1'], async (info) => {
      expect(await errorOf(login(info).pipe(run('true')))).toBeInstanceOf(ProtocolError);
      expect((await lastValueFrom(login(info, { algorithmPolicy: 'compatible' }).pipe(run('true')))).exitCode).toBe(0);
    });
  });

  it('appending to a category keeps its hardened removals (hmac: { append } still refuses hmac-sha1)', async () => {
    await withServer(['Ciphers aes128-ctr', 'MACs hmac-sha1'], async (info) => {
      const err = await errorOf(login(info, { algorithms: { hmac: { append: ['hmac-sha2-512'] } } }).pipe(run('true')));
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).phase).toBe('kex');
      // Naming the weak MAC yourself is a choice rxssh honours.
      const ok = await lastValueFrom(login(info, { algorithms: { hmac: { append: ['hmac-sha1'] } } }).pipe(run('true')));
      expect(ok.exitCode).toBe(0);
    });
  });

  it('requireStrictKex connects to OpenSSH (which does strict KEX)', async () => {
    const r = await lastValueFrom(login(s, { requireStrictKex: true }).pipe(run('echo strict')));
    expect(r.stdout).toBe('strict\n');
  });
});

describe('integrity: one flipped byte after the key exchange is never accepted', () => {
  const suites: Array<[string, Algorithms]> = [
    ['aes128-gcm@openssh.com', { cipher: ['aes128-gcm@openssh.com'] }],
    ['aes256-gcm@openssh.com', { cipher: ['aes256-gcm@openssh.com'] }],
    ['aes128-ctr + hmac-sha2-256', { cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256'] }],
    ['aes256-ctr + hmac-sha2-512-etm', { cipher: ['aes256-ctr'], hmac: ['hmac-sha2-512-etm@openssh.com'] }],
    ['chacha20-poly1305@openssh.com', { cipher: ['chacha20-poly1305@openssh.com'] }],
  ];
  it.each(suites)('%s', async (_name, algorithms) => {
    for (const offset of [2900, 2950, 3000, 3100, 3500, 4000, 5000, 8000, 20000, 60000]) {
      const proxy = await faultProxy({ host: '127.0.0.1', port: s.port }, { flipDownAt: offset });
      try {
        const outcome = await lastValueFrom(
          connect({ host: '127.0.0.1', port: proxy.port, username: s.username, algorithms, timeouts: { handshake: 5000, auth: 5000 } }).pipe(
            verifyHostKey(() => true),
            authenticate(privateKey(key(s))),
            run('head -c 100000 /dev/zero', { check: true }),
            map((r) => (r.stdout.length === 100000 && /^\0*$/.test(r.stdout) ? 'ok-intact' : 'ok-corrupt')),
          ),
        ).catch((err: unknown) => (err instanceof SshError ? 'typed-error' : `untyped ${String(err)}`));
        // A flip inside the encrypted stream must be detected (MAC/AEAD failure, bad length).
        expect(outcome, `offset ${offset}`).toBe('typed-error');
      } finally {
        proxy.close();
      }
    }
  });
});

describe('liveness and streams under sshd', () => {
  it('rekey under load (RekeyLimit 1M): 100 MiB through cat, hash-exact', async () => {
    await withServer(['RekeyLimit 1M'], async (info) => {
      const total = 100 * 1024 * 1024;
      const r = await catRoundTrip(login(info), total, 256 * 1024);
      expect(r.received).toBe(total);
      expect(r.gotHash).toBe(r.sentHash);
    });
  });

  it('partial success (AuthenticationMethods publickey,password) is reported, then the password completes it', async () => {
    await withServer(['AuthenticationMethods publickey,password'], async (info) => {
      const events: AuthEvent[] = [];
      const r = await lastValueFrom(
        connect({ host: '127.0.0.1', port: info.port, username: info.username }).pipe(
          verifyHostKey(() => true),
          tap((t) => t.auth$.subscribe((e) => events.push(e))),
          authenticate(privateKey(key(info)), password(info.password)),
          run('echo both'),
        ),
      );
      expect(r.stdout).toBe('both\n');
      const attempts = events.filter((e) => e.type === 'attempt');
      expect(attempts).toEqual([
        expect.objectContaining({ method: 'publickey', accepted: false, partialSuccess: true }),
        expect.objectContaining({ method: 'password', accepted: true }),
      ]);
    });
  });

  it('stderr written after stdout EOF is fully delivered', async () => {
    const r = await lastValueFrom(login(s).pipe(run('echo out; exec 1>&-; sleep 0.2; echo late >&2; echo later >&2')));
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(['out\n', 'late\nlater\n', 0]);
  });

  it('100 MiB to the stdin of a command that ignores it: exit 0, bounded memory', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const block = Buffer.alloc(1024 * 1024, 1);
    async function* stdin() {
      for (let i = 0; i < 100; i++) {
        peak = Math.max(peak, process.memoryUsage().rss);
        yield block;
      }
    }
    const r = await lastValueFrom(login(s).pipe(run('sleep 1; echo done', { stdin: stdin() })));
    expect([r.stdout, r.exitCode]).toEqual(['done\n', 0]);
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('sshd ChannelTimeout closes an idle exec channel: a typed "no exit status" outcome, the connection stays usable', async () => {
    await withServer(['ChannelTimeout session:command=1'], async (info) => {
      const outcome = await lastValueFrom(
        login(info).pipe(
          withConnection((c) =>
            c.exec('sleep 30', { stdin: [] }).pipe(
              map(() => 'data'),
              catchError((err: unknown) => c.run('echo still here').pipe(map((r) => ({ err, after: r.stdout })))),
            ),
          ),
        ),
      );
      const { err, after } = outcome as { err: ExitStatusError; after: string };
      expect(err).toBeInstanceOf(ExitStatusError);
      expect([err.exitCode, err.signal, err.phase]).toEqual([null, null, 'exec']);
      expect(after).toBe('still here\n');
    });
  });

  it('sshd UnusedConnectionTimeout closes an idle connection: the connection stage completes', async () => {
    await withServer(['UnusedConnectionTimeout 1'], async (info) => {
      const outcome = await new Promise<string>((resolve) => {
        login(info).subscribe({ error: (e: unknown) => resolve(`error ${String(e)}`), complete: () => resolve('complete') });
      });
      expect(outcome).toBe('complete');
    });
  });

});

