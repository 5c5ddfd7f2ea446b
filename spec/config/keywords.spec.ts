/**
 * Every ssh_config line rxssh cannot honour is refused, naming the keyword and FILE:LINE, never
 * dropped; harmless ones are accepted; Include inside a Host block applies only there (as
 * `ssh -G` resolves it, which runs beside rxssh here).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSshConfig, hostKeyPolicyFor, SshConfigError } from '../../lib/index.js';
import { KEYWORDS } from '../../lib/config/keywords.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-keywords-'));
let n = 0;
/** Writes a config file and returns its path. */
function config(text: string): string {
  const file = join(dir, `c${n++}.conf`);
  writeFileSync(file, text);
  return file;
}
function refusedBy(file: string, alias: string): SshConfigError {
  try {
    fromSshConfig(alias, { file, home: dir });
  } catch (err) {
    if (err instanceof SshConfigError) return err;
    throw err;
  }
  throw new Error(`${alias} was resolved, not refused`);
}
/** `ssh -G` of OpenSSH itself, as key → values. */
function sshG(file: string, host: string): Map<string, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) map.set(line.slice(0, at), [...(map.get(line.slice(0, at)) ?? []), line.slice(at + 1)]);
  }
  return map;
}

describe('keywords rxssh cannot honour are refused with FILE:LINE', () => {
  it.each([
    ['ProxyCommand ssh -W %h:%p %x', 'proxycommand', /unknown token %x in ProxyCommand/],
    ['BindInterface eth0', 'bindinterface', /interface/],
    ['CanonicalizePermittedCNAMEs *.a:*.b', 'canonicalizepermittedcnames', /CNAME/],
    ['LocalForward 8080 localhost:80', 'localforward', /forwards/],
    ['KnownHostsCommand /bin/cat', 'knownhostscommand', /KnownHostsCommand/],
    ['CASignatureAlgorithms sk-nonexistent', 'casignaturealgorithms', /not an algorithm ssh knows/],
    ['HostKeyAlgorithms +ssh-rsa', 'hostkeyalgorithms', /ssh-rsa below rxssh's hardened floor/],
    ['KexAlgorithms ^sntrup761x25519-sha512@openssh.com', 'kexalgorithms', /sntrup761x25519-sha512@openssh.com not available in rxssh/],
    ['PasswordAuthentication no', 'passwordauthentication', /password/],
    ['PreferredAuthentications publickey', 'preferredauthentications', /order/],
    ['PubkeyAcceptedAlgorithms +sk-ssh-ed25519@openssh.com', 'pubkeyacceptedalgorithms', /sk-ssh-ed25519@openssh.com not available in rxssh/],
    ['PubkeyAcceptedKeyTypes ^ssh-rsa', 'pubkeyacceptedalgorithms', /ssh-rsa below rxssh's hardened floor/],
    ['VerifyHostKeyDNS yes', 'verifyhostkeydns', /SSHFP/],
    ['ForkAfterAuthentication yes', 'forkafterauthentication', /background/],
    ['ProxyUseFdpass yes', 'proxyusefdpass', /cannot receive a socket/],
    ['AddKeysToAgent ask', 'addkeystoagent', /does not ask before it adds a key/],
    ['AddKeysToAgent yes 1h', 'addkeystoagent', /yes, no, ask, confirm \[TIME\] or TIME/],
    ['LocalForward 8080', 'localforward', /Bad forwarding specification/],
    ['ChannelTimeout session=5m', 'channeltimeout', /does not close idle channels/],
  ])('%s', (line, keyword, why) => {
    const file = config(`# fleet\nHost web\n  HostName web.example\n  ${line}\n`);
    const err = refusedBy(file, 'web');
    expect(err.keyword).toBe(keyword);
    expect(err.origin).toBe(`${file}:4`);
    expect(err.message).toMatch(why);
    expect(err.message).toContain(`${file}:4`);
    expect(err.phase).toBe('config');
  });

  it.each([
    ['BatchMode sure', 'batchmode', /unsupported option "sure"/, 'YES'],
    ['IdentitiesOnly x', 'identitiesonly', /unsupported option "x"/, 'no'],
    ['Compression maybe', 'compression', /unsupported option "maybe"/, 'YES'],
    ['Compression true', 'compression', /unsupported option "true"/, 'no'],
    ['StrictHostKeyChecking maybe', 'stricthostkeychecking', /unsupported option "maybe"/, 'Accept-New'],
    ['RequestTTY sometimes', 'requesttty', /unsupported option "sometimes"/, 'Force'],
    ['UpdateHostKeys always', 'updatehostkeys', /unsupported option "always"/, 'ASK'],
    ['ConnectTimeout 10x', 'connecttimeout', /invalid time value/, '1m30s'],
    ['ServerAliveInterval -1', 'serveraliveinterval', /invalid time value/, 'none'],
    ['ServerAliveCountMax three', 'serveralivecountmax', /integer value invalid/, '0'],
    ['RequiredRSASize big', 'requiredrsasize', /integer value invalid/, '2048'],
  ])('a value ssh does not take is refused by both (it was read as the default): %s', (line, keyword, why, taken) => {
    // In a block that does not apply, too: ssh parses the value before it looks at the block.
    for (const text of [`Host web\n  HostName web.example\n  ${line}\n`, `Host other\n  ${line}\nHost web\n  HostName web.example\n`]) {
      const file = config(text);
      const err = refusedBy(file, 'web');
      expect([err.keyword, err.message]).toEqual([keyword, expect.stringMatching(why)]);
      expect(() => execFileSync('ssh', ['-G', '-F', file, 'web'], { stdio: 'pipe' })).toThrow();
    }
    const fine = config(`Host web\n  ${line.split(' ')[0]} ${taken}\n`); // another case, or another form ssh takes
    expect(() => fromSshConfig('web', { file: fine, home: dir })).not.toThrow();
    expect(() => execFileSync('ssh', ['-G', '-F', fine, 'web'], { stdio: 'pipe' })).not.toThrow();
  });

  it('a keyword in a block that does not apply to the host changes nothing', () => {
    const file = config('Host bastion\n  ProxyCommand nc %h %p\nHost web\n  HostName web.example\n');
    expect(fromSshConfig('web', { file, home: dir }).host).toBe('web.example');
  });

  it('values that ask for nothing are accepted: ProxyCommand none, RequestTTY no, PasswordAuthentication yes, ForkAfterAuthentication no, ProxyUseFdpass no', () => {
    const file = config('Host *\n  ProxyCommand none\n  RequestTTY no\n  PasswordAuthentication yes\n  RemoteCommand none\n  ForkAfterAuthentication no\n  ProxyUseFdpass no\n  AddKeysToAgent confirm 30m\n  ChannelTimeout none\n');
    expect(() => fromSshConfig('web', { file, home: dir })).not.toThrow();
  });

  it('harmless keywords are accepted from files and -O alike (LogLevel, VisualHostKey, GSSAPIAuthentication, ControlMaster, TCPKeepAlive)', () => {
    const lines = ['LogLevel ERROR', 'VisualHostKey yes', 'Compression yes', 'GSSAPIAuthentication yes', 'ControlMaster auto', 'TCPKeepAlive yes'];
    const file = config(`Host *\n${lines.map((l) => `  ${l}\n`).join('')}`);
    expect(() => fromSshConfig('web', { file, home: dir })).not.toThrow();
    expect(() => fromSshConfig('web', { file: null, extra: lines })).not.toThrow();
  });

  it('an -O/extra line rxssh cannot honour is refused as coming from the command line', () => {
    const err = (() => {
      try {
        fromSshConfig('web', { file: null, extra: ['LocalForward 8080 db:80'] });
      } catch (e) {
        return e as SshConfigError;
      }
      throw new Error('not refused');
    })();
    expect(err).toBeInstanceOf(SshConfigError);
    expect(err.origin).toBe('command line');
  });

  it('a keyword OpenSSH does not know is an error (as ssh: "Bad configuration option") unless IgnoreUnknown names it', () => {
    const bad = config('Host *\n  FrobnicateHosts yes\n');
    expect(refusedBy(bad, 'web').message).toMatch(/Bad configuration option: frobnicatehosts/);
    expect(() => execFileSync('ssh', ['-G', '-F', bad, 'web'], { stdio: 'pipe' })).toThrow(/Bad configuration option/);
    const ignored = config('IgnoreUnknown Frobnicate*\nHost *\n  FrobnicateHosts yes\n');
    expect(() => fromSshConfig('web', { file: ignored, home: dir })).not.toThrow();
  });

  it('Match exec runs with matchExec: true, as ssh -G runs it (tokens expanded, exit 0 matches)', () => {
    const ran = join(dir, 'match-exec-ran');
    const file = config(`Match exec "test %h = web1.example && touch ${ran}"\n  User fromexec\nHost *\n  HostName %h.example\n`);
    const web1 = fromSshConfig('web1', { file, home: dir, matchExec: true });
    expect(existsSync(ran)).toBe(false); // HostName comes after the Match: %h is still the alias, as in ssh
    const file2 = config(`Host *\n  HostName %h.example\nMatch exec "test %h = web1.example && touch ${ran}"\n  User fromexec\n`);
    expect(fromSshConfig('web1', { file: file2, home: dir, matchExec: true }).username).toBe('fromexec');
    expect(existsSync(ran)).toBe(true);
    expect(fromSshConfig('web2', { file: file2, home: dir, matchExec: true }).username).not.toBe('fromexec');
    for (const [f, alias, ours] of [[file, 'web1', web1.username], [file2, 'web1', 'fromexec']] as const) expect(sshG(f, alias).get('user')?.[0]).toBe(ours);
  });

  it('Match exec is never run: refused when it would be evaluated, skipped when an earlier criterion fails', () => {
    const file = config('Match host web exec "touch /tmp/rxssh-never"\n  User x\nMatch host db !exec "false"\n  User y\n');
    expect(refusedBy(file, 'db').keyword).toBe('match');
    expect(fromSshConfig('other', { file, home: dir }).username).not.toBe('x');
  });

  it('docs/ssh-config.md lists every keyword under its kind (and no other), each refused one with its reason', () => {
    const doc = readFileSync(new URL('../../docs/ssh-config.md', import.meta.url), 'utf8');
    /** The keywords a section's first paragraph (the list) or table names. */
    const section = (heading: string): Set<string> => {
      const start = doc.indexOf(`### ${heading}`);
      const body = doc.slice(start, doc.indexOf('\n#', start + 4)).split('\n\n')[1] ?? '';
      const rows = heading.startsWith('Refused') ? doc.slice(start).split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split('|')[1] ?? '') : [body];
      return new Set(rows.flatMap((r) => [...r.matchAll(/`([a-z0-9]+)`/g)].map((m) => m[1] as string)));
    };
    const listed = { honoured: section('Honoured'), harmless: section('Harmless'), refused: section('Refused') };
    for (const [keyword, rule] of KEYWORDS) {
      for (const kind of ['honoured', 'harmless', 'refused'] as const) expect(listed[kind].has(keyword), `${keyword} listed as ${kind}`).toBe(rule.kind === kind);
      if (rule.kind === 'refused') expect(doc, keyword).toContain(rule.why);
    }
  });

  it('every keyword `ssh -G` prints has a rule', () => {
    const printed = [...sshG(config(''), 'web').keys()];
    expect(printed.length).toBeGreaterThan(60);
    expect(printed.filter((k) => !KEYWORDS.has(k.toLowerCase()))).toEqual([]);
  });
});

describe('ProxyCommand as ssh reads it', () => {
  it('ProxyJump and ProxyCommand: whichever comes first wins, ProxyCommand none keeps ProxyJump out — as ssh -G says', () => {
    const file = config(
      [
        'Host a\n  ProxyJump b\n  ProxyCommand nc %h %p',
        'Host c\n  ProxyCommand nc %h %p\n  ProxyJump b',
        'Host d\n  ProxyCommand none',
        'Host d e\n  ProxyJump b',
        'Host f\n  ProxyJump none',
        'Host f g\n  ProxyCommand nc x %%',
        'Host h\n  HostName h.example\n  Port 2222\n  User ops\n  ProxyCommand ssh -W %h:%p -l %r %n.via',
        '',
      ].join('\n'),
    );
    for (const alias of ['a', 'c', 'd', 'e', 'f', 'g', 'h']) {
      const ours = fromSshConfig(alias, { file, home: dir });
      const theirs = sshG(file, alias);
      expect({ alias, jump: ours.proxyJump ?? null }).toEqual({ alias, jump: theirs.get('proxyjump')?.[0] ?? null });
      // ssh -G prints the command as written; rxssh expands it to run it.
      expect({ alias, command: ours.proxyCommand === undefined ? null : 'set' }).toEqual({ alias, command: theirs.has('proxycommand') ? 'set' : null });
    }
    expect(fromSshConfig('h', { file, home: dir }).proxyCommand).toBe('ssh -W h.example:2222 -l ops h.via');
    expect(fromSshConfig('g', { file, home: dir }).proxyCommand).toBe('nc x %');
  });

  it('tokens: %h %p %r %n %% and %C %L %l %u %d; another token is refused with FILE:LINE', () => {
    const file = config('Host web\n  HostName 10.0.0.5\n  ProxyCommand run %u %d %L %l %C\nHost bad\n  ProxyCommand nc %h %p %j\n');
    const web = fromSshConfig('web', { file, home: dir, localUser: 'me' });
    const [, u, d, short, long, hash] = (web.proxyCommand ?? '').split(' ');
    expect({ u, d }).toEqual({ u: 'me', d: dir });
    expect(long?.startsWith(short ?? '?')).toBe(true);
    expect(hash).toMatch(/^[0-9a-f]{40}$/);
    const err = refusedBy(file, 'bad');
    expect(err).toMatchObject({ keyword: 'proxycommand', origin: `${file}:5` });
    expect(err.message).toContain('unknown token %j');
  });
});

describe('ssh_config as ssh -G reads it', () => {
  it('Include inside a Host block applies only to that block; its own Host lines end with the file (issue 21 #7)', () => {
    mkdirSync(join(dir, 'web.d'), { recursive: true });
    writeFileSync(join(dir, 'web.d', 'a.conf'), `HostName web.example\nHost *\n  ForwardAgent yes\n  IdentityFile ${dir}/web_key\n`);
    const file = config(`Host web\n  Include ${dir}/web.d/*.conf\n  User webuser\nHost other\n  HostName other.example\n`);
    const other = fromSshConfig('other', { file, home: dir });
    const web = fromSshConfig('web', { file, home: dir });
    expect({ host: other.host, forwardAgent: other.forwardAgent, ids: other.identityFiles.includes(`${dir}/web_key`) }).toEqual({ host: 'other.example', forwardAgent: false, ids: false });
    expect({ host: web.host, forwardAgent: web.forwardAgent, user: web.username, ids: web.identityFiles }).toEqual({ host: 'web.example', forwardAgent: true, user: 'webuser', ids: [`${dir}/web_key`] });
    for (const [alias, ours] of [['other', other], ['web', web]] as const) {
      const theirs = sshG(file, alias);
      expect(ours.host).toBe(theirs.get('hostname')?.[0]);
      expect(ours.forwardAgent ? 'yes' : 'no').toBe(theirs.get('forwardagent')?.[0]);
      expect(ours.username).toBe(theirs.get('user')?.[0]);
    }
  });

  it('GlobalKnownHostsFile is read (a host known only there is trusted; it was ignored)', () => {
    const file = config(`Host web\n  GlobalKnownHostsFile ${dir}/global_known\n  UserKnownHostsFile /dev/null\n`);
    const host = fromSshConfig('web', { file, home: dir });
    expect(host.globalKnownHostsFiles).toEqual([`${dir}/global_known`]);
    expect(typeof hostKeyPolicyFor(host)).toBe('function');
  });

  it('/etc/ssh/ssh_config is read after the user file unless a file was given (as ssh -F); the first value wins', () => {
    const system = config('Host *\n  User fromsystem\n  Port 2200\n');
    const user = join(dir, '.ssh');
    mkdirSync(user, { recursive: true });
    writeFileSync(join(user, 'config'), 'Host web\n  Port 2222\n');
    const h = fromSshConfig('web', { home: dir, systemFile: system });
    expect({ user: h.username, port: h.port }).toEqual({ user: 'fromsystem', port: 2222 });
    const refusing = config('Host *\n  LocalForward 8080 db:80\n');
    expect(() => fromSshConfig('web', { home: dir, systemFile: refusing })).toThrow(SshConfigError);
    expect(fromSshConfig('web', { file: join(user, 'config'), home: dir }).username).not.toBe('fromsystem');
  });

  it('SetEnv and SendEnv become the connection env (SetEnv first value per name; SendEnv patterns, -PATTERN removes a pattern given before, as in ssh)', () => {
    process.env['RXSSH_SPEC_A'] = 'a';
    process.env['RXSSH_SPEC_B'] = 'b';
    const file = config('Host web\n  SetEnv RXSSH_SET=1 RXSSH_SET2="two words"\n  SetEnv RXSSH_SET=ignored\n  SendEnv RXSSH_SPEC_A RXSSH_SPEC_B\n  SendEnv -RXSSH_SPEC_B\n');
    expect(fromSshConfig('web', { file, home: dir }).env).toEqual({ RXSSH_SET: '1', RXSSH_SET2: 'two words', RXSSH_SPEC_A: 'a' });
  });

  it('IdentityAgent none turns the agent off; a path replaces SSH_AUTH_SOCK', () => {
    expect(fromSshConfig('web', { file: config('Host *\n  IdentityAgent none\n'), home: dir }).identityAgent).toBeNull();
    expect(fromSshConfig('web', { file: config('Host *\n  IdentityAgent ~/agent.sock\n'), home: dir }).identityAgent).toBe(`${dir}/agent.sock`);
  });
});
