/**
 * File modes survive `put` and `get` as they do with OpenSSH's `sftp` (run beside rxssh on the
 * same sshd): a 0600 secret stays 0600, a 0755 script keeps +x, setuid is never copied; an
 * existing file keeps its mode unless `-a`. Through the CLI, the library and the handle.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, connect, knownHosts, knownHostsName, openConnection, privateKey, verifyHostKey } from '../../lib/index.js';
import { sshd } from '../helpers/index.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let work: string;
let knownHostsFile: string;
let uid: number;
beforeAll(() => {
  s = sshd();
  work = mkdtempSync(join(tmpdir(), 'rxssh-modes-'));
  chmodSync(work, 0o755);
  knownHostsFile = join(work, 'known_hosts');
  writeFileSync(knownHostsFile, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n`);
  uid = Number(execFileSync('id', ['-u', s.username], { encoding: 'utf8' }).trim());
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mode = (file: string): number => statSync(file).mode & 0o7777;
const remoteName = (tag: string): string => `${s.home}/modes-${tag}-${randomBytes(4).toString('hex')}`;
/** `rxssh put|get [-a] FROM TO` against the sshd; throws (with its output) unless it exits 0. */
const cli = (which: 'put' | 'get', args: string[]): void => {
  const options = ['-H', `127.0.0.1:${s.port}`, '-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile];
  execFileSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', which, ...options, ...args], { stdio: 'pipe' });
};
/** OpenSSH's sftp, in batch mode, with the same key and known_hosts. */
const sftp = (batch: string): void => {
  execFileSync('sftp', ['-q', '-b', '-', '-P', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `${s.username}@127.0.0.1`], { input: batch, stdio: ['pipe', 'pipe', 'pipe'] });
};
/** A local file with `bits`, its content random. */
const local = (bits: number): string => {
  const file = join(work, `src-${bits.toString(8)}-${randomBytes(3).toString('hex')}`);
  writeFileSync(file, randomBytes(1000));
  chmodSync(file, bits);
  return file;
};
/** A remote file (owned by the test account) with `bits`. */
const remoteFile = (bits: number): string => {
  const file = remoteName(`r${bits.toString(8)}`);
  writeFileSync(file, randomBytes(1000));
  chownSync(file, uid, -1);
  chmodSync(file, bits);
  return file;
};

describe('put keeps the permission bits as sftp put does (real sshd)', () => {
  it.each(['0600', '0755', '0640', '4755'])('a new remote file from a %s source', (octal) => {
    const bits = parseInt(octal, 8);
    const src = local(bits);
    const [ours, theirs] = [remoteName('ours'), remoteName('theirs')];
    cli('put', [src, ours]);
    sftp(`put ${src} ${theirs}\n`);
    expect(mode(ours).toString(8)).toBe(mode(theirs).toString(8));
    expect(mode(ours)).toBe(bits & 0o777);
    expect(readFileSync(ours)).toEqual(readFileSync(src));
  });

  it('an existing remote file keeps its mode without -a, and takes the source mode with -a', () => {
    const src = local(0o700);
    const [ours, theirs] = [remoteFile(0o640), remoteFile(0o640)];
    cli('put', [src, ours]);
    sftp(`put ${src} ${theirs}\n`);
    expect(mode(ours)).toBe(mode(theirs));
    expect(mode(ours)).toBe(0o640);
    cli('put', ['-a', src, ours]);
    sftp(`put -p ${src} ${theirs}\n`);
    expect(mode(ours)).toBe(mode(theirs));
    expect(mode(ours)).toBe(0o700);
  });

  it('putFile and getFile of the handle do the same', async () => {
    const src = local(0o750);
    const remote = remoteName('handle');
    await using ssh = await openConnection(
      connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(
        verifyHostKey(knownHosts({ files: [knownHostsFile] })),
        authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
      ),
    );
    await ssh.putFile(src, remote);
    expect(mode(remote)).toBe(0o750);
    const back = join(work, `back-${randomBytes(3).toString('hex')}`);
    await ssh.getFile(remote, back);
    expect(mode(back)).toBe(0o750);
  });
});

describe('get keeps the permission bits as sftp get does (real sshd)', () => {
  it.each(['0600', '0755', '4755'])('a new local file from a %s remote file', (octal) => {
    const bits = parseInt(octal, 8);
    const remote = remoteFile(bits);
    const into = mkdtempSync(join(work, 'get-'));
    cli('get', [remote, into]);
    const theirs = join(work, `theirs-${randomBytes(3).toString('hex')}`);
    sftp(`get ${remote} ${theirs}\n`);
    const ours = join(into, `127.0.0.1:${s.port}`, remote.split('/').pop() ?? '');
    expect(mode(ours).toString(8)).toBe(mode(theirs).toString(8));
    expect(mode(ours)).toBe(bits & 0o755); // the test runs under umask 022
  });
});
