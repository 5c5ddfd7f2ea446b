/**
 * The ssh_config keywords that change where rxssh connects and what it sends, against a real
 * sshd whose debug log says what was negotiated: Ciphers, MACs, KexAlgorithms,
 * HostKeyAlgorithms, Compression, BindAddress, AddressFamily; RemoteCommand, RequestTTY,
 * StdinNull, Unix socket forwards, StreamLocalBindMask, StreamLocalBindUnlink and
 * ClearAllForwardings through the CLI, each beside what ssh does with the same config.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, of } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectError, HostKeyRejectedError, SshConfigError, connectAlias, fromSshConfig, knownHostsName, run, scanCredentials, withConnection } from '../../lib/index.js';
import { errorOf, eventually, sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

let server: { info: SshdInfo; stop: () => Promise<void> };
let work: string;
let conf: string;

beforeAll(async () => {
  server = await startSshd({ account: sshd(), extra: ['LogLevel DEBUG2'] });
  const s = server.info;
  work = mkdtempSync(join(tmpdir(), 'rxssh-keywords-'));
  chmodSync(work, 0o755);
  const kh = join(work, 'known_hosts');
  writeFileSync(kh, ['ed25519', 'rsa', 'ecdsa'].map((t) => `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir, t)}\n${knownHostsName('localhost', s.port)} ${hostKeyLine(s.dir, t)}\n`).join(''));
  conf = join(work, 'ssh_config');
  writeFileSync(
    conf,
    [
      'Host algos',
      '  Ciphers aes256-ctr',
      '  MACs hmac-sha2-512',
      '  KexAlgorithms ecdh-sha2-nistp384',
      '  HostKeyAlgorithms rsa-sha2-512',
      '  Compression yes',
      '  BindAddress 127.0.0.2',
      'Host edits',
      '  Ciphers ^aes192-ctr',
      '  KexAlgorithms -curve25519*,sntrup*',
      'Host v4',
      '  HostName localhost',
      '  AddressFamily inet',
      'Host v6',
      '  HostName localhost',
      '  AddressFamily inet6',
      'Host rc',
      '  RemoteCommand echo remote %n %r',
      'Host tty',
      '  RequestTTY force',
      'Host rsa4096',
      '  HostKeyAlgorithms rsa-sha2-512',
      '  RequiredRSASize 4096',
      'Host pk-default pk-256 pk-no-rsa',
      `  IdentityFile ${s.keys['rsa']}`,
      'Host pk-256',
      '  PubkeyAcceptedAlgorithms rsa-sha2-256',
      'Host pk-no-rsa',
      '  PubkeyAcceptedKeyTypes -rsa*',
      'Host rsakey',
      `  IdentityFile ${s.keys['rsa']}`,
      '  RequiredRSASize 4096',
      'Host *',
      '  HostName 127.0.0.1',
      `  Port ${s.port}`,
      `  User ${s.username}`,
      `  IdentityFile ${s.keys['ed25519']}`,
      '  IdentitiesOnly yes',
      '  StrictHostKeyChecking yes',
      `  UserKnownHostsFile ${kh}`,
      '  GlobalKnownHostsFile /dev/null',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const log = (from: number): string => readFileSync(server.info.logFile, 'utf8').slice(from);
const mark = (): number => readFileSync(server.info.logFile, 'utf8').length;

describe('algorithms, compression and the local end, as sshd saw them', () => {
  it('Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms, Compression yes and BindAddress are what the connection used', async () => {
    const from = mark();
    const r = await lastValueFrom(connectAlias('algos', { file: conf, systemFile: null }).pipe(run('head -c 300000 /dev/zero | od -An -v | wc -c')));
    expect(Number(r.stdout.trim())).toBeGreaterThan(300_000); // a compressible stream arrived whole through zlib
    const seen = log(from);
    expect(seen).toContain('Connection from 127.0.0.2 ');
    expect(seen).toContain('kex: algorithm: ecdh-sha2-nistp384');
    expect(seen).toContain('kex: host key algorithm: rsa-sha2-512');
    expect(seen).toMatch(/kex: client->server cipher: aes256-ctr MAC: hmac-sha2-512 compression: zlib@openssh.com/);
    expect(seen).toMatch(/kex: server->client cipher: aes256-ctr MAC: hmac-sha2-512 compression: zlib@openssh.com/);
  });

  it('^ and - edits of the default list: the first of ssh\'s resulting list that sshd also has is negotiated', async () => {
    const from = mark();
    await lastValueFrom(connectAlias('edits', { file: conf, systemFile: null }).pipe(run('true')));
    const seen = log(from);
    expect(seen).toMatch(/client->server cipher: aes192-ctr /);
    expect(seen).toContain('kex: algorithm: ecdh-sha2-nistp256'); // curve25519 and sntrup taken out
  });

  it('AddressFamily: inet reaches the IPv4-only sshd through "localhost"; inet6 looks for an IPv6 address and fails', async () => {
    const ok = await lastValueFrom(connectAlias('v4', { file: conf, systemFile: null }).pipe(run('echo v4')));
    expect(ok.stdout).toBe('v4\n');
    const err = await errorOf(connectAlias('v6', { file: conf, systemFile: null }));
    expect(err).toBeInstanceOf(ConnectError);
    // ::1 refused, or (where localhost has no IPv6 address, as on this machine) not found.
    expect(String((err as ConnectError).cause)).toMatch(/::1|ENOTFOUND localhost/);
  });

  it('a config line below the hardened floor is refused naming it; algorithmPolicy compatible lets it through', async () => {
    const weak = join(work, 'weak_config');
    writeFileSync(weak, `Include ${conf}\nHost *\n  Ciphers aes128-cbc\n`);
    expect(() => connectAlias('plain', { file: weak, systemFile: null })).toThrow(SshConfigError);
    const err = (() => {
      try {
        connectAlias('plain', { file: weak, systemFile: null });
      } catch (e) {
        return e as SshConfigError;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/aes128-cbc below rxssh's hardened floor/);
    const from = mark();
    const r = await errorOf(connectAlias('plain', { file: weak, systemFile: null, algorithmPolicy: 'compatible' }).pipe(run('true')));
    // This sshd does not offer CBC: the opt-in is honoured (CBC asked for), and no algorithm is common.
    expect(String(r)).toMatch(/no matching|Handshake failed/i);
    expect(await eventually(() => /no matching cipher found|Unable to negotiate/.test(log(from)), 5000), 'sshd logged the failed negotiation').toBe(true);
  });
});

describe('PubkeyAcceptedAlgorithms, as sshd saw the signature', () => {
  // sshd at DEBUG2: "userauth_pubkey: valid user U attempting public key ALG …" per signed request.
  const signedWith = (seen: string): string[] => [...seen.matchAll(/userauth_pubkey: (?:in)?valid user \S+ (?:attempting|querying) public key (\S+)/g)].map((m) => m[1] as string);

  it('an RSA key signs with rsa-sha2-512 by default (OpenSSH\'s first), rsa-sha2-256 when the list says so; a key the list leaves out is not offered', async () => {
    let from = mark();
    await firstValueFrom(connectAlias('pk-default', { file: conf, systemFile: null }));
    expect(await eventually(() => /Accepted publickey .* RSA /.test(log(from)), 5000), log(from)).toBe(true);
    expect(signedWith(log(from))).toEqual(['rsa-sha2-512']);

    from = mark();
    await firstValueFrom(connectAlias('pk-256', { file: conf, systemFile: null }));
    expect(await eventually(() => /Accepted publickey .* RSA /.test(log(from)), 5000), log(from)).toBe(true);
    expect(signedWith(log(from))).toEqual(['rsa-sha2-256']);

    from = mark();
    const noRsa = await firstValueFrom(connectAlias('pk-no-rsa', { file: conf, systemFile: null }));
    const skipped = noRsa.auth.filter((e) => e.type === 'skipped');
    expect(await eventually(() => /Accepted publickey .* ED25519 /.test(log(from)), 5000), log(from)).toBe(true);
    expect(signedWith(log(from))).toEqual(['ssh-ed25519']);
    expect(skipped).toEqual([expect.objectContaining({ reason: 'algorithm', detail: expect.stringMatching(/key of type ssh-rsa not offered: not in PubkeyAcceptedAlgorithms|none of the RSA signature algorithms/) })]);
  });

  it('the connect() option: nothing the list allows → AuthenticationError naming why the key was passed over, and nothing signed', async () => {
    const from = mark();
    const err = await errorOf(connectAlias('pk-default', { file: conf, systemFile: null, extra: ['PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256'] }));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(String(err)).toMatch(/not in PubkeyAcceptedAlgorithms/);
    expect(signedWith(log(from))).toEqual([]);
  });
});

describe('RequiredRSASize', () => {
  it("sshd's 3072-bit RSA host key is rejected at 4096 before any verify stage; a 3072-bit identity is not offered", async () => {
    const err = await errorOf(connectAlias('rsa4096', { file: conf, systemFile: null }));
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect((err as HostKeyRejectedError).message).toMatch(/RSA host key of 3072 bits is below RequiredRSASize 4096/);
    const skipped: string[] = [];
    const scan = scanCredentials(fromSshConfig('rsakey', { file: conf, systemFile: null }), { agentSocket: null, onSkip: (file, why, detail) => skipped.push(`${why}: ${detail}`) });
    expect(scan.used).not.toContain(server.info.keys['rsa']);
    expect(skipped).toContain('rsa-too-small: RSA key of 3072 bits is below RequiredRSASize 4096');
    // Without the keyword the same key is offered and works (OpenSSH's default floor is 1024).
    expect(scanCredentials(fromSshConfig('plain', { file: conf, systemFile: null, extra: [`IdentityFile ${server.info.keys['rsa']}`] }), { agentSocket: null }).used).toContain(server.info.keys['rsa']);
  });
});

describe('UpdateHostKeys', () => {
  /** A config whose known hosts are `user` (and `global`), with UpdateHostKeys as given. */
  const configWith = (name: string, update: string, user: string, global = '/dev/null'): string => {
    const file = join(work, `ssh_config_${name}`);
    writeFileSync(
      file,
      [`Host ${name}`, '  HostName 127.0.0.1', `  Port ${server.info.port}`, `  User ${server.info.username}`, `  IdentityFile ${server.info.keys['ed25519']}`, '  IdentitiesOnly yes', '  StrictHostKeyChecking yes', `  UserKnownHostsFile ${user}`, `  GlobalKnownHostsFile ${global}`, `  UpdateHostKeys ${update}`, ''].join('\n'),
    );
    return file;
  };
  const typesIn = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[1] ?? '').sort();
  const edOnly = () => `${knownHostsName('127.0.0.1', server.info.port)} ${hostKeyLine(server.info.dir, 'ed25519')}\n`;

  it("yes: after a login by the known ed25519 key, the host's other keys that prove themselves are learned — the same types ssh learns", async () => {
    const ours = join(work, 'kh_update_ours');
    writeFileSync(ours, edOnly());
    await lastValueFrom(connectAlias('upd', { file: configWith('upd', 'yes', ours), systemFile: null }).pipe(run('sleep 0.5')));
    expect(await eventually(() => typesIn(ours).length === 3, 5000), 'learned').toBe(true);
    const theirs = join(work, 'kh_update_ssh');
    writeFileSync(theirs, edOnly());
    spawnSync('ssh', ['-F', configWith('upd', 'yes', theirs), '-o', 'BatchMode=yes', 'upd', 'sleep 0.5'], { encoding: 'utf8' });
    expect(typesIn(ours)).toEqual(typesIn(theirs));
    expect(typesIn(ours)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa']);
    // The learned keys are trusted now: the RSA key alone logs in.
    const rsa = configWith('upd', 'no', ours);
    writeFileSync(rsa, `${readFileSync(rsa, 'utf8')}  HostKeyAlgorithms rsa-sha2-512\n`);
    expect((await lastValueFrom(connectAlias('upd', { file: rsa, systemFile: null }).pipe(run('echo rsa')))).stdout).toBe('rsa\n');
  });

  it('no (and a match in the global file): nothing is learned', async () => {
    const off = join(work, 'kh_update_off');
    writeFileSync(off, edOnly());
    await lastValueFrom(connectAlias('off', { file: configWith('off', 'no', off), systemFile: null }).pipe(run('sleep 0.5')));
    const global = join(work, 'kh_update_global');
    writeFileSync(global, edOnly());
    const empty = join(work, 'kh_update_empty');
    writeFileSync(empty, '');
    await lastValueFrom(connectAlias('glob', { file: configWith('glob', 'yes', empty, global), systemFile: null }).pipe(run('sleep 0.5')));
    await new Promise((r) => setTimeout(r, 500));
    expect(typesIn(off)).toEqual(['ssh-ed25519']);
    expect(readFileSync(empty, 'utf8')).toBe('');
  });
});

describe('RekeyLimit', () => {
  /** Key exchanges sshd logged (the first one and every renewal). */
  const exchanges = (text: string): number => (text.match(/kex: client->server cipher/g) ?? []).length;
  const size = 8 * 1024 * 1024;
  const data = Buffer.from(Array.from({ length: size }, (_, i) => i % 251));
  const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

  it('1M: the client renews the keys every MiB either way, the data intact; as ssh does with the same config', async () => {
    const from = mark();
    const r = await lastValueFrom(connectAlias('v4', { file: conf, systemFile: null, extra: ['RekeyLimit 1M'] }).pipe(run('cat', { stdin: data, encoding: 'buffer' })));
    expect(digest(r.stdout)).toBe(digest(data));
    const ours = exchanges(log(from));
    const input = join(work, 'rekey-8MiB');
    writeFileSync(input, data);
    const sshFrom = mark();
    const theirs = spawnSync('sh', ['-c', `ssh -F ${conf} -o BatchMode=yes -o RekeyLimit=1M v4 cat < ${input} | sha256sum`], { encoding: 'utf8', timeout: 60_000 });
    expect(theirs.stdout.split(' ')[0]).toBe(digest(data));
    const sshExchanges = exchanges(log(sshFrom));
    // 8 MiB each way under a 1 MiB limit: about 8 renewals besides the first exchange (ssh asks
    // for more: 13-14 on this machine).
    expect(ours).toBeGreaterThanOrEqual(7);
    expect(ours).toBeLessThanOrEqual(sshExchanges + 3);
    expect(sshExchanges).toBeGreaterThanOrEqual(8);
  });

  it('default 1s: renewed about every second on an idle connection; without RekeyLimit never by the client', async () => {
    const from = mark();
    await lastValueFrom(connectAlias('v4', { file: conf, systemFile: null, extra: ['RekeyLimit default 1s'] }).pipe(run('sleep 3.5')));
    const timed = exchanges(log(from));
    expect(timed).toBeGreaterThanOrEqual(3); // the first, then one a second
    expect(timed).toBeLessThanOrEqual(5);
    const plain = mark();
    await lastValueFrom(connectAlias('v4', { file: conf, systemFile: null }).pipe(run('sleep 1.5')));
    expect(exchanges(log(plain))).toBe(1);
  });

  it('a RekeyLimit ssh refuses (below 16 bytes, a bad time) is refused wherever it stands, as ssh', () => {
    for (const bad of ['10', '1G 1x']) {
      const file = join(work, 'ssh_config_rekey_bad');
      writeFileSync(file, `Host elsewhere\n  RekeyLimit ${bad}\nHost *\n  HostName 127.0.0.1\n`);
      expect(() => fromSshConfig('v4', { file, systemFile: null })).toThrow(SshConfigError);
      expect(spawnSync('ssh', ['-G', '-F', file, 'v4'], { encoding: 'utf8' }).status).not.toBe(0);
    }
  });
});

describe('TCPKeepAlive', () => {
  /**
   * What `ss` says of the established TCP sockets of process `pid` to the sshd, once none has
   * data in flight: ss shows one timer, and a retransmission timer (`timer:(on,…)`) hides the
   * keepalive one while bytes wait for their ACK.
   */
  const socketsOf = (pid: number): string[] => {
    let lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines = spawnSync('ss', ['-tnopH', 'state', 'established', 'dport', '=', `:${server.info.port}`], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`pid=${pid},`));
      if (!lines.some((l) => l.includes('timer:(on,'))) return lines;
      spawnSync('sleep', ['0.05']);
    }
    return lines;
  };
  const ours = (extra: string[]): Promise<string[]> => lastValueFrom(connectAlias('v4', { file: conf, systemFile: null, extra }).pipe(withConnection(() => of(socketsOf(process.pid)))));

  it('yes (the default) sets SO_KEEPALIVE on the socket, as ssh does; no leaves it off', async () => {
    const byDefault = await ours([]);
    const off = await ours(['TCPKeepAlive no']);
    expect(byDefault).toHaveLength(1);
    expect(off).toHaveLength(1);
    expect(byDefault[0]).toMatch(/timer:\(keepalive,/);
    expect(off[0]).not.toMatch(/keepalive/);
    // ssh with the same config, looked at while its command runs.
    const sshSockets = (value: string): string[] => {
      const child = spawn('ssh', ['-F', conf, '-o', 'BatchMode=yes', '-o', `TCPKeepAlive=${value}`, 'v4', 'sleep 2'], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 50; i++) {
          const found = socketsOf(child.pid ?? -1);
          if (found.length > 0) return found;
          spawnSync('sleep', ['0.05']);
        }
        return [];
      } finally {
        child.kill();
      }
    };
    expect(sshSockets('yes')[0]).toMatch(/timer:\(keepalive,/);
    expect(sshSockets('no')[0]).toMatch(/pid=/);
    expect(sshSockets('no')[0]).not.toMatch(/keepalive/);
  });
});

describe('HashKnownHosts', () => {
  /** A config that learns (accept-new, or UpdateHostKeys on a known ed25519 key) into `file`. */
  const learning = (name: string, file: string, hash: string, update = false): string => {
    const path = join(work, `ssh_config_${name}`);
    writeFileSync(
      path,
      [`Host ${name}`, '  HostName 127.0.0.1', `  Port ${server.info.port}`, `  User ${server.info.username}`, `  IdentityFile ${server.info.keys['ed25519']}`, '  IdentitiesOnly yes',
        `  StrictHostKeyChecking ${update ? 'yes' : 'accept-new'}`, `  UserKnownHostsFile ${file}`, '  GlobalKnownHostsFile /dev/null', ...(update ? ['  UpdateHostKeys yes'] : []), ...(hash ? [`  HashKnownHosts ${hash}`] : []), ''].join('\n'),
    );
    return path;
  };
  const plain = () => knownHostsName('127.0.0.1', server.info.port);
  /** How each line of a known_hosts file names its host: hashed, or the plain `[127.0.0.1]:port`. */
  const names = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (l.startsWith('|1|') ? 'hashed' : l.split(' ')[0] === plain() ? 'plain' : `other: ${l.slice(0, 40)}`));
  const bySsh = (config: string, name: string) => spawnSync('ssh', ['-F', config, '-o', 'BatchMode=yes', name, 'sleep 0.5'], { encoding: 'utf8', timeout: 30_000 });

  it.each([
    ['yes', 'hashed'],
    ['no', 'plain'],
    ['', 'plain'],
  ])('accept-new with HashKnownHosts %j writes the host %s, as ssh does, and the line is trusted after', async (hash, shape) => {
    const ours = join(work, `kh_hash_ours_${hash || 'unset'}`);
    const theirs = join(work, `kh_hash_ssh_${hash || 'unset'}`);
    writeFileSync(ours, '');
    writeFileSync(theirs, '');
    await lastValueFrom(connectAlias('hk', { file: learning('hk', ours, hash), systemFile: null }).pipe(run('true')));
    expect(bySsh(learning('hk', theirs, hash), 'hk').status).toBe(0);
    expect(names(ours)).toEqual([shape]);
    expect(names(theirs)).toEqual([shape]);
    // What was learned is what a strict connection trusts now.
    const strict = learning('hk', ours, hash);
    writeFileSync(strict, readFileSync(strict, 'utf8').replace('StrictHostKeyChecking accept-new', 'StrictHostKeyChecking yes'));
    expect((await lastValueFrom(connectAlias('hk', { file: strict, systemFile: null }).pipe(run('echo trusted')))).stdout).toBe('trusted\n');
  });

  it("UpdateHostKeys with HashKnownHosts yes learns the host's other keys under its hashed name, as ssh does", async () => {
    const ours = join(work, 'kh_update_hashed_ours');
    const theirs = join(work, 'kh_update_hashed_ssh');
    const known = `${plain()} ${hostKeyLine(server.info.dir, 'ed25519')}\n`;
    writeFileSync(ours, known);
    writeFileSync(theirs, known);
    await lastValueFrom(connectAlias('hu', { file: learning('hu', ours, 'yes', true), systemFile: null }).pipe(run('sleep 0.5')));
    expect(await eventually(() => names(ours).length === 3, 5000), 'learned').toBe(true);
    bySsh(learning('hu', theirs, 'yes', true), 'hu');
    expect(names(ours)).toEqual(['plain', 'hashed', 'hashed']);
    expect(names(theirs)).toEqual(names(ours));
  });
});

describe('RemoteCommand and RequestTTY through the CLI', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });

  it("exec -G prints what rxssh resolved, in ssh -G's words: every line one that ssh -G prints too; nothing connects; a command beside it is refused", () => {
    for (const alias of ['fwd', 'rc', 'tty']) {
      const ours = cli(['exec', '-G', '-F', conf, alias]);
      expect(ours.status, ours.stderr).toBe(0);
      const lines = ours.stdout.trim().split('\n');
      const theirs = spawnSync('ssh', ['-G', '-F', conf, alias], { encoding: 'utf8' }).stdout.split('\n');
      expect(lines.length).toBeGreaterThan(30);
      expect(lines.filter((l) => !theirs.includes(l))).toEqual([]);
    }
    const unreachable = cli(['exec', '-G', '-p', '1', '127.0.0.1']);
    expect([unreachable.status, unreachable.stdout]).toEqual([0, expect.stringContaining('port 1\n')]);
    expect(cli(['exec', '-G', '-F', conf, 'fwd', 'uptime']).status).toBe(2);
  });

  it('exec HOST runs the RemoteCommand (tokens expanded); with a command too it is an error, as ssh', () => {
    const r = cli(['exec', '-F', conf, 'rc']);
    expect(r.stdout, r.stderr).toBe(`remote rc ${server.info.username}\n`);
    const clash = cli(['exec', '-F', conf, 'rc', 'whoami']);
    expect(clash.status).toBe(255);
    expect(clash.stderr).toContain('Cannot execute command-line and remote command.');
    const theirs = spawnSync('ssh', ['-F', conf, 'rc', 'whoami'], { encoding: 'utf8' });
    expect(theirs.stderr).toContain('Cannot execute command-line and remote command.');
  });

  it('RequestTTY force gives exec and run a terminal; -T and -x -T take it away', () => {
    const probe = 'test -t 0 && echo tty || echo notty';
    expect(cli(['exec', '-F', conf, 'tty', probe]).stdout.replace(/\r/g, '')).toBe('tty\n');
    expect(cli(['exec', '-T', '-F', conf, 'tty', probe]).stdout).toBe('notty\n');
    const viaRun = cli(['run', '-F', conf, '-H', 'tty', '-i', '--', probe]);
    expect(viaRun.stdout.replace(/\r/g, '')).toMatch(/\ntty\n/);
    const noTty = cli(['run', '-F', conf, '-H', 'tty', '-x', '-T', '-i', '--', probe]);
    expect(noTty.stdout).toMatch(/\nnotty\n/);
  });

  it('StdinNull yes: exec and run -I send the command no stdin (as ssh -n); without it they do', () => {
    const count = 'wc -c';
    const input = 'twelve bytes';
    const withCli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', input, env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
    expect(withCli(['exec', '-F', conf, 'v4', count]).stdout.trim()).toBe('12');
    expect(withCli(['exec', '-F', conf, '-o', 'StdinNull=yes', 'v4', count]).stdout.trim()).toBe('0');
    // ssh says the same of the same config.
    expect(spawnSync('ssh', ['-F', conf, '-o', 'StdinNull=yes', '-o', 'BatchMode=yes', 'v4', count], { encoding: 'utf8', input }).stdout.trim()).toBe('0');
    expect(withCli(['run', '-F', conf, '-H', 'v4', '-I', '-i', '--', count]).stdout).toMatch(/\n12\n/);
    expect(withCli(['run', '-F', conf, '-H', 'v4', '-O', 'StdinNull=yes', '-I', '-i', '--', count]).stdout).toMatch(/\n0\n/);
  });
});

describe('Unix socket forwards through the CLI, and the ssh_config keywords about forwards', () => {
  const rxssh = (args: string[]): string[] => [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec', '-F', conf, ...args];
  const ssh = (args: string[]): string[] => ['ssh', '-F', conf, '-o', 'BatchMode=yes', ...args];
  /** A client in the background: its output so far, and a stop that interrupts it and waits for its exit code. */
  const background = (argv: string[]) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SSH_AUTH_SOCK: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { out: () => out, err: () => err, exited, stop: async () => (child.kill('SIGINT'), await exited) };
  };
  /** Sends `ping` through a socket (a path or a TCP port) and reads what comes back until it closes ('' if it cannot connect). */
  const through = async (where: { path: string } | { port: number }): Promise<string> => {
    const { connect } = await import('node:net');
    return new Promise((resolve) => {
      const socket = 'path' in where ? connect({ path: where.path }) : connect({ host: '127.0.0.1', port: where.port });
      let text = '';
      socket.on('connect', () => socket.end('ping'));
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', () => resolve(''));
      socket.on('close', () => resolve(text));
    });
  };
  /** A Unix socket server answering `pong:` and what it read; anyone may connect (sshd opens it as the test account). */
  const socketServer = async (path: string) => {
    const { createServer } = await import('node:net');
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('end', () => socket.end(`pong:${got}`));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    chmodSync(path, 0o777);
    return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  };
  const free = async (): Promise<number> => (await import('./sshd.js')).freePort();
  const modeOf = (path: string): string => {
    const st = statSync(path);
    return st.isSocket() ? (st.mode & 0o777).toString(8) : 'not a socket';
  };

  it('-L SOCKET:REMOTE_SOCKET with StreamLocalBindMask 0117 and StreamLocalBindUnlink yes: a stale file replaced, mode 0660, data through — as ssh', async () => {
    const remote = await socketServer(join(work, 'remote.sock'));
    try {
      for (const [name, client] of [['rxssh', rxssh], ['ssh', ssh]] as const) {
        const local = join(work, `${name}-local.sock`);
        writeFileSync(local, 'a file a crashed run left behind');
        const fwd = background(client(['-N', '-o', 'StreamLocalBindMask=0117', '-o', 'StreamLocalBindUnlink=yes', '-L', `${local}:${join(work, 'remote.sock')}`, 'fwd']));
        try {
          expect(await eventually(async () => (await through({ path: local })) === 'pong:ping', 20_000), `${name}: ${fwd.err()}`).toBe(true);
          expect(modeOf(local), name).toBe('660');
        } finally {
          await fwd.stop();
        }
      }
    } finally {
      await remote.close();
    }
  });

  it('LocalForward from the config (a socket path with a token), set up by exec -N, as ssh', async () => {
    const remote = await socketServer(join(work, 'remote3.sock'));
    try {
      for (const [name, client] of [['rxssh', rxssh], ['ssh', ssh]] as const) {
        const local = join(work, `${name}-%n.sock`);
        const fwd = background(client(['-N', '-o', `LocalForward=${local} ${join(work, 'remote3.sock')}`, 'fwd']));
        try {
          expect(await eventually(async () => (await through({ path: join(work, `${name}-fwd.sock`) })) === 'pong:ping', 20_000), `${name}: ${fwd.err()}`).toBe(true);
        } finally {
          await fwd.stop();
        }
      }
    } finally {
      await remote.close();
    }
  });

  it('a stale file and no StreamLocalBindUnlink: the forward fails and the file stays (rxssh always, ssh with ExitOnForwardFailure yes)', async () => {
    for (const [name, client, extra] of [['rxssh', rxssh, []], ['ssh', ssh, ['-o', 'ExitOnForwardFailure=yes']]] as const) {
      const local = join(work, `${name}-stale.sock`);
      writeFileSync(local, 'stale');
      const fwd = background(client([...extra, '-N', '-L', `${local}:127.0.0.1:${server.info.port}`, 'fwd']));
      const code = await Promise.race([fwd.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 20_000))]);
      if (code === 'still running') await fwd.stop();
      expect(code, `${name}: ${fwd.err()}`).toBe(255);
      expect(readFileSync(local, 'utf8')).toBe('stale');
      expect(fwd.err(), name).toMatch(name === 'rxssh' ? /Cannot listen on .*stale\.sock/ : /Address already in use/);
    }
  });

  it('-L PORT:REMOTE_SOCKET, -R PORT:LOCAL_SOCKET and -R REMOTE_SOCKET:LOCAL_SOCKET carry data to the socket on the other side, as ssh', async () => {
    const remote = await socketServer(join(work, 'remote2.sock'));
    const here = await socketServer(join(work, 'here.sock'));
    const serverSide = mkdtempSync(join(work, 'server-side-'));
    chmodSync(serverSide, 0o1777); // sshd makes the -R socket as the test account
    try {
      for (const [name, client] of [['rxssh', rxssh], ['ssh', ssh]] as const) {
        const [l, r] = [await free(), await free()];
        const listened = join(serverSide, `${name}.sock`);
        const fwd = background(client(['-N', '-L', `${l}:${join(work, 'remote2.sock')}`, '-R', `${r}:${join(work, 'here.sock')}`, '-R', `${listened}:${join(work, 'here.sock')}`, 'fwd']));
        try {
          expect(await eventually(async () => (await through({ port: l })) === 'pong:ping', 20_000), `${name} -L: ${fwd.err()}`).toBe(true);
          expect(await eventually(async () => (await through({ port: r })) === 'pong:ping', 20_000), `${name} -R: ${fwd.err()}`).toBe(true);
          expect(await eventually(async () => (await through({ path: listened })) === 'pong:ping', 20_000), `${name} -R socket: ${fwd.err()}`).toBe(true);
        } finally {
          await fwd.stop();
        }
      }
    } finally {
      await remote.close();
      await here.close();
    }
  });

  it('ClearAllForwardings yes: the command runs and no -L port is listened on, as ssh', async () => {
    for (const [name, client] of [['rxssh', rxssh], ['ssh', ssh]] as const) {
      const port = await free();
      const cmd = background(client(['-o', 'ClearAllForwardings=yes', '-L', `${port}:127.0.0.1:${server.info.port}`, 'fwd', 'echo up; sleep 2']));
      expect(await eventually(() => cmd.out() === 'up\n', 20_000), `${name}: ${cmd.err()}`).toBe(true);
      expect(await through({ port }), name).toBe(''); // refused: nothing listens
      expect(await cmd.exited, name).toBe(0);
    }
    // Without it the same command line listens (the probe above could not have passed by accident).
    const port = await free();
    const cmd = background(rxssh(['-L', `${port}:127.0.0.1:${server.info.port}`, 'fwd', 'echo up; sleep 2']));
    expect(await eventually(() => cmd.out() === 'up\n', 20_000), cmd.err()).toBe(true);
    expect(await eventually(async () => /^SSH-2\.0-/.test(await through({ port })), 10_000)).toBe(true);
    await cmd.exited;
  });
});

describe('AddKeysToAgent', () => {
  /** A fresh ssh-agent in debug mode (its log names each key added, with its constraints). */
  const startAgent = async (socket: string) => {
    const child = spawn('ssh-agent', ['-d', '-a', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    let gone = false;
    const exited = new Promise((resolve) => child.once('exit', resolve)).finally(() => (gone = true));
    await eventually(() => existsSync(socket) || gone, 10_000);
    if (gone) throw new Error(`ssh-agent -a ${socket} exited at once: ${log}`);
    return { added: (): string[] => [...log.matchAll(/process_add_identity: add (.*) \(provider/g)].map((m) => m[1] as string), log: () => log, stop: async () => (child.kill(), await exited) };
  };

  it('yes, confirm 1h, 20m and no: the key that logged in is added with the constraints ssh gives it (ed25519, ECDSA, RSA)', async () => {
    const seen: Record<string, string[]> = {};
    for (const [setting, key] of [['yes', 'ed25519'], ['confirm 1h', 'ecdsa'], ['20m', 'rsa'], ['no', 'ed25519']] as const) {
      for (const client of ['rxssh', 'ssh'] as const) {
        const socket = join(work, `agent-${client}-${key}-${setting.replace(/\W/g, '')}.sock`);
        const agent = await startAgent(socket);
        try {
          const args = ['exec', '-F', conf, '-o', `AddKeysToAgent=${setting}`, '-o', `IdentityAgent=${socket}`, '-i', server.info.keys[key] ?? '', 'fwd', 'true'];
          const r =
            client === 'rxssh'
              ? spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', timeout: 20_000 })
              : spawnSync('ssh', ['-o', 'BatchMode=yes', ...args.slice(1)], { encoding: 'utf8', timeout: 20_000 });
          expect(r.status, `${client} ${setting}: ${String(r.signal)} ${r.stderr} ${agent.log()}`).toBe(0);
          // The add runs beside the command: wait for it (or for nothing, with no).
          await eventually(() => agent.added().length > 0, setting === 'no' ? 1_000 : 10_000);
          seen[`${setting} ${key} ${client}`] = agent.added();
        } finally {
          await agent.stop();
        }
      }
    }
    const fingerprint = (k: string): string => spawnSync('ssh-keygen', ['-l', '-f', server.info.keys[k] ?? ''], { encoding: 'utf8' }).stdout.split(' ')[1] ?? '';
    for (const [setting, key, type, life, confirm] of [['yes', 'ed25519', 'ssh-ed25519', 0, 0], ['confirm 1h', 'ecdsa', 'ecdsa-sha2-nistp256', 3600, 1], ['20m', 'rsa', 'ssh-rsa', 1200, 0]] as const) {
      expect(seen[`${setting} ${key} rxssh`]?.[0]).toMatch(new RegExp(`^${type} ${fingerprint(key).replace(/[+/]/g, '\\$&')} ".*" \\(life: ${life}\\) \\(confirm: ${confirm}\\)`));
      expect(seen[`${setting} ${key} rxssh`], setting).toEqual(seen[`${setting} ${key} ssh`]);
    }
    expect(seen['no ed25519 rxssh']).toEqual([]);
    expect(seen['no ed25519 ssh']).toEqual([]);
  }, 180_000);
});
