/**
 * Unknown host keys as ssh treats them (issue 22 #3): on a terminal (`script` gives a real pty)
 * the user is asked with the fingerprint and "yes" records the key; `run` asks once for the
 * whole list; without a terminal the error names the known_hosts files read and the ways out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshd } from '../helpers/index.js';
import { onTerminal } from '../helpers/pty.js';
import { startSshd, type SshdInfo } from './sshd.js';

const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
let fleet: { info: SshdInfo; stop: () => Promise<void> };
let dir: string;
beforeAll(async () => {
  fleet = await startSshd({ account: sshd(), extra: ADDRESSES.map((a) => `ListenAddress ${a}:{port}`) });
  dir = mkdtempSync(join(tmpdir(), 'rxssh-unknown-'));
});
afterAll(async () => {
  await fleet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CLI = `${process.execPath} --import tsx lib/cli/bin.ts`;
/** Runs `command` on a pty, typing `input`; what the terminal showed. */
const shownFor = (command: string, input: string): string => onTerminal(command, input, { SSH_AUTH_SOCK: '', RXSSH_NO_PROGRESS: '1' }).raw.replace(/\r/g, '');
const fingerprint = () => execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(fleet.info.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1] ?? '';

describe('unknown host keys', () => {
  it('exec on a terminal asks like ssh; "yes" records the key and the command runs; the next time nothing is asked', () => {
    const kh = join(dir, 'kh-exec');
    writeFileSync(kh, '');
    const cmd = `${CLI} exec -p ${fleet.info.port} -i ${fleet.info.keys['ed25519']} --known-hosts ${kh} ${fleet.info.username}@127.0.0.2 'echo after yes'`;
    const shown = shownFor(cmd, 'yes\n');
    expect(shown).toContain(`The authenticity of host '[127.0.0.2]:${fleet.info.port}' can't be established.`);
    expect(shown).toContain(`ED25519 key fingerprint is ${fingerprint()}.`);
    expect(shown).toContain('Are you sure you want to continue connecting (yes/no/[fingerprint])?');
    expect(shown).toContain('after yes');
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(1);
    const again = shownFor(cmd, '');
    expect(again).not.toContain('authenticity');
    expect(again).toContain('after yes');
  });

  it('"no" refuses, nothing is recorded', () => {
    const kh = join(dir, 'kh-no');
    writeFileSync(kh, '');
    const shown = shownFor(`${CLI} exec -p ${fleet.info.port} -i ${fleet.info.keys['ed25519']} --known-hosts ${kh} ${fleet.info.username}@127.0.0.2 'echo never'`, 'no\n');
    expect(shown).toContain('Are you sure');
    expect(shown).not.toContain('never\n');
    expect(readFileSync(kh, 'utf8')).toBe('');
  });

  it('run across three unknown hosts asks once with the list; yes runs all three', () => {
    const kh = join(dir, 'kh-run');
    writeFileSync(kh, '');
    const hosts = ADDRESSES.flatMap((a) => ['-H', `${a}:${fleet.info.port}`]).join(' ');
    const shown = shownFor(`${CLI} run ${hosts} -l ${fleet.info.username} --identity ${fleet.info.keys['ed25519']} --known-hosts ${kh} -- echo hi`, 'yes\n');
    expect(shown.match(/Are you sure/g)).toHaveLength(1);
    expect(shown).toContain("The authenticity of 3 hosts can't be established:");
    expect(shown.match(/\[SUCCESS\]/g)).toHaveLength(3);
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('a confirmed key is recorded as HashKnownHosts says: plainly with no (exec), hashed with yes (run)', () => {
    const plain = join(dir, 'kh-plain');
    writeFileSync(plain, '');
    shownFor(`${CLI} exec -o HashKnownHosts=no -p ${fleet.info.port} -i ${fleet.info.keys['ed25519']} --known-hosts ${plain} ${fleet.info.username}@127.0.0.2 true`, 'yes\n');
    expect(readFileSync(plain, 'utf8').split(' ').slice(0, 2)).toEqual([`[127.0.0.2]:${fleet.info.port}`, 'ssh-ed25519']);
    const hashed = join(dir, 'kh-hashed');
    writeFileSync(hashed, '');
    const hosts = ADDRESSES.flatMap((a) => ['-H', `${a}:${fleet.info.port}`]).join(' ');
    const shown = shownFor(`${CLI} run -O HashKnownHosts=yes ${hosts} -l ${fleet.info.username} --identity ${fleet.info.keys['ed25519']} --known-hosts ${hashed} -- true`, 'yes\n');
    expect(shown.match(/\[SUCCESS\]/g)).toHaveLength(3);
    expect(readFileSync(hashed, 'utf8').trim().split('\n').map((l) => l.slice(0, 3))).toEqual(['|1|', '|1|', '|1|']);
  });

  it('without a terminal the error names the known_hosts files read and the ways out', () => {
    const kh = join(dir, 'kh-batch');
    writeFileSync(kh, '');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'exec', '-n', '-p', String(fleet.info.port), '-i', fleet.info.keys['ed25519'] ?? '', '--known-hosts', kh, `${fleet.info.username}@127.0.0.2`, 'true'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(255);
    expect(r.stderr).toContain(`known_hosts read: ${kh}`);
    expect(r.stderr).toMatch(/--accept-new, or ssh-keyscan -p \d+ 127\.0\.0\.2 >> /);
  });
});
