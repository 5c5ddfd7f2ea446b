/**
 * ssh_config's algorithm lists: the lists ssh makes of `+`, `-`, `^` and full lists (compared with
 * this machine's `ssh -G`), what rxssh negotiates from them, the hardened floor and its opt-in,
 * and the tables pinned to ssh2 1.17.0 and OpenSSH's `ssh -Q`.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENSSH_ALGORITHMS, RXSSH_ALGORITHMS, rxsshAlgorithmList, sshAlgorithmList, type AlgorithmKeyword } from '../../lib/config/algorithms.js';
import { HARDENED_REMOVALS } from '../../lib/transport/connect-settings.js';
import { fromSshConfig, SshConfigError } from '../../lib/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-algos-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYWORDS: readonly AlgorithmKeyword[] = ['ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms'];
const QUERY: Record<AlgorithmKeyword, string> = { ciphers: 'cipher', macs: 'mac', kexalgorithms: 'kex', hostkeyalgorithms: 'HostKeyAlgorithms' };
const EMPTY = () => {
  const file = join(dir, 'empty');
  writeFileSync(file, '');
  return file;
};
/** `ssh -G` with `-o KEYWORD=VALUE`: the list it prints, or its error. */
function sshG(keyword: string, value?: string): string[] | Error {
  try {
    const out = execFileSync('ssh', ['-G', '-F', EMPTY(), ...(value === undefined ? [] : ['-o', `${keyword}=${value}`]), 'host'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const line = out.split('\n').find((l) => l.startsWith(`${keyword} `));
    return (line?.slice(keyword.length + 1) ?? '').split(',');
  } catch (err) {
    return new Error(String((err as { stderr?: string }).stderr));
  }
}

describe('the tables', () => {
  it("OpenSSH's names and defaults are this machine's ssh -Q and ssh -G", () => {
    for (const keyword of KEYWORDS) {
      const all = execFileSync('ssh', ['-Q', QUERY[keyword]], { encoding: 'utf8' }).trim().split('\n');
      expect([...OPENSSH_ALGORITHMS[keyword].all].sort(), keyword).toEqual(all.sort());
      expect(OPENSSH_ALGORITHMS[keyword].default, keyword).toEqual(sshG(keyword));
    }
  });

  it("rxssh's strong names are ssh2's defaults less the hardened removals; strong and weak cover what ssh2 supports", () => {
    const c = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, string[]>;
    const ssh2: Record<AlgorithmKeyword, [string[], string[], readonly string[]]> = {
      ciphers: [c['DEFAULT_CIPHER'] ?? [], c['SUPPORTED_CIPHER'] ?? [], HARDENED_REMOVALS.cipher],
      macs: [c['DEFAULT_MAC'] ?? [], c['SUPPORTED_MAC'] ?? [], HARDENED_REMOVALS.hmac],
      kexalgorithms: [c['DEFAULT_KEX'] ?? [], c['SUPPORTED_KEX'] ?? [], []],
      hostkeyalgorithms: [c['DEFAULT_SERVER_HOST_KEY'] ?? [], c['SUPPORTED_SERVER_HOST_KEY'] ?? [], HARDENED_REMOVALS.serverHostKey],
    };
    for (const keyword of KEYWORDS) {
      const [defaults, supported, removed] = ssh2[keyword];
      expect([...RXSSH_ALGORITHMS[keyword].strong].sort(), keyword).toEqual(defaults.filter((n) => !removed.includes(n)).sort());
      const known = new Set([...RXSSH_ALGORITHMS[keyword].strong, ...RXSSH_ALGORITHMS[keyword].weak]);
      // ssh2's non-OpenSSH spellings of the GCM ciphers cannot be named in an ssh_config (ssh refuses them).
      expect(supported.filter((n) => !known.has(n)), keyword).toEqual(keyword === 'ciphers' ? ['aes128-gcm', 'aes256-gcm'] : []);
    }
  });
});

describe('lists as ssh makes them (ssh -G)', () => {
  const cases: Array<[AlgorithmKeyword, string]> = [
    ['ciphers', 'aes256-ctr,aes128-gcm@openssh.com'],
    ['ciphers', '+aes128-cbc'],
    ['ciphers', '-chacha20*'],
    ['ciphers', '-*-ctr,aes256-gcm@openssh.com'],
    ['ciphers', '^aes256-gcm@openssh.com,aes128-ctr'],
    ['ciphers', '+aes128-ctr'],
    ['ciphers', 'aes128-ctr,aes128-ctr'],
    ['macs', 'hmac-sha2-512,hmac-sha2-256'],
    ['macs', '-umac*,hmac-sha1*'],
    ['macs', '^hmac-sha2-512-etm@openssh.com'],
    ['macs', '+hmac-md5'],
    ['kexalgorithms', '-sntrup*'],
    ['kexalgorithms', 'curve25519-sha256,ecdh-sha2-nistp384'],
    ['kexalgorithms', '+diffie-hellman-group14-sha1'],
    ['kexalgorithms', '^ecdh-sha2-nistp521'],
    ['hostkeyalgorithms', 'ssh-ed25519,rsa-sha2-512'],
    ['hostkeyalgorithms', '+ssh-rsa'],
    ['hostkeyalgorithms', '-*-cert-v01@openssh.com,sk-*'],
    ['hostkeyalgorithms', '^rsa-sha2-256'],
    ['ciphers', 'no-such-cipher'],
    ['macs', '+hmac-nope'],
  ];
  it.each(cases)('%s %s', (keyword, value) => {
    const theirs = sshG(keyword, value);
    const ours = sshAlgorithmList(keyword, value);
    if (theirs instanceof Error) {
      expect(ours).toBeInstanceOf(Error);
      return;
    }
    expect(ours).toEqual(theirs);
  });
});

describe('what rxssh negotiates', () => {
  it("ssh's list in ssh's order, less what rxssh lacks or the floor removes from OpenSSH's default", () => {
    expect(rxsshAlgorithmList('kexalgorithms', '-sntrup*', false)).toEqual([
      'curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521',
      'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group16-sha512', 'diffie-hellman-group18-sha512', 'diffie-hellman-group14-sha256',
    ]);
    expect(rxsshAlgorithmList('ciphers', '^aes256-gcm@openssh.com', false)).toEqual(['aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com']);
    expect(rxsshAlgorithmList('macs', 'hmac-sha2-512', false)).toEqual(['hmac-sha2-512']);
  });

  it('a name the line asks for below the floor is refused without the opt-in, allowed with it; one rxssh lacks is refused', () => {
    expect(String(rxsshAlgorithmList('ciphers', '+aes128-cbc', false))).toMatch(/aes128-cbc below rxssh's hardened floor/);
    expect(rxsshAlgorithmList('ciphers', '+aes128-cbc', true)).toContain('aes128-cbc');
    expect(String(rxsshAlgorithmList('macs', '^umac-128-etm@openssh.com', true))).toMatch(/umac-128-etm@openssh.com not available in rxssh/);
    expect(String(rxsshAlgorithmList('kexalgorithms', 'sntrup761x25519-sha512@openssh.com', false))).toMatch(/not available/);
    expect(String(rxsshAlgorithmList('ciphers', '-aes*,chacha20*', false))).toMatch(/no algorithm rxssh can use is left/);
  });

  it('fromSshConfig: the lists and Compression become connect() algorithms; a refused line names keyword and FILE:LINE; algorithmPolicy compatible opts in', () => {
    const file = join(dir, 'c1');
    writeFileSync(file, 'Host web\n  Ciphers aes256-ctr\n  MACs hmac-sha2-512\n  KexAlgorithms ecdh-sha2-nistp384\n  HostKeyAlgorithms rsa-sha2-512\n  Compression yes\nHost old\n  Ciphers +aes128-cbc\n');
    expect(fromSshConfig('web', { file }).algorithms).toEqual({
      cipher: ['aes256-ctr'],
      hmac: ['hmac-sha2-512'],
      kex: ['ecdh-sha2-nistp384'],
      serverHostKey: ['rsa-sha2-512'],
      compress: ['zlib@openssh.com', 'zlib', 'none'],
    });
    let err: unknown;
    try {
      fromSshConfig('old', { file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SshConfigError);
    expect(err).toMatchObject({ keyword: 'ciphers', origin: `${file}:8` });
    const old = fromSshConfig('old', { file, algorithmPolicy: 'compatible' });
    expect(old.algorithms?.cipher).toContain('aes128-cbc');
    expect(old.algorithmPolicy).toBe('compatible');
    expect(fromSshConfig('other', { file }).algorithms).toBeUndefined();
  });
});
