/**
 * Targets behind a bastion (ProxyJump), against two real sshd: the bastion with stock
 * `MaxStartups 10:30:100` and `LogLevel VERBOSE`, the suite's sshd as the target. 220 targets in
 * one process log in to the bastion once (library and CLI); a bastion connection lost under
 * running targets fails them typed, naming the hop, and the next target logs in again.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, merge, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectionLostError, HopPool, ProxyCommandError, connectAlias, knownHostsName, run, defaultHopPool } from '../../lib/index.js';
import { fanOut, sshConfigTargets } from '../../lib/fleet/index.js';
import { eventually, errorOf, freeClosedPort, sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

const TARGETS = 220;
const PROXIED = 500;
let closedPort: number;
let s: SshdInfo;
let bastion: { info: SshdInfo; stop: () => Promise<void> };
let work: string;
let conf: string;

beforeAll(async () => {
  s = sshd();
  bastion = await startSshd({ account: s, extra: ['MaxStartups 10:30:100'] });
  work = mkdtempSync(join(tmpdir(), 'rxssh-bastion-'));
  chmodSync(work, 0o755);
  const kh = join(work, 'known_hosts');
  writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n${knownHostsName('127.0.0.1', bastion.info.port)} ${hostKeyLine(bastion.info.dir)}\n`);
  conf = join(work, 'ssh_config');
  closedPort = await freeClosedPort();
  const names = Array.from({ length: TARGETS }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);
  const proxied = Array.from({ length: PROXIED }, (_, i) => `p${String(i + 1).padStart(3, '0')}`);
  writeFileSync(
    conf,
    [
      `Host ${names.join(' ')}`,
      '  HostName 127.0.0.1',
      `  Port ${s.port}`,
      '  ProxyJump bastion',
      // OpenSSH's own client as the ProxyCommand, through the suite's sshd as its bastion.
      `Host ${proxied.join(' ')}`,
      '  HostName 127.0.0.1',
      `  Port ${s.port}`,
      `  ProxyCommand ssh -F ${join(work, 'ssh_config')} -W %h:%p sshd-bastion`,
      'Host sshd-bastion',
      '  HostName 127.0.0.1',
      `  Port ${s.port}`,
      'Host refused-proxy',
      '  HostName 127.0.0.1',
      `  Port ${s.port}`,
      `  ProxyCommand ssh -F ${join(work, 'ssh_config')} -W %h:%p closed-bastion`,
      'Host closed-bastion',
      '  HostName 127.0.0.1',
      `  Port ${closedPort}`,
      'Host bastion',
      '  HostName 127.0.0.1',
      `  Port ${bastion.info.port}`,
      'Host *',
      `  User ${s.username}`,
      `  IdentityFile ${s.keys['ed25519']}`,
      `  IdentityFile ${bastion.info.keys['ed25519']}`,
      '  IdentitiesOnly yes',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      `  UserKnownHostsFile ${kh}`,
      '  GlobalKnownHostsFile /dev/null',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await bastion?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The bastion's log since `from` (a length of it read before). */
const bastionLog = (from = 0): string => readFileSync(bastion.info.logFile, 'utf8').slice(from);
const logins = (log: string): number => log.split('\n').filter((l) => l.includes(`Accepted publickey for ${s.username} from 127.0.0.1`)).length;
const drops = (log: string): number => log.split('\n').filter((l) => /drop connection|MaxStartups throttling/.test(l)).length;

describe('one bastion login per process (ProxyJump through a shared hop)', () => {
  it(`${TARGETS} targets, 50 at once, through connectAlias: every target ok, one bastion login, no MaxStartups drops`, async () => {
    const from = bastionLog().length;
    const before = defaultHopPool.stats.opened;
    const targets = sshConfigTargets({ file: conf, systemFile: null, match: 't*' });
    expect(targets).toHaveLength(TARGETS);
    const results = await lastValueFrom(fanOut(targets, (t) => connectAlias(t.alias ?? t.host, { file: conf, systemFile: null }).pipe(run('echo $((6*7))')), { concurrency: 50 }).pipe(toArray()));
    expect(results.filter((r) => r.status === 'ok')).toHaveLength(TARGETS);
    expect(results.every((r) => r.stdout === '42\n')).toBe(true);
    expect(defaultHopPool.stats.opened - before).toBe(1);
    expect(await eventually(() => defaultHopPool.stats.open === 0, 5000), 'the hop closed after the last target').toBe(true);
    const log = bastionLog(from);
    expect(logins(log)).toBe(1);
    expect(drops(log)).toBe(0);
    // The target sshd saw every target's own login.
    expect(readFileSync(s.logFile, 'utf8').split('\n').filter((l) => l.includes(`Accepted publickey for ${s.username} from 127.0.0.1`)).length).toBeGreaterThanOrEqual(TARGETS);
  });

  it('without the pool (hopPool: null) every target logs in to the bastion: the baseline the pool removes', async () => {
    const from = bastionLog().length;
    const results = await lastValueFrom(
      fanOut(sshConfigTargets({ file: conf, systemFile: null, match: 't00?' }), (t) => connectAlias(t.alias ?? t.host, { file: conf, systemFile: null, hopPool: null }).pipe(run('true')), { concurrency: 3 }).pipe(toArray()),
    );
    expect(results.map((r) => r.status)).toEqual(Array(9).fill('ok'));
    expect(logins(bastionLog(from))).toBe(9);
  });

  it('a channel bound of 16 with 40 at once: at most three bastion logins, every target ok', async () => {
    const from = bastionLog().length;
    const pool = new HopPool({ maxChannels: 16 });
    const targets = sshConfigTargets({ file: conf, systemFile: null, match: 't00*,t01*,t02*,t03*' });
    expect(targets).toHaveLength(39);
    const results = await lastValueFrom(
      fanOut(targets, (t) => connectAlias(t.alias ?? t.host, { file: conf, systemFile: null, hopPool: pool }).pipe(run('sleep 0.5; echo ok')), { concurrency: 40 }).pipe(toArray()),
    );
    expect(results.every((r) => r.status === 'ok' && r.stdout === 'ok\n')).toBe(true);
    expect(pool.stats.opened).toBeGreaterThanOrEqual(2);
    expect(pool.stats.opened).toBeLessThanOrEqual(3);
    expect(logins(bastionLog(from))).toBe(pool.stats.opened);
  });

  it('the bastion connection lost under running targets: each fails with ConnectionLostError naming the hop; the next target logs in again', async () => {
    const pool = new HopPool();
    const running = ['t101', 't102', 't103'].map((alias) => connectAlias(alias, { file: conf, systemFile: null, hopPool: pool }).pipe(run('sleep 4.5')));
    const failed = errorOf(merge(...running));
    // Every process under the bastion's listener: the connection's privileged and unprivileged halves.
    const descendants = (pid: number): number[] => {
      const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
      return children.flatMap((c) => [c, ...descendants(c)]);
    };
    expect(await eventually(() => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() === 'sleep 4.5').length === 3, 15_000)).toBe(true);
    for (const pid of descendants(bastion.info.pid)) process.kill(pid, 'SIGKILL');
    const err = await failed;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).message).toContain(`jump host 127.0.0.1:${bastion.info.port}`);
    expect((err as ConnectionLostError).port).toBe(s.port); // the target's context, the hop in the message
    const again = await lastValueFrom(connectAlias('t104', { file: conf, systemFile: null, hopPool: pool }).pipe(run('echo back')));
    expect(again.stdout).toBe('back\n');
    expect(pool.stats.opened).toBe(2);
    // The target's commands lost their connection; sshd lets them run out (they hold the test account).
    expect(await eventually(() => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === 'sleep 4.5'), 10_000)).toBe(true);
  });
});

describe('hops keep their own settings', () => {
  it("the target's user (user@alias) is not the bastion's: the bastion logs in as its config says, the target refuses the other user", async () => {
    const err = await errorOf(connectAlias('t005', { file: conf, systemFile: null, user: 'nobody-here', hopPool: new HopPool() }).pipe(run('true')));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).port).toBe(s.port); // refused by the target, after the bastion let us through
  });
});

describe('the CLI shares the bastion too', () => {
  it(`rxssh run -p 50 over ${TARGETS} aliases: exit 0, every host ok, one bastion login`, () => {
    const from = bastionLog().length;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'run', '--json', '-F', conf, '--aliases', 't*', '-p', '50', '--', 'echo hi'], {
      encoding: 'utf8',
      env: { ...process.env, SSH_AUTH_SOCK: '' },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { type?: string; ok?: number };
    expect(summary).toMatchObject({ type: 'summary', ok: TARGETS });
    const log = bastionLog(from);
    expect(logins(log)).toBe(1);
    expect(drops(log)).toBe(0);
  });
});

describe('ProxyCommand (OpenSSH ssh -W as the proxy, the suite sshd as its bastion)', () => {
  const ours = (args: string): boolean => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.includes(args));
  const proxyMark = (): string => `-W 127.0.0.1:${s.port} sshd-bastion`; // the ProxyCommands of this file

  it(`${PROXIED} targets through ProxyCommand ssh -W %h:%p: every target ok, no ProxyCommand left running`, async () => {
    const targets = sshConfigTargets({ file: conf, systemFile: null, match: 'p*' });
    expect(targets).toHaveLength(PROXIED);
    const results = await lastValueFrom(fanOut(targets, (t) => connectAlias(t.alias ?? t.host, { file: conf, systemFile: null }).pipe(run('echo via-proxy')), { concurrency: 32 }).pipe(toArray()));
    const bad = results.filter((r) => r.status !== 'ok').map((r) => `${r.host}: ${r.status} ${String(r.error)}`);
    expect(bad).toEqual([]);
    expect(results.every((r) => r.stdout === 'via-proxy\n')).toBe(true);
    expect(await eventually(() => !ours(proxyMark()), 5000), 'every ssh -W was reaped').toBe(true);
  });

  it('a ProxyCommand that fails (its bastion refuses) is a ProxyCommandError with ssh\'s status and stderr', async () => {
    const err = await errorOf(connectAlias('refused-proxy', { file: conf, systemFile: null }));
    expect(err).toBeInstanceOf(ProxyCommandError);
    expect(err).toMatchObject({ exitCode: 255, phase: 'banner', host: '127.0.0.1', port: s.port });
    expect((err as ProxyCommandError).stderr).toMatch(/Connection refused/);
    expect((err as ProxyCommandError).command).toBe(`ssh -F ${conf} -W 127.0.0.1:${s.port} closed-bastion`);
  });

  it('the CLI: exec through the config\'s ProxyCommand and through -o ProxyCommand=…; Ctrl-C on a run stops every proxy and command', async () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
    const viaConfig = cli(['exec', '-F', conf, 'p001', 'echo from config']);
    expect(viaConfig.stdout, viaConfig.stderr).toBe('from config\n');
    const viaOption = cli(['exec', '-F', conf, '-o', `ProxyCommand=ssh -F ${conf} -W %h:%p sshd-bastion`, '-p', String(s.port), `${s.username}@127.0.0.1`, 'echo from -o']);
    expect(viaOption.stdout, viaOption.stderr).toBe('from -o\n');
    const failing = cli(['exec', '-F', conf, 'refused-proxy', 'true']);
    expect(failing.status).toBe(255);
    expect(failing.stderr).toMatch(/Connection refused/); // ssh's own stderr, passed through as ssh does
    const tag = `sleep 63.${process.pid % 1000}1`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'run', '-F', conf, '--aliases', 'p00*', '-p', '9', '--', tag], { stdio: 'ignore', env: { ...process.env, SSH_AUTH_SOCK: '' } });
    expect(await eventually(() => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() === tag).length === 9, 20_000), 'nine commands started').toBe(true);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGINT');
    expect(await exited).not.toBe(0);
    expect(await eventually(() => !ours(tag) && !ours(`${conf} -W`), 10_000), 'no command and no ssh -W left').toBe(true);
  });
});
