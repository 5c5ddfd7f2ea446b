/**
 * Parity with `ssh -G`: generated ssh_config files (Host and Match blocks, wildcards and
 * negation, Include with globs across several files, tokens, first-value-wins and list keywords,
 * `-o` lines) resolved by rxssh and by the machine's OpenSSH client, every honoured keyword
 * compared. The generator is seeded, so a failure names a config that can be made again.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromSshConfig, type SshConfigHost } from '../../lib/index.js';
import { OPENSSH_ALGORITHMS, sshAlgorithmList } from '../../lib/config/algorithms.js';
import { DEFAULT_CA_SIGNATURE_ALGORITHMS } from '../../lib/auth/certificate.js';

const CONFIGS = 60;
const ALIASES = ['web1', 'web2', 'db', 'db.prod', 'bastion', 'x-9'];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-parity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BLOCKS = [
  'Host web*',
  'Host *.prod',
  'Host !web2 web*',
  'Host db db.*',
  'Host *',
  'Host x-?',
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
  IdentityAgent: ['none', 'SSH_AUTH_SOCK', '~/agent.%h'],
  StrictHostKeyChecking: ['yes', 'no', 'accept-new', 'ask', 'off'],
  UserKnownHostsFile: ['~/kh_%h ~/kh2', '/dev/null', '~/.ssh/known_%r', '~/kh_%C', '/k/%L-%l-%i-%k-%u-%d-%n-%p'],
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
};
const KEYWORDS = Object.keys(VALUES);

interface Generated {
  readonly file: string;
  readonly extra: string[];
  readonly text: string;
}

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

/** `ssh -G` for an alias: keyword → values (lines in order), or the error it stopped with. */
function sshG(g: Generated, alias: string): Map<string, string[]> | Error {
  const args = ['-G', '-F', g.file, ...g.extra.flatMap((l) => ['-o', l.replace(' ', '=')]), alias];
  let out: string;
  try {
    out = execFileSync('ssh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return new Error(String((err as { stderr?: string }).stderr ?? err));
  }
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) map.set(line.slice(0, at).toLowerCase(), [...(map.get(line.slice(0, at).toLowerCase()) ?? []), line.slice(at + 1)]);
  }
  return map;
}

/** What rxssh resolved, in ssh -G's words, for the keywords both know. */
function ours(h: SshConfigHost): Record<string, string[]> {
  const raw = (k: string): string[] => {
    const v = h.raw[k];
    return v === undefined ? [] : Array.isArray(v) ? [...v] : [v as string];
  };
  const strict = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[h.strictHostKeyChecking];
  const identities = raw('identityfile');
  return {
    hostname: [h.host],
    user: [h.username],
    port: [String(h.port)],
    proxyjump: h.proxyJump ? [h.proxyJump] : [],
    proxycommand: h.proxyCommand !== undefined ? raw('proxycommand') : [],
    identityfile: identities.length ? identities : ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'],
    certificatefile: raw('certificatefile'),
    identitiesonly: [h.identitiesOnly ? 'yes' : 'no'],
    identityagent: h.identityAgent === null ? ['none'] : h.identityAgent === undefined ? (raw('identityagent').length ? ['SSH_AUTH_SOCK'] : []) : [h.identityAgent],
    stricthostkeychecking: [strict],
    userknownhostsfile: [h.userKnownHostsFiles.join(' ')],
    globalknownhostsfile: [h.globalKnownHostsFiles.join(' ')],
    connecttimeout: [h.connectTimeout === undefined ? 'none' : String(h.connectTimeout)],
    serveraliveinterval: [String(h.serverAliveInterval ?? 0)],
    serveralivecountmax: [String(h.serverAliveCountMax ?? 3)],
    forwardagent: [h.forwardAgent ? 'yes' : 'no'],
    hostkeyalias: raw('hostkeyalias'),
    batchmode: [/^(yes|true)$/i.test(raw('batchmode')[0] ?? '') ? 'yes' : 'no'],
    // ssh's lists (what ssh -G prints); h.algorithms is what rxssh negotiates of them.
    ...Object.fromEntries(
      (['ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms'] as const).map((k) => {
        const value = raw(k)[0];
        const list = value === undefined ? OPENSSH_ALGORITHMS[k].default : sshAlgorithmList(k, value);
        return [k, [Array.isArray(list) ? list.join(',') : String(list)]];
      }),
    ),
    compression: [h.algorithms?.compress ? 'yes' : 'no'],
    bindaddress: h.localAddress ? [h.localAddress] : [],
    addressfamily: [h.addressFamily ?? 'any'],
    connectionattempts: [String(h.connectionAttempts ?? 1)],
    requesttty: [{ yes: 'true', no: 'false', force: 'force', auto: 'auto' }[h.requestTty]],
    remotecommand: h.remoteCommand !== undefined ? [h.remoteCommand] : [],
    casignaturealgorithms: [(h.caSignatureAlgorithms ?? DEFAULT_CA_SIGNATURE_ALGORITHMS).join(',')],
  };
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
          mine = fromSshConfig(alias, { file: g.file, systemFile: null, extra: g.extra, home: userInfo().homedir, localUser: userInfo().username });
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
          const expected = theirs.get(keyword) ?? [];
          if (JSON.stringify(values) !== JSON.stringify(expected)) mismatches.push(`config ${n} ${alias} ${keyword}: rxssh ${JSON.stringify(values)}, ssh -G ${JSON.stringify(expected)}\n${g.text}${g.extra.length ? `-o ${g.extra.join(' -o ')}\n` : ''}`);
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
