/**
 * become (sudo, su) against the suite's real sshd and Debian's real sudo: the test account gets a
 * password-required sudoers rule of its own (removed afterwards); the password is the account's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BecomeError, ExitStatusError, authenticate, connect, exec, knownHosts, knownHostsName, privateKey, run, verifyHostKey, withConnection } from '../../lib/index.js';
import { fanOut } from '../../lib/fleet/index.js';
import { errorOf, sshd } from '../helpers/index.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let sudoers: string;
let work: string;
let kh: string;

beforeAll(() => {
  s = sshd();
  if (!spawnSync('sh', ['-c', 'command -v sudo']).stdout.length) throw new Error('sudo is missing: install it (apt-get install -y sudo)');
  // A rule of this run's own account only: other runs on the machine have other accounts.
  sudoers = `/etc/sudoers.d/${s.username}-become`;
  writeFileSync(sudoers, `${s.username} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
  execFileSync('visudo', ['-cf', sudoers], { stdio: 'pipe' });
  work = mkdtempSync(join(tmpdir(), 'rxssh-become-'));
  chmodSync(work, 0o755);
  kh = join(work, 'known_hosts');
  writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n`);
});
afterAll(() => {
  if (sudoers) rmSync(sudoers, { force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

const connection$ = () =>
  connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(verifyHostKey(knownHosts({ files: [kh] })), authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))));

describe('run and exec as another user (sudo)', () => {
  it("runs as root with the account's password: the command's output, stdin and exit status, no marker left", async () => {
    const become = { password: s.password };
    const r = await lastValueFrom(connection$().pipe(run('id -un; echo to-stderr >&2; cat; exit 3', { become, stdin: 'from stdin\n' })));
    expect(r).toMatchObject({ command: 'id -un; echo to-stderr >&2; cat; exit 3', stdout: 'root\nfrom stdin\n', stderr: 'to-stderr\n', exitCode: 3 });
    const err = await errorOf(connection$().pipe(exec('exit 4', { become })));
    expect(err).toBeInstanceOf(ExitStatusError);
    expect(err).toMatchObject({ command: 'exit 4', exitCode: 4 });
    const asOther = await lastValueFrom(connection$().pipe(run('id -un', { become: { ...become, user: 'nobody' } })));
    expect(asOther.stdout).toBe('nobody\n');
  });

  it('works on a pseudo-terminal too (sudo prompts on the terminal, echo off: the password never shows)', async () => {
    const r = await lastValueFrom(connection$().pipe(run('id -un; tty >/dev/null && echo on-a-tty', { become: { password: s.password }, pty: true })));
    expect(r.stdout.replace(/\r/g, '')).toBe('root\non-a-tty\n');
    expect(r.stdout).not.toContain(s.password);
  });

  it('a wrong password is BecomeError (incorrect-password) within 5 s; none at all is password-required at once', async () => {
    const t0 = Date.now();
    const wrong = await errorOf(connection$().pipe(run('true', { become: { password: 'not-the-password' } })));
    expect(wrong).toBeInstanceOf(BecomeError);
    expect(wrong).toMatchObject({ reason: 'incorrect-password', method: 'sudo', user: 'root', port: s.port });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(String((wrong as BecomeError).message)).not.toContain('not-the-password');
    const none = await errorOf(connection$().pipe(run('true', { become: {} })));
    expect(none).toMatchObject({ reason: 'password-required' });
  });

  it('su (on a pseudo-terminal, as su needs): to the account itself with its password', async () => {
    const r = await lastValueFrom(connection$().pipe(run('id -un', { become: { method: 'su', user: s.username, password: s.password } })));
    expect(r.stdout.replace(/\r/g, '').trim()).toBe(s.username);
    const wrong = await errorOf(connection$().pipe(run('id -un', { become: { method: 'su', user: s.username, password: 'nope' } })));
    expect(wrong).toBeInstanceOf(BecomeError);
  });

  it('120 hosts with one password: every one root; ps sampled meanwhile never shows the password', async () => {
    let seen = false;
    const sampler = setInterval(() => {
      if (execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(s.password)) seen = true;
    }, 50);
    try {
      const targets = Array.from({ length: 120 }, (_, i) => ({ host: '127.0.0.1', port: s.port, label: `h${i}` }));
      const results = await lastValueFrom(fanOut(targets, () => connection$().pipe(run('id -un', { become: { password: s.password } })), { concurrency: 24 }).pipe(toArray()));
      expect(results.filter((r) => r.status === 'ok' && r.stdout === 'root\n')).toHaveLength(120);
    } finally {
      clearInterval(sampler);
    }
    expect(seen).toBe(false);
  });
});

describe('the CLI: --sudo, one password for the whole run', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '', ...env }, timeout: 120_000 });
  const hosts = (n = 100) => Array.from({ length: n }, () => ['-H', `127.0.0.1:${s.port}`]).flat();
  const common = () => ['-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', kh];

  it('run --sudo --ask-become-pass: asked once (through SSH_ASKPASS) for 100 hosts, each runs as root; --workers 2 the same', () => {
    const askpass = join(work, 'askpass.sh');
    const asked = join(work, 'asked.log');
    writeFileSync(askpass, `#!/bin/sh\necho "$1" >> '${asked}'\necho "$RXSSH_BECOME_PW"\n`, { mode: 0o755 });
    const env = { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', RXSSH_BECOME_PW: s.password };
    for (const extra of [[], ['--workers', '2']]) {
      rmSync(asked, { force: true });
      const r = cli(['run', '--json', '--sudo', '--ask-become-pass', ...extra, ...hosts(), ...common(), '--', 'id -un'], env);
      expect(r.status, r.stderr).toBe(0);
      const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stdout?: string }).filter((e) => e.type === 'result');
      expect(results.map((e) => e.stdout)).toEqual(Array(100).fill('root\n'));
      expect(readFileSync(asked, 'utf8')).toBe('BECOME password: \n'); // one question for the run
      expect(r.stdout + r.stderr).not.toContain(s.password);
    }
  });

  it('a wrong password fails every host typed, fast; exec --sudo runs as root and refuses a shell', () => {
    const t0 = Date.now();
    const wrong = cli(['run', '--become-password-env', 'PW', '--sudo', ...hosts(20), ...common(), '-v', '--', 'true'], { PW: 'wrong-password' });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout.match(/\[FAILURE\].*sudo to root: the password was not accepted/g)).toHaveLength(20);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-password');
    const none = cli(['run', '--sudo', ...hosts(1), ...common(), '--', 'true']);
    expect(none.stdout).toMatch(/a password is required but none was given/);
    const ok = cli(['exec', '--sudo', '--sudo-user', 'nobody', '--become-password-env', 'PW', '-p', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${kh}`, `${s.username}@127.0.0.1`, 'id -un; exit 7'], { PW: s.password });
    expect(ok.stdout).toBe('nobody\n');
    expect(ok.status).toBe(7); // the command's exit status, not sudo's
    // With a pseudo-terminal (-tt: the session path rxssh exec takes for a terminal) the same.
    const onPty = cli(['exec', '-tt', '-q', '--sudo', '--sudo-user', 'nobody', '--become-password-env', 'PW', '-p', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${kh}`, `${s.username}@127.0.0.1`, 'id -un; exit 7'], { PW: s.password });
    expect(onPty.stdout.replace(/\r/g, '')).toBe('nobody\n');
    expect(onPty.status).toBe(7);
    expect(onPty.stdout + onPty.stderr).not.toContain(s.password);
    const shell = cli(['exec', '--sudo', '-p', String(s.port), `${s.username}@127.0.0.1`]);
    expect(shell.status).toBe(2);
    expect(shell.stderr).toMatch(/--sudo needs a command/);
  });
});

describe('SFTP as another user (put/get --sudo)', () => {
  it('connection.sftp({ become }) writes a root-owned 0600 file and reads a root-only one; a wrong password is a BecomeError', async () => {
    const target = `/root/rxssh-${s.username}.conf`;
    rmSync(target, { force: true });
    try {
      await lastValueFrom(
        connection$().pipe(
          withConnection((c) => c.withSftp((sftp) => sftp.writeFile(target, 'secret=1\n', { mode: 0o600 }), { become: { password: s.password } })),
        ),
        { defaultValue: undefined },
      );
      const st = execFileSync('stat', ['-c', '%U %a', target], { encoding: 'utf8' }).trim();
      expect(st).toBe('root 600');
      expect(readFileSync(target, 'utf8')).toBe('secret=1\n');
      const back = await lastValueFrom(connection$().pipe(withConnection((c) => c.withSftp((sftp) => sftp.readFile(target), { become: { password: s.password } }))));
      expect(Buffer.from(back as Uint8Array).toString()).toBe('secret=1\n');
      const wrong = await errorOf(connection$().pipe(withConnection((c) => c.sftp({ become: { password: 'bad-password' } }))));
      expect(wrong).toBeInstanceOf(BecomeError);
      expect(wrong).toMatchObject({ reason: 'incorrect-password' });
    } finally {
      rmSync(target, { force: true });
    }
  });

  it('rxssh put --sudo -a: a 0600 local file becomes a root-owned 0600 file; get --sudo reads it back', () => {
    const local = join(work, 'app.conf');
    writeFileSync(local, 'token=abc\n', { mode: 0o600 });
    chmodSync(local, 0o600);
    const dest = `/root/rxssh-put-${s.username}.conf`;
    rmSync(dest, { force: true });
    try {
      const env = { ...process.env, SSH_AUTH_SOCK: '', PW: s.password };
      const args = ['-H', `127.0.0.1:${s.port}`, '-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', kh, '--sudo', '--become-password-env', 'PW'];
      const put = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'put', '-a', ...args, local, dest], { encoding: 'utf8', env });
      expect(put.status, put.stdout + put.stderr).toBe(0);
      expect(execFileSync('stat', ['-c', '%U %a', dest], { encoding: 'utf8' }).trim()).toBe('root 600');
      const into = join(work, 'got');
      const get = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'get', ...args, dest, into], { encoding: 'utf8', env });
      expect(get.status, get.stdout + get.stderr).toBe(0);
      const fetched = execFileSync('find', [into, '-type', 'f'], { encoding: 'utf8' }).trim();
      expect(readFileSync(fetched, 'utf8')).toBe('token=abc\n');
    } finally {
      rmSync(dest, { force: true });
    }
  });
});

describe('doas (OpenBSD doas, Debian opendoas)', () => {
  /** This run's own `permit` line in /etc/doas.conf (doas reads no other file): added and removed under a lock, other lines kept. */
  const editDoasConf = (add: boolean) =>
    execFileSync('flock', ['/run/rxssh-doas.lock', 'sh', '-c', 'f=/etc/doas.conf; t=$f.rxssh-$$; { [ -f $f ] && grep -vxF "$RULE" $f; [ "$ADD" = 1 ] && echo "$RULE"; } > $t; chmod 600 $t; mv $t $f'], {
      env: { ...process.env, RULE: rule(), ADD: add ? '1' : '0' },
    });
  const rule = () => `permit ${s.username} as root`;
  beforeAll(() => {
    if (!spawnSync('sh', ['-c', 'command -v doas']).stdout.length) throw new Error('doas is missing: install it (apt-get install -y opendoas)');
    editDoasConf(true);
  });
  afterAll(() => editDoasConf(false));

  it('runs as root on a pseudo-terminal with the password; a wrong one is incorrect-password, none is password-required', async () => {
    const r = await lastValueFrom(connection$().pipe(run('id -un', { become: { method: 'doas', password: s.password } })));
    expect(r.stdout.replace(/\r/g, '').trim()).toBe('root');
    expect(r.stdout).not.toContain(s.password);
    const wrong = await errorOf(connection$().pipe(run('id -un', { become: { method: 'doas', password: 'wrong-one' } })));
    expect(wrong).toBeInstanceOf(BecomeError);
    expect(wrong).toMatchObject({ reason: 'incorrect-password', method: 'doas' });
    const none = await errorOf(connection$().pipe(run('id -un', { become: { method: 'doas' } })));
    expect(none).toMatchObject({ reason: 'password-required' });
  });
});
