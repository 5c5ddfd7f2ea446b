/**
 * ssh_config resolution, checked against OpenSSH itself: for every (file, host) in the corpus
 * under spec/fixtures/ssh-config, `ssh -G -F file host` and fromSshConfig must agree key by key.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialsFor, fromSshConfig, hostKeyPolicyFor, HostKeyUnknownError, SshConfigError, sshConfigAliases } from '../../lib/index.js';
import { sshConfigTargets } from '../../lib/fleet/index.js';
import { describeHostKey } from '../../lib/transport/host-key-info.js';

const corpus = mkdtempSync(join(tmpdir(), 'rxssh-sshcfg-'));
cpSync(new URL('../fixtures/ssh-config', import.meta.url).pathname, corpus, { recursive: true });
writeFileSync(join(corpus, 'include.conf'), readFileSync(join(corpus, 'include.conf'), 'utf8').replaceAll('@DIR@', corpus));

const CASES: Array<[file: string, host: string, user?: string]> = [
  ['basic.conf', 'web1'],
  ['basic.conf', 'web2'],
  ['basic.conf', 'db'],
  ['basic.conf', 'other'],
  ['basic.conf', 'other', 'root'],
  ['basic.conf', 'web1', 'root'],
  ['match.conf', 'jump'],
  ['match.conf', 'a.internal'],
  ['match.conf', 'secret.internal'],
  ['match.conf', 'alpha'],
  ['match.conf', 'beta', 'admin'],
  ['match.conf', 'x.internal', 'admin'],
  ['include.conf', 'from-a'],
  ['include.conf', 'from-b'],
  ['include.conf', 'elsewhere'],
  ['syntax.conf', 'mixed'],
  ['empty.conf', 'plain'],
];

const KEYS = ['hostname', 'port', 'user', 'identitiesonly', 'stricthostkeychecking', 'serveraliveinterval', 'serveralivecountmax', 'connecttimeout', 'proxyjump', 'userknownhostsfile', 'identityfile', 'forwardagent'];

function sshG(file: string, host: string, user?: string): Record<string, string> {
  const out = execFileSync('ssh', ['-G', '-F', file, ...(user ? ['-l', user] : []), host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const map: Record<string, string[]> = {};
  for (const line of out.split('\n')) {
    const at = line.indexOf(' ');
    if (at < 1) continue;
    const key = line.slice(0, at).toLowerCase();
    (map[key] ??= []).push(line.slice(at + 1));
  }
  const norm = (k: string, v: string): string => (k === 'stricthostkeychecking' ? v.replace(/^true$/, 'yes').replace(/^false$/, 'no') : v);
  return Object.fromEntries(KEYS.map((k) => [k, (map[k] ?? []).map((v) => norm(k, v)).join(' | ')]));
}

function ours(file: string, host: string, user?: string): Record<string, string> {
  const r = fromSshConfig(host, { file, ...(user ? { user } : {}) });
  const rawIds = r.raw['identityfile'];
  const ids = rawIds ? (Array.isArray(rawIds) ? rawIds : [rawIds]) : ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) => `~/.ssh/${f}`);
  return {
    hostname: r.host,
    port: String(r.port),
    user: r.username,
    identitiesonly: r.identitiesOnly ? 'yes' : 'no',
    stricthostkeychecking: r.strictHostKeyChecking,
    serveraliveinterval: String(r.serverAliveInterval ?? 0),
    serveralivecountmax: String(r.serverAliveCountMax ?? 3),
    connecttimeout: r.connectTimeout === undefined ? 'none' : String(r.connectTimeout),
    proxyjump: r.proxyJump ?? '',
    userknownhostsfile: r.userKnownHostsFiles.join(' '),
    identityfile: ids.join(' | '),
    forwardagent: r.forwardAgent ? 'yes' : 'no',
  };
}

describe('fromSshConfig agrees with `ssh -G`', () => {
  it.each(CASES)('%s %s (user %s)', (file, host, user) => {
    const path = join(corpus, file);
    expect(ours(path, host, user)).toEqual(sshG(path, host, user));
  });
});

describe('fromSshConfig', () => {
  it('expands tokens and ~ in identity files; is a ConnectConfig with timeouts and keepalive', () => {
    const r = fromSshConfig('web1', { file: join(corpus, 'basic.conf') });
    expect(r.identityFiles[0]).toBe(`${homedir()}/.ssh/web_deploy_web1.example.org_2222`);
    expect(r.identityFiles[1]).toBe(`${homedir()}/.ssh/id_all`);
    const db = fromSshConfig('db', { file: join(corpus, 'basic.conf') });
    expect(db.timeouts).toEqual({ connect: 7000, handshake: 7000 });
    expect(db.keepalive).toEqual({ interval: 20_000, countMax: 4 });
    const mixed = fromSshConfig('mixed', { file: join(corpus, 'syntax.conf') });
    expect(mixed.userKnownHostsFiles).toEqual([`${homedir()}/.ssh/known_${userInfo().username}_mixed.example`]);
  });

  it('no ~/.ssh/config gives OpenSSH defaults; a file given that is missing is refused, as ssh -F; an empty alias is a TypeError', () => {
    const home = mkdtempSync(join(tmpdir(), 'rxssh-sshcfg-home-'));
    const r = fromSshConfig('h', { home, systemFile: null });
    expect([r.host, r.port, r.username, r.strictHostKeyChecking]).toEqual(['h', 22, userInfo().username, 'ask']);
    const missing = join(corpus, 'does-not-exist');
    expect(() => fromSshConfig('h', { file: missing })).toThrow(SshConfigError);
    expect(() => fromSshConfig('h', { file: missing })).toThrow(`command line: Can't open user config file ${missing}: No such file or directory`);
    expect(() => fromSshConfig('h', { file: corpus })).toThrow(/Can't open user config file .*: is a directory/);
    expect(() => fromSshConfig('')).toThrow(TypeError);
    rmSync(home, { recursive: true, force: true });
  });

  it('StrictHostKeyChecking picks the policy; IdentitiesOnly drops the agent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-sshcfg-policy-'));
    const conf = join(dir, 'config');
    writeFileSync(conf, `Host strict\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ${dir}/kh\nHost learn\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile ${dir}/kh\n  IdentitiesOnly yes\n  IdentityFile ${dir}/none\n`);
    const key = describeHostKey(Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIBdQzyHD5RbJuSdLpPf2Hh9Ph1OuLjXYV5JDZkZrLgSn', 'base64'), 'strict', 22);
    await expect(Promise.resolve().then(() => hostKeyPolicyFor(fromSshConfig('strict', { file: conf }))(key))).rejects.toBeInstanceOf(HostKeyUnknownError);
    expect(await hostKeyPolicyFor(fromSshConfig('learn', { file: conf }))({ ...key, host: 'learn' })).toBe(true);
    expect(readFileSync(`${dir}/kh`, 'utf8')).toMatch(/ssh-ed25519 /);
    expect(credentialsFor(fromSshConfig('learn', { file: conf }))).toEqual([]);
    expect(credentialsFor(fromSshConfig('strict', { file: conf })).map((p: { label: string }) => p.label)).toContain('agent');
  });
});

describe('ssh_config as an inventory', () => {
  it('sshConfigAliases lists the concrete Host names (Includes followed, wildcards and negations left out)', () => {
    expect(sshConfigAliases({ file: join(corpus, 'basic.conf') })).toEqual(['db']);
    expect(sshConfigAliases({ file: join(corpus, 'match.conf') })).toEqual(['alpha', 'beta']);
    expect(sshConfigAliases({ file: join(corpus, 'include.conf') })).toEqual(['from-a', 'from-b']);
    expect(sshConfigAliases({ file: join(corpus, 'include.conf'), match: 'from-*,!from-a' })).toEqual(['from-b']);
    expect(sshConfigAliases({ file: join(corpus, 'match.conf'), match: ['b*'] })).toEqual(['beta']);
    expect(() => sshConfigAliases({ file: join(corpus, 'missing.conf') })).toThrow(/Can't open user config file .*missing\.conf/);
    expect(sshConfigAliases({ home: corpus })).toEqual([]); // no ~/.ssh/config there
  });

  it('sshConfigTargets resolves each alias as `ssh -G` does, labelled with the alias', () => {
    const file = join(corpus, 'include.conf');
    const targets = sshConfigTargets({ file });
    expect(targets.map((t) => [t.label, t.alias])).toEqual([
      ['from-a', 'from-a'],
      ['from-b', 'from-b'],
    ]);
    for (const t of targets) {
      const g = sshG(file, t.label);
      expect({ hostname: t.host, port: String(t.port), user: t.username }).toEqual({ hostname: g['hostname'], port: g['port'], user: g['user'] });
    }
  });
});
