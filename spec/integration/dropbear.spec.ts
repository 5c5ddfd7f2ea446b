/**
 * Interop with Dropbear (Debian dropbear-bin), started on loopback by this spec: host-key pin,
 * key and password auth, a hash-exact `cat` round trip, exit status, cancel and SFTP. Differences
 * from OpenSSH are documented in docs/reliability.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, SFTP_STATUS, SftpError, authenticate, connect, exec, password, pinned, privateKey, run, sha256Fingerprint, verifyHostKey, withConnection } from '../../lib/index.js';
import { catRoundTrip, errorOf, eventually, sshd } from '../helpers/index.js';
import { freePort, type SshdInfo } from './sshd.js';

const DROPBEAR = '/usr/sbin/dropbear';
let s: SshdInfo;
let child: ChildProcess | undefined;
let port = 0;
let fingerprint = '';

beforeAll(async () => {
  s = sshd(); // the account, its password and keys come from the sshd setup
  if (!existsSync(DROPBEAR)) throw new Error(`${DROPBEAR} is missing: apt-get install -y dropbear-bin`);
  const dir = mkdtempSync(join(tmpdir(), 'rxssh-dropbear-'));
  const hostKey = join(dir, 'host_ed25519');
  execFileSync('dropbearkey', ['-t', 'ed25519', '-f', hostKey], { stdio: 'ignore' });
  const pub = execFileSync('dropbearkey', ['-y', '-f', hostKey], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('ssh-ed25519 ')) ?? '';
  fingerprint = sha256Fingerprint(Buffer.from(pub.split(' ')[1] ?? '', 'base64'));
  // Dropbear reads ~/.ssh/authorized_keys of the (throwaway) test account.
  const home = execFileSync('getent', ['passwd', s.username], { encoding: 'utf8' }).split(':')[5] ?? '';
  const { uid, gid } = { uid: Number(execFileSync('id', ['-u', s.username], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', s.username], { encoding: 'utf8' })) };
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'authorized_keys'), `${readFileSync(`${s.keys['ed25519']}.pub`, 'utf8')}`, { mode: 0o600 });
  chownSync(join(home, '.ssh'), uid, gid);
  chownSync(join(home, '.ssh', 'authorized_keys'), uid, gid);
  chmodSync(join(home, '.ssh'), 0o700);
  port = await freePort();
  child = spawn(DROPBEAR, ['-F', '-E', '-p', `127.0.0.1:${port}`, '-r', hostKey, '-P', join(dir, 'pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', () => undefined);
  const banner = () =>
    new Promise<boolean>((resolve) => {
      const sock = tcpConnect({ host: '127.0.0.1', port });
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      sock.once('error', () => resolve(false));
    });
  expect(await eventually(banner, 10_000), 'dropbear answers').toBe(true);
});

afterAll(() => {
  child?.kill();
});

const target = () => connect({ host: '127.0.0.1', port, username: s.username });
const ps = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });

describe('Dropbear interop', () => {
  it('pinned host key + public key auth + exit status', async () => {
    const r = await lastValueFrom(target().pipe(verifyHostKey(pinned(fingerprint)), authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))), run('echo dropbear; exit 3')));
    expect([r.stdout, r.exitCode]).toEqual(['dropbear\n', 3]);
  });

  it('password auth; a wrong password is an AuthenticationError', async () => {
    const r = await lastValueFrom(target().pipe(verifyHostKey(pinned(fingerprint)), authenticate(password(s.password)), run('id -un')));
    expect(r.stdout).toBe(`${s.username}\n`);
    expect(await errorOf(target().pipe(verifyHostKey(pinned(fingerprint)), authenticate(password('nope'))))).toBeInstanceOf(AuthenticationError);
  });

  it('32 MiB through cat, hash-exact (Dropbear\'s 24 KiB default window)', async () => {
    const total = 512 * 64 * 1024;
    const r = await catRoundTrip(target().pipe(verifyHostKey(pinned(fingerprint)), authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? '')))), total, 64 * 1024);
    expect(r.received).toBe(total);
    expect(r.gotHash).toBe(r.sentHash);
  });

  it('unsubscribe mid-command with a pty stops the remote process (Dropbear hangs it up)', async () => {
    const tag = `sleep 60.${Date.now() % 100000}`;
    const sub = target()
      .pipe(verifyHostKey(pinned(fingerprint)), authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))), exec(tag, { pty: true }))
      .subscribe({ error: () => undefined });
    expect(await eventually(() => ps().includes(tag), 10_000), 'started').toBe(true);
    sub.unsubscribe();
    expect(await eventually(() => !ps().includes(tag), 5_000), 'stopped').toBe(true);
  });

  it('documented difference: without a pty, Dropbear 2022.83 ignores the signal request and the command survives', async () => {
    const tag = `sleep 60.${Date.now() % 100000}`;
    const sub = target()
      .pipe(verifyHostKey(pinned(fingerprint)), authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))), exec(tag, { stdin: NEVER }))
      .subscribe({ error: () => undefined });
    expect(await eventually(() => ps().includes(tag), 10_000), 'started').toBe(true);
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 1500));
    const survived = ps().includes(tag);
    execFileSync('pkill', ['-f', tag]);
    // If this starts failing, Dropbear honours signals now: update docs/interop.md.
    expect(survived).toBe(true);
  });
});

describe('SFTP on Dropbear (it runs OpenSSH\'s sftp-server as its subsystem)', () => {
  it('16 MiB upload and download hash-exact, stat, readdir, and a missing path as SftpError', async () => {
    const local = mkdtempSync(join(tmpdir(), 'rxssh-dbsftp-'));
    chmodSync(local, 0o755);
    const src = join(local, 'up.bin');
    writeFileSync(src, randomBytes(16 * 1024 * 1024));
    const back = join(local, 'back.bin');
    const remoteDir = `dropbear-sftp-${process.pid}`;
    const result = await lastValueFrom(
      target().pipe(
        verifyHostKey(pinned(fingerprint)),
        authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
        withConnection((c) =>
          c.withSftp((sftp) =>
            from(
              (async () => {
                await lastValueFrom(sftp.mkdir(remoteDir, { recursive: true }), { defaultValue: undefined });
                await lastValueFrom(sftp.upload(src, `${remoteDir}/f.bin`), { defaultValue: undefined });
                const size = (await lastValueFrom(sftp.stat(`${remoteDir}/f.bin`))).size;
                await lastValueFrom(sftp.download(`${remoteDir}/f.bin`, back), { defaultValue: undefined });
                const names = (await lastValueFrom(sftp.readdir(remoteDir).pipe(toArray()))).map((e) => e.name);
                const missing = await lastValueFrom(sftp.stat(`${remoteDir}/nope`)).catch((e: unknown) => e);
                const usable = (await lastValueFrom(sftp.stat(remoteDir))).isDirectory;
                await lastValueFrom(sftp.rm(remoteDir, { recursive: true }), { defaultValue: undefined });
                return { size, names, missing, usable };
              })(),
            ),
          ),
        ),
      ),
    );
    const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(result.size).toBe(16 * 1024 * 1024);
    expect(hash(back)).toBe(hash(src));
    expect(result.names).toEqual(['f.bin']);
    expect(result.missing).toBeInstanceOf(SftpError);
    expect((result.missing as SftpError).status).toBe(SFTP_STATUS.NO_SUCH_FILE);
    expect(result.usable).toBe(true);
  });
});
