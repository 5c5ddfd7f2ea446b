/**
 * ssh refuses to read an ssh_config another user could write (its own `~/.ssh/config` and every
 * `Include`d file): such a file could make it run any command (ProxyCommand, Match exec). rxssh
 * read them all. Each case beside `ssh -G` (Debian's ssh: a group-writable file passes when the
 * group holds its owner alone). Needs root (files owned by another user).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromSshConfig, SshConfigError } from '../../lib/index.js';

const NOBODY = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
const NOGROUP = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());

let dir: string;
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('config-trust.spec needs root: it makes files owned by another user');
  dir = mkdtempSync(join(tmpdir(), 'rxssh-trust-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config that includes `inc` (mode, owner, group as given); what ssh -G and rxssh make of host `t`. */
function both(mode: number, uid: number, gid: number, configMode = 0o644): { ssh: string; rxssh: string } {
  const here = mkdtempSync(join(dir, 'case-'));
  const cfg = join(here, 'cfg');
  const inc = join(here, 'inc');
  writeFileSync(cfg, `Include ${inc}\nHost t\n  HostName 127.0.0.9\n`);
  writeFileSync(inc, 'Host t\n  User from-include\n');
  chmodSync(cfg, configMode);
  chownSync(inc, uid, gid);
  chmodSync(inc, mode);
  const ssh = spawnSync('ssh', ['-G', '-F', cfg, 't'], { encoding: 'utf8' });
  const theirs = ssh.status === 0 ? `user ${/^user (.*)$/m.exec(ssh.stdout)?.[1]}` : ssh.stderr.includes(`Bad owner or permissions on ${inc}`) ? 'refused' : `ssh failed: ${ssh.stderr}`;
  let ours: string;
  try {
    ours = `user ${fromSshConfig('t', { file: cfg }).username}`;
  } catch (err) {
    const refused = err instanceof SshConfigError && err.keyword === 'include' && err.origin === `${cfg}:1` && err.message.includes(`Bad owner or permissions on ${inc}`);
    ours = refused ? 'refused' : `rxssh failed: ${String(err)}`;
  }
  return { ssh: theirs, rxssh: ours };
}

describe('an ssh_config another user could write is refused, as ssh refuses it', () => {
  it.each([
    ['0644, ours', 'user from-include', 0o644, 0, 0],
    ['0664, group root (root its one member)', 'user from-include', 0o664, 0, 0],
    ['0664, group nogroup (nobody and others in it)', 'refused', 0o664, 0, NOGROUP],
    ['0666, world-writable', 'refused', 0o666, 0, 0],
    ['0644, owned by nobody', 'refused', 0o644, NOBODY, 0],
  ])('Include of a file %s: %s by both', (_name, expected, mode, uid, gid) => {
    expect(both(mode, uid, gid)).toEqual({ ssh: expected, rxssh: expected });
  });

  it('the file given with -F is not held to it (ssh -F reads a world-writable one too)', () => {
    expect(both(0o644, 0, 0, 0o666)).toEqual({ ssh: 'user from-include', rxssh: 'user from-include' });
  });

  it('the user\'s own ~/.ssh/config is: refused when world-writable or another user\'s, read when it is ours', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, '.ssh'));
    const own = join(home, '.ssh', 'config');
    writeFileSync(own, 'Host t\n  User from-home\n');
    const resolve = () => fromSshConfig('t', { home, systemFile: null });
    chmodSync(own, 0o644);
    expect(resolve().username).toBe('from-home');
    chmodSync(own, 0o666);
    expect(resolve).toThrow(SshConfigError);
    expect(resolve).toThrow(`${own}: Bad owner or permissions on ${own}`);
    chmodSync(own, 0o644);
    chownSync(own, NOBODY, NOGROUP);
    expect(resolve).toThrow(/Bad owner or permissions/);
  });

  it('rxssh exec -F with a file that is not there fails as ssh -F does (255, naming it), instead of reading no config', () => {
    const missing = join(dir, 'no-such-config');
    const ssh = spawnSync('ssh', ['-F', missing, 't', 'true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const ours = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'exec', '-F', missing, 't', 'true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ssh.stderr).toContain(`Can't open user config file ${missing}: No such file or directory`);
    expect(ours.stderr).toContain(`Can't open user config file ${missing}: No such file or directory`);
    expect([ours.status, ours.stdout]).toEqual([ssh.status, '']);
  });
});
