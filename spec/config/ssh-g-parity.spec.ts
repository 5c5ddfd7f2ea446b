/**
 * Parity with `ssh -G`: generated ssh_config files (Host and Match blocks, wildcards and
 * negation, Include with globs across several files, tokens, first-value-wins and list keywords,
 * `-o` lines) resolved by rxssh and by the machine's OpenSSH client, every honoured keyword
 * compared. The generator is seeded, so a failure names a config that can be made again.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromSshConfig, type SshConfigHost } from '../../lib/index.js';
import { ours, random, sshG, type Generated } from '../helpers/ssh-g.js';

const CONFIGS = 60;
const ALIASES = ['web1', 'web2', 'db', 'db.prod', 'bastion', 'x-9', 'Web1'];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-parity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BLOCKS = [
  'Host web*',
  'Host *.prod',
  'Host !web2 web*',
  'Host db db.*',
  'Host *',
  'Host x-?',
  'Host Web1 DB*',
  'Host bastion',
  'Match host web1',
  'Match originalhost db*',
  'Match user deploy',
  'Match localuser root',
  'Match all',
  'Match host web* !host web2',
  'Match final host *.example.org',
  'Match canonical host db*',
];

const VALUES: Record<string, readonly string[]> = {
  HostName: ['%h.example.org', 'real-%h', '127.0.0.1', '%h'],
  User: ['deploy', 'root', 'ops'],
  Port: ['22', '2222', '8022'],
  ProxyJump: ['bastion', 'ops@jump:2200', 'none', 'a,b'],
  ProxyCommand: ['ssh -W %h:%p gw', 'none', 'nc %h %p'],
  IdentityFile: ['~/.ssh/id_%h', '~/.ssh/k_%r', '/keys/%u_%p', '~/.ssh/id_ed25519'],
  CertificateFile: ['~/.ssh/c_%h', '/certs/%r-cert.pub'],
  IdentitiesOnly: ['yes', 'no'],
  IdentityAgent: ['none', 'SSH_AUTH_SOCK', '~/agent.%h', '${HOME}/agent_%r', '~root/agent'],
  StrictHostKeyChecking: ['yes', 'no', 'accept-new', 'ask', 'off'],
  UserKnownHostsFile: ['~/kh_%h ~/kh2', '/dev/null', '~/.ssh/known_%r', '~/kh_%C', '/k/%L-%l-%i-%k-%u-%d-%n-%p', '${HOME}/kh_%h', '~root/kh_%r', '~rxssh-no-such-user/kh'],
  HashKnownHosts: ['yes', 'no', 'true'],
  StdinNull: ['yes', 'no'],
  GatewayPorts: ['yes', 'no'],
  TCPKeepAlive: ['yes', 'no'],
  ClearAllForwardings: ['yes', 'no'],
  CheckHostIP: ['yes', 'no'],
  AddKeysToAgent: ['yes', 'no', 'confirm', 'confirm 1h', '30m', '0'],
  NumberOfPasswordPrompts: ['1', '3', '0'],
  EscapeChar: ['none', '%', '^]', '^a', 'ab', '^1', 'NONE'],
  LogLevel: ['ERROR', 'quiet', 'debug1', 'Verbose', 'bogus'],
  LocalForward: ['8080 db:80', '/tmp/%h.sock /run/d.sock', '[::1]:8081 db:443', '9000 ${HOME}/%r.sock', '8082'],
  RemoteForward: ['9001 localhost:3000', '/tmp/r_%r.sock 127.0.0.1:22', '1080', '*:9002 /tmp/%n'],
  DynamicForward: ['1081', '127.0.0.1:1082', '/tmp/socks_%h.sock'],
  StreamLocalBindMask: ['0117', '022', '0', '0777', '0999', '+7'],
  StreamLocalBindUnlink: ['yes', 'no'],
  RekeyLimit: ['1G 1h', '500M', 'default none', '100K 30m', '1.5G 1h30m', 'default 2w'],
  GlobalKnownHostsFile: ['/etc/kh_global', '/dev/null /etc/kh2', '/etc/kh_%h'],
  ConnectTimeout: ['5', '30'],
  ServerAliveInterval: ['0', '15'],
  ServerAliveCountMax: ['1', '5'],
  ForwardAgent: ['yes', 'no'],
  HostKeyAlias: ['pinned-web', 'pinned-db'],
  BatchMode: ['yes', 'no'],
  SetEnv: ['A=1', 'B="two words"', 'A=2 C=3'],
  SendEnv: ['LANG', 'LC_*', 'RXSSH_* -RXSSH_SECRET'],
  Ciphers: ['aes256-ctr,aes128-ctr', '-chacha20*', '^aes256-gcm@openssh.com', '+aes192-ctr'],
  MACs: ['hmac-sha2-512,hmac-sha2-256-etm@openssh.com', '-umac*,hmac-sha1*', '^hmac-sha2-512'],
  KexAlgorithms: ['-sntrup*', 'curve25519-sha256,ecdh-sha2-nistp256', '^ecdh-sha2-nistp384'],
  HostKeyAlgorithms: ['ssh-ed25519,rsa-sha2-256', '-sk-*', '^ecdsa-sha2-nistp256'],
  Compression: ['yes', 'no'],
  BindAddress: ['127.0.0.1', '127.0.0.2'],
  AddressFamily: ['inet', 'any', 'inet6'],
  ConnectionAttempts: ['1', '3'],
  RequestTTY: ['yes', 'no', 'force', 'auto'],
  RemoteCommand: ['uptime', 'echo %h %p %r', 'none'],
  CASignatureAlgorithms: ['-rsa*', 'ssh-ed25519,rsa-sha2-512', '+ssh-rsa', '^ecdsa-sha2-nistp256'],
  PubkeyAcceptedAlgorithms: ['ssh-ed25519,rsa-sha2-256', '-ecdsa*,sk-*', '^rsa-sha2-256', '+rsa-sha2-256-cert-v01@openssh.com'],
  PubkeyAcceptedKeyTypes: ['rsa-sha2-512,ssh-ed25519', '-rsa*'],
};
const KEYWORDS = Object.keys(VALUES);

/** One config: a main file with blocks and keyword lines, an Include of 0-2 more files, maybe -o lines. */
function generate(n: number): Generated {
  const rnd = random(1000 + n);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const lines = (count: number): string[] => Array.from({ length: count }, () => {
    const keyword = pick(KEYWORDS);
    return `  ${keyword} ${pick(VALUES[keyword] ?? [])}`;
  });
  const sub = join(dir, `c${n}`);
  mkdirSync(sub, { recursive: true });
  const includes = Math.floor(rnd() * 3);
  for (let i = 0; i < includes; i++) {
    writeFileSync(join(sub, `inc-${i}.conf`), [...lines(1 + Math.floor(rnd() * 3)).map((l) => l.trim()), pick(BLOCKS), ...lines(2)].join('\n') + '\n');
  }
  const body: string[] = lines(Math.floor(rnd() * 3)).map((l) => l.trim());
  const blocks = 3 + Math.floor(rnd() * 4);
  for (let b = 0; b < blocks; b++) {
    body.push(pick(BLOCKS), ...lines(1 + Math.floor(rnd() * 4)));
    if (includes > 0 && rnd() < 0.3) body.push(`  Include ${sub}/inc-*.conf`);
  }
  if (includes > 0 && rnd() < 0.5) body.push('Host *', `  Include ${sub}/inc-0.conf`);
  const file = join(sub, 'config');
  const text = `${body.join('\n')}\n`;
  writeFileSync(file, text);
  const extra = rnd() < 0.4 ? lines(1 + Math.floor(rnd() * 2)).map((l) => l.trim()) : [];
  return { file, extra, text };
}

describe(`ssh -G parity over ${CONFIGS} generated configs`, () => {
  it(`every honoured keyword equal for ${ALIASES.length} aliases each (or both refuse the config)`, () => {
    let compared = 0;
    let refusedByBoth = 0;
    const mismatches: string[] = [];
    for (let n = 0; n < CONFIGS; n++) {
      const g = generate(n);
      for (const alias of ALIASES) {
        const theirs = sshG(g, alias);
        let mine: SshConfigHost | Error;
        try {
          mine = fromSshConfig(alias, { file: g.file, systemFile: null, extra: g.extra, home: userInfo().homedir, localUser: userInfo().username, forwards: {} });
        } catch (err) {
          mine = err as Error;
        }
        if (theirs instanceof Error || mine instanceof Error) {
          if (theirs instanceof Error && mine instanceof Error) refusedByBoth++;
          else mismatches.push(`config ${n} ${alias}: ssh ${theirs instanceof Error ? `refused: ${theirs.message.trim()}` : 'resolved'}, rxssh ${mine instanceof Error ? `refused: ${mine.message}` : 'resolved'}`);
          continue;
        }
        for (const [keyword, values] of Object.entries(ours(mine))) {
          // Debian's ssh makes BatchMode imply ServerAliveInterval 300 (a Debian patch, not OpenSSH's).
          if (keyword === 'serveraliveinterval' && mine.serverAliveInterval === undefined && theirs.get('batchmode')?.[0] === 'yes') continue;
          // ssh keeps local and dynamic forwards in one list, in line order; rxssh one per keyword.
          const inOrder = (v: readonly string[]): readonly string[] => (keyword === 'dynamicforward' ? [...v].sort() : v);
          const expected = inOrder(theirs.get(keyword) ?? []);
          if (JSON.stringify(inOrder(values)) !== JSON.stringify(expected)) mismatches.push(`config ${n} ${alias} ${keyword}: rxssh ${JSON.stringify(values)}, ssh -G ${JSON.stringify(expected)}\n${g.text}${g.extra.length ? `-o ${g.extra.join(' -o ')}\n` : ''}`);
          compared++;
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(CONFIGS * ALIASES.length * 25);
    // Both refuse the same configs (ProxyJump with ProxyCommand is not an error; a bad Match is).
    expect(refusedByBoth).toBeLessThan(CONFIGS * ALIASES.length);
  });
});
