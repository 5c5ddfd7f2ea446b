/**
 * The core's user-visible behaviour against a real OpenSSH sshd (started by global-setup.ts on
 * a loopback port with a throwaway config). No fakes here: every outcome is OpenSSH's.
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, firstValueFrom, forkJoin, lastValueFrom, map, mergeMap, range, take, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectError,
  ConnectionLostError,
  ExitStatusError,
  HostKeyRejectedError,
  HostKeyRevokedError,
  TimeoutError,
  authenticate,
  connect,
  connectAlias,
  knownHostsName,
  decodeText,
  exec,
  password,
  pinned,
  privateKey,
  run,
  selectStream,
  shareConnection,
  splitLines,
  verifyHostKey,
  withConnection,
  type AuthEvent,
  type AuthProvider,
  type ChannelEvent,
  type HostKeyPolicy,
} from '../../lib/index.js';
import { main as catExample } from '../../examples/cat.js';
import { catRoundTrip, errorOf, eventually, expectNoLeaks, freeClosedPort, resources, sshd } from '../helpers/index.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
beforeAll(() => {
  s = sshd(); // fails every spec here, loudly, when there is no sshd
});

const key = (name: string) => readFileSync(s.keys[name] ?? '');
// This file's own source address: the suite's sshd serves other spec files at the same time,
// so its log is read for this address only.
const source = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 250)}`;
const hostKey$ = () => connect({ host: s.host, port: s.port, username: s.username, localAddress: source });
const pins = () => pinned(...Object.values(s.hostFingerprints));
const as = (...providers: AuthProvider[]) => hostKey$().pipe(verifyHostKey(pins()), authenticate(...providers));
const login = () => as(password(s.password));
const log = () => readFileSync(s.logFile, 'utf8');
const authLines = () => log().split('\n').filter((l) => /Accepted|Failed|Postponed|Invalid user/.test(l) && l.includes(`from ${source} `)).length;
const connections = () => log().split('\n').filter((l) => l.includes(`Connection from ${source} port `)).length;
const pgrep = (pattern: string) => {
  try {
    return execFileSync('pgrep', ['-u', s.username, '-f', pattern], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

describe('real sshd: host keys', () => {
  it('offers its ed25519 key, with the fingerprint ssh-keygen prints', async () => {
    const offer = await firstValueFrom(hostKey$());
    expect(offer.hostKey.type).toBe('ssh-ed25519');
    expect(offer.hostKey.fingerprint).toBe(s.hostFingerprints['ed25519']);
  });

  it('pinned key accepted → password auth → command', async () => {
    const r = await lastValueFrom(login().pipe(run('id -un')));
    expect(r.stdout).toBe(`${s.username}\n`);
  });

  it("run(cmd, { encoding: 'buffer' }) brings binary output back byte for byte (and stderr too)", async () => {
    const r = await lastValueFrom(login().pipe(run("printf '\\377\\376\\000\\001'; printf '\\200' >&2", { encoding: 'buffer' })));
    expect([...r.stdout]).toEqual([0xff, 0xfe, 0x00, 0x01]);
    expect([...r.stderr]).toEqual([0x80]);
    expect(r.exitCode).toBe(0);
  });

  it('a wrong pin is rejected and sshd never sees a USERAUTH request', async () => {
    const [before, connected] = [authLines(), connections()];
    const err = await errorOf(hostKey$().pipe(verifyHostKey(pinned(`SHA256:${'B'.repeat(43)}`)), authenticate(password(s.password))));
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect((err as HostKeyRejectedError).fingerprint).toBe(s.hostFingerprints['ed25519']);
    await new Promise((r) => setTimeout(r, 200));
    expect(connections()).toBe(connected + 1); // it reached sshd
    expect(authLines()).toBe(before);
  });

  it('an async verifier resolving false rejects', async () => {
    const policy: HostKeyPolicy = async () => false;
    const err = await errorOf(hostKey$().pipe(verifyHostKey(policy), authenticate(password(s.password))));
    expect(err).toBeInstanceOf(HostKeyRejectedError);
  });
});

describe('real sshd: user auth', () => {
  it.each(['ed25519', 'ecdsa', 'rsa'])('%s key', async (name) => {
    const events: AuthEvent[] = [];
    const r = await lastValueFrom(
      hostKey$().pipe(
        verifyHostKey(pins()),
        tap((t) => t.auth$.subscribe((e) => events.push(e))),
        authenticate(privateKey(key(name))),
        run('echo ok'),
      ),
    );
    expect(r.stdout).toBe('ok\n');
    expect(events).toContainEqual(expect.objectContaining({ type: 'attempt', method: 'publickey', accepted: true }));
  });

  it('rsa signs with rsa-sha2 (OpenSSH 9 refuses ssh-rsa/SHA-1 signatures by default)', async () => {
    await lastValueFrom(as(privateKey(key('rsa'))).pipe(run('true')));
    expect(log()).toMatch(new RegExp(`Accepted publickey for ${s.username} .* RSA SHA256:`));
  });

  it('encrypted key with its passphrase', async () => {
    const r = await lastValueFrom(as(privateKey(key('encrypted'), { passphrase: s.passphrase })).pipe(run('echo ok')));
    expect(r.stdout).toBe('ok\n');
  });

  it('wrong password → AuthenticationError with methods tried and left; then a key succeeds', async () => {
    const err = await errorOf(as(password('definitely wrong')));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).methodsTried).toEqual(['password']);
    expect((err as AuthenticationError).methodsLeft).toEqual(expect.arrayContaining(['publickey', 'password']));
    const events: AuthEvent[] = [];
    await lastValueFrom(
      hostKey$().pipe(
        verifyHostKey(pins()),
        tap((t) => t.auth$.subscribe((e) => events.push(e))),
        authenticate(password('wrong again'), privateKey(key('ed25519'))),
        run('true'),
      ),
    );
    expect(events.filter((e) => e.type === 'attempt').map((e) => e.type === 'attempt' && [e.method, e.accepted])).toEqual([
      ['password', false],
      ['publickey', true],
    ]);
  });
});

describe('real sshd: exec channels', () => {
  it("the tutorial's cat example runs against sshd", async () => {
    const out = await lastValueFrom(
      catExample(['--host', s.host, '--port', String(s.port), '--user', s.username, '--key', s.keys['ed25519'] ?? '', '--fingerprint', s.hostFingerprints['ed25519'] ?? '']),
    );
    expect(out).toBe('This data will be echoed back to us by "cat."\r\n');
  });

  it('64 MiB round trip through cat, hash-exact, with stdin backpressure', async () => {
    const baseline = resources();
    const total = 64 * 1024 * 1024;
    const r = await catRoundTrip(login(), total, 128 * 1024);
    expect(r.received).toBe(total);
    expect(r.gotHash).toBe(r.sentHash);
    expect(r.maxAhead).toBeLessThan(16 * 1024 * 1024);
    await expectNoLeaks(baseline);
  });

  it('stdout, stderr and exit codes', async () => {
    const r = await lastValueFrom(login().pipe(run('echo out; echo err >&2; exit 3')));
    expect([r.stdout, r.stderr, r.exitCode, r.signal]).toEqual(['out\n', 'err\n', 3, null]);
    const err = await errorOf(login().pipe(exec('echo boom >&2; exit 2')));
    expect(err).toBeInstanceOf(ExitStatusError);
    expect([(err as ExitStatusError).exitCode, (err as ExitStatusError).stderrTail]).toEqual([2, 'boom\n']);
  });

  it('exit by signal', async () => {
    const r = await lastValueFrom(login().pipe(run('kill -TERM $$')));
    expect([r.exitCode, r.signal]).toEqual([null, 'TERM']);
    const err = await errorOf(login().pipe(exec('kill -KILL $$')));
    expect((err as ExitStatusError).signal).toBe('KILL');
  });

  it('unsubscribe mid-`sleep 60` kills the remote process (after EOF, and before it) and leaves no handles', async () => {
    const baseline = resources();
    for (const stdin of [undefined, NEVER]) {
      const tag = `60.${randomInt(100000, 999999)}`;
      const sub = login()
        .pipe(exec(`sleep ${tag}`, stdin ? { stdin } : {}))
        .subscribe({ error: () => undefined });
      expect(await eventually(() => pgrep(`sleep ${tag}`) !== '', 10_000)).toBe(true);
      sub.unsubscribe();
      expect(await eventually(() => pgrep(`sleep ${tag}`) === '', 10_000)).toBe(true);
    }
    await expectNoLeaks(baseline);
  });

  it("run()'s options in a pipeline: cwd, stdin as text, a timeout and an AbortSignal each stop the remote command", async () => {
    expect((await lastValueFrom(login().pipe(run('pwd', { cwd: '/tmp' })))).stdout).toBe('/tmp\n');
    const quoted = await lastValueFrom(login().pipe(run('pwd', { cwd: "/tmp/it's not there" })));
    expect(quoted.exitCode).not.toBe(0);
    expect(quoted.stderr).toContain("it's not there");
    expect((await lastValueFrom(login().pipe(run('wc -c', { stdin: 'twelve bytes' })))).stdout.trim()).toBe('12');
    const slow = `60.${randomInt(100000, 999999)}`;
    const timedOut = await errorOf(login().pipe(run(`sleep ${slow}`, { timeout: 500 })));
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect(await eventually(() => pgrep(`sleep ${slow}`) === '', 10_000)).toBe(true);
    const aborted = `60.${randomInt(100000, 999999)}`;
    const abort = new AbortController();
    const run$ = lastValueFrom(login().pipe(run(`sleep ${aborted}`, { signal: abort.signal })));
    expect(await eventually(() => pgrep(`sleep ${aborted}`) !== '', 10_000)).toBe(true);
    abort.abort(new Error('operator said stop'));
    await expect(run$).rejects.toThrow('operator said stop');
    expect(await eventually(() => pgrep(`sleep ${aborted}`) === '', 10_000)).toBe(true);
  });

  it('20 concurrent execs on one connection (sshd MaxSessions 10)', async () => {
    const results = await lastValueFrom(
      login().pipe(withConnection((c) => range(0, 20).pipe(mergeMap((i) => c.run(`echo ${i}; sleep 0.2`)), toArray()))),
    );
    expect(results.map((r) => Number(r.stdout)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
  });

  it('channel$ reports opens and closes; a shared connection serves two pipelines', async () => {
    const events: ChannelEvent[] = [];
    const before = authLines();
    const connection$ = login().pipe(
      tap((c) => c.channel$.subscribe((e) => events.push(e))),
      shareConnection(),
    );
    const [a, b] = await lastValueFrom(forkJoin([connection$.pipe(run('echo a')), connection$.pipe(run('echo b'))]));
    expect([a.stdout, b.stdout]).toEqual(['a\n', 'b\n']);
    expect(authLines() - before).toBe(1); // one connection, one login
    expect(events.filter((e) => e.type === 'open')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'close')).toHaveLength(2);
  });

  it('the server killing the connection mid-exec: bytes delivered, then ConnectionLostError', async () => {
    let firstLine = '';
    let received = 0;
    const err = await errorOf(
      login().pipe(
        exec('echo $PPID; exec yes'),
        selectStream('stdout'),
        tap((data) => {
          received += data.length;
          if (!firstLine) {
            firstLine = data.toString().split('\n')[0] ?? '';
            execFileSync('kill', ['-KILL', firstLine]); // the sshd process serving this session
          }
        }),
      ),
    );
    expect(Number(firstLine)).toBeGreaterThan(1);
    expect(received).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(ConnectionLostError);
  });

  it('env (AcceptEnv RXSSH_*) and pty', async () => {
    const r = await lastValueFrom(login().pipe(run('echo $RXSSH_GREETING', { env: { RXSSH_GREETING: 'hello' } })));
    expect(r.stdout).toBe('hello\n');
    const tty = await lastValueFrom(login().pipe(run('tty', { pty: { rows: 40, cols: 100 } })));
    expect(tty.stdout).toMatch(/^\/dev\/pts\/\d+/);
  });

  it('yes | take(2000) → exactly 2000 lines, then the remote yes is gone', async () => {
    const tag = `${randomInt(100000, 999999)}`;
    const taken = await lastValueFrom(
      login().pipe(exec(`exec yes ${tag}`), selectStream('stdout'), decodeText(), splitLines(), take(2000), toArray()),
    );
    expect(taken).toHaveLength(2000);
    expect(new Set(taken)).toEqual(new Set([tag]));
    expect(await eventually(() => pgrep(`yes ${tag}`) === '', 10_000)).toBe(true);
  });

  it('shell and subsystem channels: a non-pty shell and the sftp subsystem', async () => {
    const out = await lastValueFrom(
      login().pipe(
        withConnection((c) => {
          const sh = c.shell({ pty: false, check: false });
          sh.next('echo from the shell; exit 0\n');
          sh.complete();
          const sftp = c.subsystem('sftp');
          // SSH_FXP_INIT, version 3; the server answers SSH_FXP_VERSION (type 2).
          sftp.next(Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]));
          return forkJoin([
            sh.pipe(selectStream('stdout'), decodeText(), toArray()),
            new Promise<number>((resolve) => {
              const sub = sftp.subscribe((chunk) => {
                resolve(chunk.data[4] ?? -1);
                sub.unsubscribe();
              });
            }),
          ]);
        }),
      ),
    );
    expect(out[0].join('')).toBe('from the shell\n');
    expect(out[1]).toBe(2);
  });

  it('for await over 256 MiB from sshd with a slow consumer: bounded memory, every byte', async () => {
    const total = 256 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    let received = 0;
    let nonZero = 0;
    let chunks = 0;
    await lastValueFrom(
      login().pipe(
        withConnection((c) =>
          (async () => {
            for await (const { data } of c.exec(`head -c ${total} /dev/zero`, { stdin: [] })) {
              received += data.length;
              for (let i = 0; i < data.length; i += 4096) nonZero += data[i] ?? 1;
              if (++chunks % 8 === 0) {
                peak = Math.max(peak, process.memoryUsage().rss);
                await new Promise((r) => setTimeout(r, 1));
              }
            }
          })(),
        ),
      ),
      { defaultValue: undefined },
    );
    expect(received).toBe(total);
    expect(nonZero).toBe(0);
    expect(peak - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('a pty shell follows resize(): stty size reports the new size', async () => {
    const sizes = await lastValueFrom(
      login().pipe(
        withConnection((c) => {
          const sh = c.shell({ pty: { rows: 30, cols: 100 }, check: false });
          const lines = sh.pipe(selectStream('stdout'), decodeText(), splitLines());
          setTimeout(() => sh.next('stty size\n'), 200);
          setTimeout(() => sh.resize({ rows: 50, cols: 132 }), 400);
          setTimeout(() => sh.next('stty size; exit\n'), 600);
          return lines;
        }),
        map((line) => line.trim()),
        toArray(),
      ),
    );
    expect(sizes).toContain('30 100');
    expect(sizes).toContain('50 132');
  });

  it('connection refused → ConnectError', async () => {
    const port = await freeClosedPort();
    const err = await errorOf(connect({ host: '127.0.0.1', port, username: s.username }));
    expect(err).toBeInstanceOf(ConnectError);
  });
});


describe('exit status after the output ended (issue 21)', () => {
  it('a command that closes its output and exits later: rxssh reports its status, as ssh does', async () => {
    const command = 'echo early; exec >&- 2>&-; sleep 1; exit 7';
    const r = await lastValueFrom(as(privateKey(key('ed25519'))).pipe(run(command)));
    expect(r).toMatchObject({ stdout: 'early\n', exitCode: 7 });
    let sshCode = 0;
    try {
      execFileSync('ssh', ['-F', '/dev/null', '-p', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${s.username}@${s.host}`, command], { stdio: 'pipe' });
    } catch (err) {
      sshCode = (err as { status: number }).status;
    }
    expect(sshCode).toBe(7);
  });
});

describe('ssh_config keywords honoured against sshd, beside ssh (issue 21)', () => {
  it('SetEnv/SendEnv reach the command and GlobalKnownHostsFile is trusted, as with ssh -F', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-cfg-'));
    const known = join(dir, 'global_known');
    writeFileSync(known, `${knownHostsName(s.host, s.port)} ${hostKeyLine(s.dir)}\n`);
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'Host target',
        `  HostName ${s.host}`,
        `  Port ${s.port}`,
        `  User ${s.username}`,
        `  IdentityFile ${s.keys['ed25519']}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        '  UserKnownHostsFile /dev/null',
        `  GlobalKnownHostsFile ${known}`,
        '  StrictHostKeyChecking yes',
        '  SetEnv RXSSH_SET="set by config"',
        '  SendEnv RXSSH_SENT',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const command = 'echo "$RXSSH_SET|$RXSSH_SENT"';
    process.env['RXSSH_SENT'] = 'sent from here';
    try {
      const r = await lastValueFrom(connectAlias('target', { file, home: dir }).pipe(run(command)));
      const theirs = execFileSync('ssh', ['-F', file, '-o', 'BatchMode=yes', 'target', command], { encoding: 'utf8', env: process.env });
      expect(r.stdout).toBe('set by config|sent from here\n');
      expect(r.stdout).toBe(theirs);
    } finally {
      delete process.env['RXSSH_SENT'];
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RevokedHostKeys against sshd, beside ssh (issue 21 #3)', () => {
  it('a KRL and a key list that revoke the host key refuse it like ssh; one that does not, connects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-krl-sshd-'));
    try {
      const known = join(dir, 'known_hosts');
      writeFileSync(known, `${knownHostsName(s.host, s.port)} ${hostKeyLine(s.dir)}\n`);
      const krl = join(dir, 'revoked.krl');
      execFileSync('ssh-keygen', ['-q', '-k', '-f', krl, join(s.dir, 'host_ed25519.pub')]);
      const list = join(dir, 'revoked.pub');
      writeFileSync(list, readFileSync(join(s.dir, 'host_ed25519.pub')));
      const other = join(dir, 'other.krl');
      execFileSync('ssh-keygen', ['-q', '-k', '-f', other, join(s.dir, 'host_rsa.pub')]);
      const configFor = (revoked: string): string => {
        const file = join(dir, `config-${revoked.split('/').pop()}`);
        writeFileSync(file, ['Host target', `  HostName ${s.host}`, `  Port ${s.port}`, `  User ${s.username}`, `  IdentityFile ${s.keys['ed25519']}`, '  IdentitiesOnly yes', '  IdentityAgent none', `  UserKnownHostsFile ${known}`, '  GlobalKnownHostsFile /dev/null', '  StrictHostKeyChecking yes', `  RevokedHostKeys ${revoked}`, ''].join('\n'));
        return file;
      };
      const sshSays = (file: string): number => {
        try {
          execFileSync('ssh', ['-F', file, '-o', 'BatchMode=yes', '-o', 'HostKeyAlgorithms=ssh-ed25519', 'target', 'true'], { stdio: 'pipe' });
          return 0;
        } catch (err) {
          return (err as { status: number }).status;
        }
      };
      for (const revoked of [krl, list]) {
        const file = configFor(revoked);
        const err = await errorOf(connectAlias('target', { file, home: dir }).pipe(run('true')));
        expect(err, revoked).toBeInstanceOf(HostKeyRevokedError);
        expect((err as Error).message).toContain(revoked);
        expect(sshSays(file), revoked).toBe(255);
      }
      const fine = configFor(other);
      expect((await lastValueFrom(connectAlias('target', { file: fine, home: dir }).pipe(run('echo in')))).stdout).toBe('in\n');
      expect(sshSays(fine)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
