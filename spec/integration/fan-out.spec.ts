/**
 * Fan-out and the CLI against real OpenSSH sshd instances: 200 hosts with failures mixed in,
 * MaxStartups, MaxSessions, a global deadline, and the CLI's exit codes from a real process.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, mergeMap, range, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate,
  connectAlias,
  connect,
  exec,
  knownHosts,
  knownHostsName,
  password,
  privateKey,
  run,
  verifyHostKey,
  withConnection,
  WorkerLostError,
  type FanOutTarget,
} from '../../lib/index.js';
import { sshConfigTargets, fanOut, fanOutInWorkers } from '../../lib/fleet/index.js';
import { eventually, freeClosedPort, sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

const ADDRESSES = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
let fleet: { info: SshdInfo; stop: () => Promise<void> };
let knownHostsFile: string;

beforeAll(async () => {
  const base = sshd(); // fails loudly without sshd
  fleet = await startSshd({
    account: base,
    extra: [...ADDRESSES.map((a) => `ListenAddress ${a}:{port}`), 'MaxStartups 200:30:400'],
  });
  const hostKey = hostKeyLine(fleet.info.dir);
  knownHostsFile = join(fleet.info.dir, 'known_hosts');
  writeFileSync(knownHostsFile, ['127.0.0.1', ...ADDRESSES].map((a) => `${knownHostsName(a, fleet.info.port)} ${hostKey}\n`).join(''));
});
afterAll(async () => {
  await fleet?.stop();
});

const key = () => readFileSync(fleet.info.keys['ed25519'] ?? '');
const pipeline = (t: FanOutTarget, command: string) =>
  connect({ host: t.host, port: t.port ?? 22, username: t.username ?? fleet.info.username }).pipe(
    verifyHostKey(knownHosts({ files: [knownHostsFile] })),
    authenticate(privateKey(key())),
    exec(command),
  );

describe('fan-out against real sshd', () => {
  it('200 hosts, 5 % unreachable, 5 % wrong credentials, 5 % hanging → exactly 200 results with the right statuses', async () => {
    const closed = await freeClosedPort();
    const targets: FanOutTarget[] = Array.from({ length: 200 }, (_, i) => {
      const address = ADDRESSES[i % ADDRESSES.length] ?? '127.0.0.2';
      if (i % 20 === 0) return { host: address, port: closed, label: `down-${i}` };
      if (i % 20 === 1) return { host: address, port: fleet.info.port, username: 'nobody-here', label: `badcreds-${i}` };
      if (i % 20 === 2) return { host: address, port: fleet.info.port, label: `hang-${i}` };
      return { host: address, port: fleet.info.port, label: `ok-${i}` };
    });
    const results = await lastValueFrom(
      fanOut(targets, (t) => pipeline(t, t.label.startsWith('hang') ? 'sleep 600' : `echo ${t.label}`), { concurrency: 32, timeout: 8000 }).pipe(toArray()),
    );
    expect(results).toHaveLength(200);
    expect(new Set(results.map((r) => r.host)).size).toBe(200);
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    expect(counts).toEqual({ ok: 170, unreachable: 10, 'auth-failed': 10, timeout: 10 });
    for (const r of results.filter((x) => x.status === 'ok')) expect(r.stdout).toBe(`${r.host}\n`);
    expect(await eventually(() => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 600'), 10_000)).toBe(true);
  });

  it('MaxStartups 10:30:100 with 100 in flight: dropped connections are retried, all succeed', async () => {
    const strict = await startSshd({ account: fleet.info, extra: ['MaxStartups 10:30:100'] });
    try {
      const hostKey = hostKeyLine(strict.info.dir);
      const kh = join(strict.info.dir, 'kh');
      writeFileSync(kh, `${knownHostsName('127.0.0.1', strict.info.port)} ${hostKey}\n`);
      const results = await lastValueFrom(
        fanOut(
          Array.from({ length: 100 }, (_, i) => ({ host: '127.0.0.1', port: strict.info.port, label: `h${i}` })),
          (t) =>
            connect({ host: t.host, port: t.port ?? 22, username: strict.info.username }).pipe(
              verifyHostKey(knownHosts({ files: [kh] })),
              authenticate(privateKey(readFileSync(strict.info.keys['ed25519'] ?? ''))),
              run('true'),
            ),
          { concurrency: 100, retries: 8, retryDelay: 100 },
        ).pipe(toArray()),
      );
      expect(results.filter((r) => r.status === 'ok')).toHaveLength(100);
      const attempts = results.reduce((n, r) => n + r.attempts, 0);
      expect(attempts).toBeGreaterThan(100); // sshd did drop connections, and they were retried
    } finally {
      await strict.stop();
    }
  });

  it('MaxSessions 2 with 10 commands on one connection: all succeed', async () => {
    const narrow = await startSshd({ account: fleet.info, extra: ['MaxSessions 2'] });
    try {
      const results = await lastValueFrom(
        connect({ host: '127.0.0.1', port: narrow.info.port, username: narrow.info.username }).pipe(
          verifyHostKey(() => true),
          authenticate(password(narrow.info.password)),
          withConnection((c) => range(0, 10).pipe(mergeMap((i) => c.run(`sleep 0.2; echo ${i}`)), toArray())),
        ),
      );
      expect(results.map((r) => Number(r.stdout)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await narrow.stop();
    }
  });

  it('a global deadline ends a run with hung hosts on time, and their remote commands are stopped', async () => {
    const t0 = Date.now();
    const results = await lastValueFrom(
      fanOut(
        ADDRESSES.slice(0, 5).map((a) => ({ host: a, port: fleet.info.port, label: a })),
        (t) => pipeline(t, 'sleep 601'),
        { deadline: 3000, timeout: 0 },
      ).pipe(toArray()),
    );
    expect(Date.now() - t0).toBeLessThan(3000 + 2000);
    expect(results.map((r) => r.status)).toEqual(['timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
    expect(await eventually(() => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 601'), 10_000)).toBe(true);
  });

  it('10,000 targets in one process, 1,000 in flight: sshd hosts, closed ports and silent listeners each get one result; fds and RSS stay bounded', async () => {
    // The silent listener lives in another process, so this process's fds are the client's own.
    const silent = spawn(process.execPath, ['-e', "require('net').createServer(() => {}).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const silentPort = await new Promise<number>((resolve, reject) => {
        silent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        silent.once('exit', () => reject(new Error('the silent listener exited')));
      });
      const closed = await freeClosedPort();
      const targets: FanOutTarget[] = Array.from({ length: 10_000 }, (_, i) => {
        if (i % 50 === 0) return { host: ADDRESSES[(i / 50) % ADDRESSES.length] ?? '127.0.0.2', port: fleet.info.port, label: `sshd-${i}` };
        if (i % 2 === 0) return { host: '127.0.0.1', port: closed, label: `closed-${i}` };
        return { host: '127.0.0.1', port: silentPort, label: `silent-${i}` };
      });
      const baseFds = readdirSync('/proc/self/fd').length;
      let peakFds = 0;
      let peakRss = 0;
      const sampler = setInterval(() => {
        peakFds = Math.max(peakFds, readdirSync('/proc/self/fd').length - baseFds);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 50);
      const started = Date.now();
      const results = await lastValueFrom(
        fanOut(targets, (t) => pipeline(t, 'true'), { concurrency: 1000, timeout: 3000, deadline: 120_000, retries: 3 }).pipe(toArray()),
      ).finally(() => clearInterval(sampler));
      const elapsed = Date.now() - started;
      console.log(`10k targets: ${elapsed} ms, peak extra fds ${peakFds}, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
      expect(results).toHaveLength(10_000);
      expect(new Set(results.map((r) => r.target.label)).size).toBe(10_000);
      const byKind = (kind: string) => results.filter((r) => r.target.label?.startsWith(kind)).map((r) => r.status);
      expect(new Set(byKind('sshd-'))).toEqual(new Set(['ok']));
      expect(byKind('sshd-')).toHaveLength(200);
      expect(new Set(byKind('closed-'))).toEqual(new Set(['unreachable']));
      expect(new Set(byKind('silent-'))).toEqual(new Set(['timeout']));
      expect(elapsed).toBeLessThan(120_000); // finished by the deadline (a deadline end would be timeouts on sshd hosts too)
      expect(peakFds).toBeLessThanOrEqual(1000 + 64); // one socket per host in flight, plus a little
      expect(peakRss).toBeLessThan(1024 * 2 ** 20);
    } finally {
      silent.kill();
    }
  }, 180_000);

  it('fanOutInWorkers: a worker thread that dies mid-command leaves its host lost (a WorkerLostError), never run twice; the others finish', async () => {
    const module = new URL('../fixtures/worker-pipeline.ts', import.meta.url);
    const markerDir = mkdtempSync(join(tmpdir(), 'rxssh-lost-'));
    chmodSync(markerDir, 0o777); // the test account writes its markers here
    const targets = ADDRESSES.slice(0, 6).map((a) => `${a}:${fleet.info.port}`);
    const victim = targets[1] ?? '';
    const args = { username: fleet.info.username, keyFile: fleet.info.keys['ed25519'] ?? '', knownHostsFile, command: '', markerDir, victim };
    const results = await lastValueFrom(fanOutInWorkers(targets, { module, export: 'keyedDies', args }, { threads: 2, concurrency: 3, retries: 3 }).pipe(toArray()));
    expect(results).toHaveLength(6);
    expect(results.find((r) => r.host === victim)?.status).toBe('lost');
    // The hosts that shared the dead thread (two tasks per thread here) are lost with it.
    const lost = results.filter((r) => r.status === 'lost');
    expect(lost.length).toBeLessThanOrEqual(2);
    for (const r of lost) expect(r.error).toBeInstanceOf(WorkerLostError);
    expect(results.filter((r) => r.status !== 'lost').map((r) => r.status)).toEqual(Array(6 - lost.length).fill('ok'));
    for (const r of results) {
      const marker = join(markerDir, r.host);
      // Never run twice: a finished host ran once; a lost one at most once.
      if (r.status === 'ok' || r.host === victim) expect(readFileSync(marker, 'utf8')).toBe('ran\n');
      else expect(existsSync(marker) ? readFileSync(marker, 'utf8') : '').toMatch(/^(ran\n)?$/);
    }
    rmSync(markerDir, { recursive: true, force: true });
  });

  it('fanOutInWorkers: 30 sshd hosts on worker threads, one result each, a closed port unreachable and a wrong key rejected', async () => {
    const closed = await freeClosedPort();
    const module = new URL('../fixtures/worker-pipeline.ts', import.meta.url);
    const args = { username: fleet.info.username, keyFile: fleet.info.keys['ed25519'] ?? '', knownHostsFile, command: 'echo hi' };
    const targets = [...Array.from({ length: 30 }, (_, i) => `${ADDRESSES[i % ADDRESSES.length]}:${fleet.info.port}`), `127.0.0.1:${closed}`];
    const results = await lastValueFrom(fanOutInWorkers(targets, { module, export: 'keyed', args }, { threads: 2, concurrency: 16, timeout: 20_000 }).pipe(toArray()));
    expect(results).toHaveLength(31);
    const ok = results.filter((r) => r.status === 'ok');
    expect(ok).toHaveLength(30);
    for (const r of ok) expect(r.stdout).toMatch(/^hi\nthread [1-9]\d*\n$/);
    expect(results.find((r) => r.target.port === closed)?.status).toBe('unreachable');
    const emptyKnownHosts = join(fleet.info.dir, 'known_hosts.empty');
    writeFileSync(emptyKnownHosts, '');
    const rejected = await lastValueFrom(fanOutInWorkers(targets.slice(0, 2), { module, export: 'keyed', args: { ...args, knownHostsFile: emptyKnownHosts } }, { threads: 2 }).pipe(toArray()));
    expect(rejected.map((r) => r.status)).toEqual(['host-key-rejected', 'host-key-rejected']);
  });
});

describe('rxssh CLI against real sshd (a real process, real exit codes)', () => {
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { env: { ...process.env, RXSSH_PW: fleet.info.password, RXSSH_PASSPHRASE: fleet.info.passphrase } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const common = () => ['-H', `127.0.0.2:${fleet.info.port}`, '-H', `127.0.0.3:${fleet.info.port}`, '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile];

  it('host ranges and --fold (issue 25 #5, #6): ten addresses from one range, identical outputs printed once under folded names', async () => {
    const hosts = ['-H', `127.0.0.[2-11]:${fleet.info.port}`, '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile];
    // The server's address (third field of SSH_CONNECTION) decides the output: two groups of five.
    const r = await cli(['run', '--fold', ...hosts, '--', 'case $(echo $SSH_CONNECTION | cut -d" " -f3) in 127.0.0.[2-6]) echo low;; *) echo high; exit 1;; esac']);
    expect(r.code).toBe(5);
    const rule = (title: string) => `${'-'.repeat(Math.max(15, title.length))}\n${title}\n${'-'.repeat(Math.max(15, title.length))}\n`;
    const low = `127.0.0.[2-6]:${fleet.info.port} (5)`;
    const high = `127.0.0.[7-11]:${fleet.info.port} (5) [FAILURE] Exited with error code 1`;
    expect(r.stdout).toContain(`${rule(low)}low\n`);
    expect(r.stdout).toContain(`${rule(high)}high\n`);
    expect(r.stdout).not.toMatch(/\[SUCCESS\]/); // no per-host lines
    const json = await cli(['run', '--fold', '--json', ...hosts, '--', 'echo same']);
    expect(json.stdout.trim().split('\n').filter((l) => l.includes('"type":"result"'))).toHaveLength(10); // NDJSON stays per host
  });

  it('--batch 3 --fail-fast (issue 25 #4): a failure in the second wave lets its wave finish; later hosts are SKIPPED, once each', async () => {
    const hosts = ['-H', `127.0.0.[2-11]:${fleet.info.port}`, '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile];
    const failOnFive = 'test "$(echo $SSH_CONNECTION | cut -d" " -f3)" != 127.0.0.5';
    const r = await cli(['run', '--json', '--batch', '3', '--fail-fast', ...hosts, '--', failOnFive]);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string; status?: string }).filter((e) => e.type === 'result');
    const status = Object.fromEntries(results.map((e) => [e.host?.split(':')[0], e.status]));
    expect(results).toHaveLength(10);
    expect(status).toEqual({
      '127.0.0.2': 'ok', '127.0.0.3': 'ok', '127.0.0.4': 'ok',
      '127.0.0.5': 'failed', '127.0.0.6': 'ok', '127.0.0.7': 'ok',
      '127.0.0.8': 'skipped', '127.0.0.9': 'skipped', '127.0.0.10': 'skipped', '127.0.0.11': 'skipped',
    });
    expect(r.code).toBe(5);
    const text = await cli(['run', '--canary', '1', '--max-fail', '0', '--rate', '50/s', ...hosts, '--', 'test "$(echo $SSH_CONNECTION | cut -d" " -f3)" != 127.0.0.2']);
    expect(text.stdout.match(/\[SKIPPED\]/g)).toHaveLength(9); // the canary failed: nothing else started
    expect(text.code).toBe(5);
  });

  it('exit 0, 5, 3 and 4', async () => {
    const ok = await cli(['run', ...common(), '--', 'echo', 'hi']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.match(/\[SUCCESS\]/g)).toHaveLength(2);
    expect((await cli(['run', ...common(), '--', 'exit 3'])).code).toBe(5);
    expect((await cli(['run', ...common(), '-t', '1', '--', 'sleep 30'])).code).toBe(3);
    const closed = await freeClosedPort();
    expect((await cli(['run', ...common(), '-H', `127.0.0.4:${closed}`, '--', 'true'])).code).toBe(4);
    expect((await cli(['run', '-H', `nobody-here@127.0.0.2:${fleet.info.port}`, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile, '--', 'true'])).code).toBe(4);
  });

  it('--workers 2: the same output and exit codes from worker threads (-I stdin, a failing command, an unreachable host, --json)', async () => {
    const ok = await cli(['run', '--workers', '2', '-v', ...common(), '-i', '--', 'echo', 'hi']);
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(ok.stderr).toContain('rxssh: running 2 host(s) on 2 worker thread(s)');
    expect(ok.stdout.match(/\[SUCCESS\][^\n]*\nhi\n/g)).toHaveLength(2);
    const input = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'run', '--workers', '2', ...common(), '-I', '-i', '--', 'wc -c'], (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
      );
      child.stdin?.end('twelve bytes');
    });
    expect(input.code).toBe(0);
    expect(input.stdout.match(/\n12\n/g)).toHaveLength(2);
    expect((await cli(['run', '--workers', '2', ...common(), '--', 'exit 3'])).code).toBe(5);
    const closed = await freeClosedPort();
    const mixed = await cli(['run', '--workers', '2', '--json', ...common(), '-H', `127.0.0.4:${closed}`, '--', 'true']);
    expect(mixed.code).toBe(4);
    const statuses = mixed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status: string }).filter((r) => r.type === 'result').map((r) => r.status).sort();
    expect(statuses).toEqual(['ok', 'ok', 'unreachable']);
    const withPassword = await cli(['run', '--workers', '2', '-H', `127.0.0.2:${fleet.info.port}`, '-l', fleet.info.username, '-F', '/dev/null', '--known-hosts', knownHostsFile, '--password-env', 'RXSSH_PW', '-i', '--', 'echo', 'pw']);
    expect(withPassword, withPassword.stderr).toMatchObject({ code: 0 });
    expect(withPassword.stdout).toContain('\npw\n');
    // -A: asked once on the main thread (here through SSH_ASKPASS), used by every worker.
    const askpass = join(fleet.info.dir, 'askpass-workers.sh');
    writeFileSync(askpass, `#!/bin/sh\necho "$RXSSH_PW"\necho asked >> '${askpass}.log'\n`, { mode: 0o755 });
    const asked = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'lib/cli/bin.ts', 'run', '--workers', '2', '-A', '-H', `127.0.0.2:${fleet.info.port}`, '-H', `127.0.0.3:${fleet.info.port}`, '-l', fleet.info.username, '-F', '/dev/null', '--known-hosts', knownHostsFile, '-i', '--', 'echo', 'asked'],
        { env: { ...process.env, RXSSH_PW: fleet.info.password, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', SSH_AUTH_SOCK: '' } },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(asked, asked.stderr).toMatchObject({ code: 0 });
    expect(asked.stdout.match(/\nasked\n/g)).toHaveLength(2);
    expect(readFileSync(`${askpass}.log`, 'utf8')).toBe('asked\n'); // once, not once per worker
    expect((await cli(['run', '--workers', '0', ...common(), '--', 'true'])).code).toBe(2);
  });

  it('-F ssh_config: hosts are aliases resolved like `ssh -F file alias`', async () => {
    const conf = join(fleet.info.dir, 'fleet_config');
    writeFileSync(
      conf,
      [
        'Host web-*',
        `  Port ${fleet.info.port}`,
        `  User ${fleet.info.username}`,
        `  IdentityFile ${fleet.info.keys['ed25519']}`,
        '  IdentitiesOnly yes',
        '  StrictHostKeyChecking yes',
        `  UserKnownHostsFile ${knownHostsFile}`,
        'Host web-a',
        '  HostName 127.0.0.5',
        'Host web-b',
        '  HostName 127.0.0.6',
        'Host web-c web-old',
        '  HostName 127.0.0.7',
        '',
      ].join('\n'),
    );
    const out = await cli(['run', '-F', conf, '-H', 'web-a', '-H', 'web-b', '-P', '--', 'echo', 'via config']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('web-a: via config');
    expect(out.stdout).toContain('web-b: via config');

    // -A: the config's own aliases are the inventory.
    const all = await cli(['run', '-F', conf, '--aliases', 'web-*,!web-old', '-P', '--', 'echo', 'from the inventory']);
    expect(all.code, `${all.stdout}${all.stderr}`).toBe(0);
    expect(all.stdout.split('\n').filter((l) => l.endsWith(': from the inventory')).sort()).toEqual(
      ['web-a', 'web-b', 'web-c'].map((h) => `${h}: from the inventory`),
    );
    expect((await cli(['run', '-F', conf, '--aliases', 'db-*', '--', 'true'])).code).toBe(2);

    // The same in the library: sshConfigTargets + connectAlias inside fanOut.
    const results = await lastValueFrom(
      fanOut(sshConfigTargets({ file: conf, match: 'web-*' }), (t) => connectAlias(t.alias ?? t.host, { file: conf }).pipe(run('echo $SSH_CONNECTION'))).pipe(toArray()),
    );
    expect(results.map((r) => [r.host, r.status, (r.value?.stdout ?? '').split(' ')[2]]).sort()).toEqual([
      ['web-a', 'ok', '127.0.0.5'],
      ['web-b', 'ok', '127.0.0.6'],
      ['web-c', 'ok', '127.0.0.7'],
      ['web-old', 'ok', '127.0.0.7'],
    ]);
  });

  it('rxssh exec exits with the remote exit code; an encrypted key: --passphrase-env, or skipped with a warning (then --password-env works)', async () => {
    const host = `${fleet.info.username}@127.0.0.2:${fleet.info.port}`;
    expect((await cli(['exec', '--known-hosts', knownHostsFile, '--identity', fleet.info.keys['ed25519'] ?? '', host, 'exit 42'])).code).toBe(42);
    const enc = ['--known-hosts', knownHostsFile, '--identity', fleet.info.keys['encrypted'] ?? ''];
    const skipped = await cli(['exec', ...enc, '--password-env', 'RXSSH_PW', host, 'echo', 'pw']);
    expect(skipped).toMatchObject({ code: 0, stdout: 'pw\n' });
    expect(skipped.stderr).toContain(`skipping encrypted key ${fleet.info.keys['encrypted']}: no passphrase source`);
    const unlocked = await cli(['exec', ...enc, '--passphrase-env', 'RXSSH_PASSPHRASE', host, 'echo', 'key']);
    expect(unlocked).toMatchObject({ code: 0, stdout: 'key\n' });
    const env = await cli(['run', '-H', `127.0.0.2:${fleet.info.port}`, '-l', fleet.info.username, '--password-env', 'RXSSH_PW', '--identity', fleet.info.keys['rsa'] ?? '', '--known-hosts', knownHostsFile, '--', 'echo', 'pw']);
    expect(env.code).toBe(0);
  });

  it('rxssh put and get (pscp, pslurp -L) against sshd: a file and a tree to every host and back, one directory per host', async () => {
    const work = mkdtempSync(join(tmpdir(), 'rxssh-putget-'));
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a.txt'), 'alpha\n');
    writeFileSync(join(tree, 'sub', 'b.txt'), 'beta\n');
    const hosts = ['-H', `127.0.0.2:${fleet.info.port}`, '-H', `127.0.0.3:${fleet.info.port}`, '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile];
    // Both addresses reach the same sshd and account: each host writes its own name.
    const put = await cli(['put', '--workers', '2', ...hosts, '-r', tree, `${fleet.info.home}/put-tree`]);
    expect(put.code, put.stdout + put.stderr).toBe(0);
    expect(put.stderr).toContain('--workers applies to `rxssh run` only'); // said, not silently ignored
    expect(put.stdout.match(/\[SUCCESS\]/g)).toHaveLength(2);
    const into = join(work, 'back');
    const get = await cli(['get', ...hosts, '-r', `${fleet.info.home}/put-tree`, into]);
    expect(get.code, get.stdout + get.stderr).toBe(0);
    expect(readdirSync(into).sort()).toEqual([`127.0.0.2:${fleet.info.port}`, `127.0.0.3:${fleet.info.port}`]);
    for (const d of readdirSync(into)) {
      expect(readFileSync(join(into, d, 'put-tree', 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
      expect(readFileSync(join(into, d, 'put-tree', 'a.txt'), 'utf8')).toBe('alpha\n');
    }
    const missing = await cli(['get', ...hosts, `${fleet.info.home}/no-such-file`, into]);
    expect(missing.code).toBe(5);
  });

  it('Ctrl-C (SIGINT) on a real rxssh run: remote commands stopped, the summary printed, exit 3', async () => {
    const seconds = `600.${process.pid}${Date.now() % 1000}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'run', ...common(), `sleep ${seconds}; echo done`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // The remote sleep itself (its own process line), not this test's or rxssh's command line.
    const alive = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === `sleep ${seconds}`);
    expect(await eventually(alive, 10_000)).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(3);
    expect(out).toMatch(/Interrupted/);
    expect(out).toMatch(/cancelled\s+2/);
    expect(await eventually(() => !alive(), 10_000)).toBe(true);
  });
});
