/**
 * Trust and configuration against real OpenSSH: known_hosts outcomes agree with `ssh` and
 * `ssh-keygen -F`; a real ssh-agent; jump hosts through two sshd; keepalive on a blackholed
 * connection.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, map, tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectError,
  HostKeyMismatchError,
  HostKeyRejectedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  TimeoutError,
  agent,
  authenticate,
  connect,
  connectAlias,
  knownHosts,
  knownHostsName,
  pinned,
  privateKey,
  run,
  verifyHostKey,
  withConnection,
  type HostKeyPolicy,
} from '../../lib/index.js';
import { errorOf, eventually, expectNoLeaks, freeClosedPort, resources, sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';
import { keyPair } from '../helpers/keys.js';

let s: SshdInfo;
let dir: string;
let hostLine: string;
beforeAll(() => {
  s = sshd();
  dir = mkdtempSync(join(tmpdir(), 'rxssh-trust-'));
  hostLine = hostKeyLine(s.dir);
});

type Outcome = 'ok' | 'unknown' | 'mismatch' | 'revoked';

async function rxsshOutcome(file: string): Promise<Outcome> {
  try {
    await lastValueFrom(
      connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(
        verifyHostKey(knownHosts({ files: [file] })),
        authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
        run('true'),
      ),
    );
    return 'ok';
  } catch (err) {
    if (err instanceof HostKeyUnknownError) return 'unknown';
    if (err instanceof HostKeyMismatchError) return 'mismatch';
    if (err instanceof HostKeyRevokedError) return 'revoked';
    throw err;
  }
}

function sshOutcome(file: string): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      'ssh',
      ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null',
        // ssh2 always prefers ed25519; make OpenSSH negotiate the same key type.
        '-o', 'HostKeyAlgorithms=ssh-ed25519', '-i', s.keys['ed25519'] ?? '', '-p', String(s.port), `${s.username}@127.0.0.1`, 'true'],
      (err, _out, stderr) => {
        if (!err) return resolve('ok');
        if (/REVOKED/.test(stderr)) return resolve('revoked');
        if (/IDENTIFICATION HAS CHANGED/.test(stderr)) return resolve('mismatch');
        resolve('unknown');
      },
    );
  });
}

describe('composing stages does not change what they do (issue 21 #17)', () => {
  it('a tap between connect and verifyHostKey, and a policy wrapped in a function of the user, verify a host known only by its ECDSA key', async () => {
    const file = join(dir, 'kh-composed');
    writeFileSync(file, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir, 'ecdsa')}\n`);
    const policy = knownHosts({ files: [file] });
    const seen: string[] = [];
    const wrapped: HostKeyPolicy = (key) => {
      seen.push(key.type);
      return policy(key);
    };
    const base = () => connect({ host: '127.0.0.1', port: s.port, username: s.username });
    const pipelines = {
      tap: base().pipe(
        tap(() => seen.push('tap')),
        verifyHostKey(policy),
      ),
      wrapped: base().pipe(verifyHostKey(wrapped)),
      both: base().pipe(
        map((offer) => offer),
        verifyHostKey(wrapped),
      ),
    };
    for (const [name, transport$] of Object.entries(pipelines)) {
      const r = await lastValueFrom(
        transport$.pipe(
          authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
          withConnection((c) => c.run('echo composed').pipe(map((out) => [out.stdout, c.hostKey.fingerprint]))),
        ),
      );
      expect(r, name).toEqual(['composed\n', s.hostFingerprints['ecdsa']]);
    }
    // The wrapped policy saw the ed25519 offer first, refused it, and the connection started
    // over asking for ECDSA (one extra handshake), as with the policy given directly.
    expect(seen.filter((t) => t !== 'tap')).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-ed25519', 'ecdsa-sha2-nistp256']);
  });
});

describe('known key types are asked for first (OpenSSH orders its host-key algorithms by known_hosts)', () => {
  it.each([['ecdsa'], ['rsa']])('a host known only by its %s key is verified with that key, as `ssh -o StrictHostKeyChecking=yes` does', async (type) => {
    const line = hostKeyLine(s.dir, type);
    const file = join(dir, `kh-only-${type}`);
    writeFileSync(file, `${knownHostsName('127.0.0.1', s.port)} ${line}\n`);
    // OpenSSH, with no HostKeyAlgorithms option: it picks the known type by itself.
    const ssh = await new Promise<number>((resolve) =>
      execFile(
        'ssh',
        ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-i', s.keys['ed25519'] ?? '', '-p', String(s.port), `${s.username}@127.0.0.1`, 'true'],
        (err) => resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
      ),
    );
    expect(ssh).toBe(0);
    let offered = '';
    const r = await lastValueFrom(
      connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(
        verifyHostKey(knownHosts({ files: [file] })),
        authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
        withConnection((c) => {
          offered = c.hostKey.fingerprint;
          return c.run('echo known type');
        }),
      ),
    );
    expect(r.stdout).toBe('known type\n');
    expect(offered).toBe(s.hostFingerprints[type]);
  });
});

describe('known_hosts: rxssh agrees with OpenSSH case by case', () => {
  it.each([
    ['ssh-keyscan -H (hashed [host]:port)', 'keyscan'],
    ['plain [host]:port', 'plain'],
    ['wildcard [127.0.0.*]:port', 'wildcard'],
    ['comma list with the host', 'list'],
    ['several keys for the host', 'several'],
    ['a different ed25519 key', 'mismatch'],
    ['only another host', 'other'],
    ['the host without its port', 'noport'],
    ['negated', 'negated'],
    ['@revoked', 'revoked'],
  ])('%s', async (_label, kind) => {
    const name = knownHostsName('127.0.0.1', s.port);
    const other = keyPair('ed25519').public.trim();
    const text: Record<string, () => string> = {
      keyscan: () => execFileSync('ssh-keyscan', ['-H', '-t', 'ed25519', '-p', String(s.port), '127.0.0.1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
      plain: () => `${name} ${hostLine}\n`,
      wildcard: () => `[127.0.0.*]:${s.port} ${hostLine}\n`,
      list: () => `example.org,${name},10.9.9.9 ${hostLine}\n`,
      several: () => `${name} ${other}\n${name} ${hostLine}\n`,
      mismatch: () => `${name} ${other}\n`,
      other: () => `[10.9.9.9]:${s.port} ${hostLine}\n`,
      noport: () => `127.0.0.1 ${hostLine}\n`,
      negated: () => `[127.0.0.*]:${s.port},!${name} ${hostLine}\n`,
      revoked: () => `${name} ${hostLine}\n@revoked * ${hostLine}\n`,
    };
    const file = join(dir, `kh-${kind}`);
    writeFileSync(file, (text[kind] ?? (() => ''))());
    const [ours, theirs] = await Promise.all([rxsshOutcome(file), sshOutcome(file)]);
    expect(ours).toBe(theirs);
    // ssh-keygen -F finds the host exactly when an entry names it.
    const found = (() => {
      try {
        execFileSync('ssh-keygen', ['-F', name, '-f', file], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    // (OpenSSH's own lookup by name; `noport` is accepted by ssh through its plain-name fallback.)
    expect(found).toBe(!['other', 'noport', 'negated'].includes(kind));
  });
});

describe('a real ssh-agent', () => {
  let sock: string;
  let pid: string;
  beforeAll(() => {
    sock = join(dir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    pid = /SSH_AGENT_PID=(\d+)/.exec(out)?.[1] ?? '';
  });
  afterAll(() => {
    if (pid) execFileSync('kill', [pid]);
  });

  it('agent() authenticates with keys added by ssh-add; an empty agent is refused', async () => {
    const empty = await errorOf(connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(verifyHostKey(pinned(s.hostFingerprints['ed25519'] ?? '')), authenticate(agent(sock))));
    expect(empty).toBeInstanceOf(AuthenticationError);
    execFileSync('ssh-add', [s.keys['ecdsa'] ?? ''], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const r = await lastValueFrom(
      connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(verifyHostKey(pinned(s.hostFingerprints['ed25519'] ?? '')), authenticate(agent(sock)), run('echo agent')),
    );
    expect(r.stdout).toBe('agent\n');
  });

  it('agent forwarding: the remote side sees the agent', async () => {
    execFileSync('ssh-add', [s.keys['ecdsa'] ?? ''], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const fp = execFileSync('ssh-keygen', ['-lf', `${s.keys['ecdsa']}.pub`], { encoding: 'utf8' }).split(' ')[1];
    const r = await lastValueFrom(
      connect({ host: '127.0.0.1', port: s.port, username: s.username, forwardAgent: sock }).pipe(
        verifyHostKey(pinned(s.hostFingerprints['ed25519'] ?? '')),
        authenticate(agent(sock)),
        run('ssh-add -l'),
      ),
    );
    expect(r.stdout).toContain(fp);
  });
});

describe('jump hosts (two real sshd)', () => {
  let target: { info: SshdInfo; stop: () => Promise<void> };
  beforeAll(async () => {
    target = await startSshd({ account: s });
  });
  afterAll(async () => {
    await target?.stop();
  });
  const bastion$ = () =>
    connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(
      verifyHostKey(pinned(s.hostFingerprints['ed25519'] ?? '')),
      authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
    );

  it('connect(target, { via: bastion }) runs on the target; unsubscribing tears down the chain', async () => {
    const baseline = resources();
    const r = await lastValueFrom(
      connect({ host: '127.0.0.1', port: target.info.port, username: target.info.username, via: bastion$() }).pipe(
        verifyHostKey(pinned(target.info.hostFingerprints['ed25519'] ?? '')), // each hop has its own policy
        authenticate(privateKey(readFileSync(target.info.keys['ed25519'] ?? ''))),
        run('echo through the bastion'),
      ),
    );
    expect(r.stdout).toBe('through the bastion\n');
    expect(readFileSync(target.info.logFile, 'utf8')).toContain(`Accepted publickey for ${target.info.username} from 127.0.0.1`);
    await expectNoLeaks(baseline);
    // A long command through the chain, cancelled: both connections close, the command dies.
    const tag = `sleep 60.${Date.now() % 100000}`;
    const sub = connect({ host: '127.0.0.1', port: target.info.port, username: target.info.username, via: bastion$() })
      .pipe(verifyHostKey(pinned(target.info.hostFingerprints['ed25519'] ?? '')), authenticate(privateKey(readFileSync(target.info.keys['ed25519'] ?? ''))), withConnection((c) => c.exec(tag)))
      .subscribe({ error: () => undefined });
    expect(await eventually(() => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(tag), 10_000), 'the command started').toBe(true);
    sub.unsubscribe();
    await expectNoLeaks(baseline);
    expect(await eventually(() => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(tag), 10_000), 'the command was stopped').toBe(true);
  });

  it('a failure at a hop is typed and names the hop', async () => {
    const badBastion = connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(
      verifyHostKey(pinned(`SHA256:${'C'.repeat(43)}`)),
      authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
    );
    const err = await errorOf(
      connect({ host: '127.0.0.1', port: target.info.port, username: target.info.username, via: badBastion }).pipe(
        verifyHostKey(pinned(target.info.hostFingerprints['ed25519'] ?? '')),
        authenticate(privateKey(readFileSync(target.info.keys['ed25519'] ?? ''))),
      ),
    );
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect((err as HostKeyRejectedError).port).toBe(s.port); // the bastion
    const closed = await freeClosedPort();
    const unreachable = await errorOf(
      connect({ host: '127.0.0.1', port: closed, username: target.info.username, via: bastion$() }).pipe(verifyHostKey(() => true), authenticate(privateKey(readFileSync(target.info.keys['ed25519'] ?? '')))),
    );
    expect(unreachable).toBeInstanceOf(ConnectError);
    expect((unreachable as ConnectError).port).toBe(closed);
  });

  it('ProxyJump from ~/.ssh/config (two hops) via connectAlias', async () => {
    const kh = join(dir, 'kh-jump');
    const targetLine = hostKeyLine(target.info.dir);
    writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostLine}\n${knownHostsName('127.0.0.1', target.info.port)} ${targetLine}\n`);
    const conf = join(dir, 'ssh_config');
    writeFileSync(
      conf,
      [
        'Host inner',
        '  HostName 127.0.0.1',
        `  Port ${target.info.port}`,
        '  ProxyJump hop1,hop2',
        'Host hop1 hop2',
        '  HostName 127.0.0.1',
        `  Port ${s.port}`,
        'Host *',
        `  User ${s.username}`,
        `  IdentityFile ${s.keys['ed25519']}`,
        `  IdentityFile ${target.info.keys['ed25519']}`,
        '  IdentitiesOnly yes',
        '  StrictHostKeyChecking yes',
        `  UserKnownHostsFile ${kh}`,
        '',
      ].join('\n'),
    );
    const r = await lastValueFrom(connectAlias('inner', { file: conf }).pipe(run('echo two hops')));
    expect(r.stdout).toBe('two hops\n');
  });
});

describe('keepalive', () => {
  it('a blackholed connection errors with TimeoutError (phase keepalive) within interval × (count + 1)', async () => {
    const sockets: Socket[] = [];
    let blackhole = false;
    const proxy = createServer((client) => {
      const upstream = tcpConnect({ host: '127.0.0.1', port: s.port });
      sockets.push(client, upstream);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.on('data', (d) => blackhole || upstream.write(d));
      upstream.on('data', (d) => blackhole || client.write(d));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const interval = 300;
    const countMax = 2;
    let blackholedAt = 0;
    const err = await errorOf(
      connect({ host: '127.0.0.1', port, username: s.username, keepalive: { interval, countMax } }).pipe(
        verifyHostKey(() => true),
        authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
        withConnection(() => {
          blackhole = true;
          blackholedAt = Date.now();
          return new Promise(() => undefined);
        }),
      ),
    );
    const elapsed = Date.now() - blackholedAt;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('keepalive');
    expect(elapsed).toBeLessThan(interval * (countMax + 1) + 1000);
    for (const sock of sockets) sock.destroy();
    proxy.close();
  });
});
