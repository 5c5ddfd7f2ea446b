/**
 * Many machines: `rxssh run --queue` and `rxssh worker` processes on a real redis-server, against
 * real sshd on ten loopback addresses. Workers are real processes (killed with SIGKILL here);
 * each host's command appends a marker on the server, so "never twice" is checked where the
 * command ran.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { knownHostsName } from '../../lib/index.js';
import { Server } from '../../lib/ssh2/index.js';
import { generateEd25519 } from '../../lib/testing/index.js';
import { eventually, freeClosedPort, sshd } from '../helpers/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

const ADDRESSES = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
let fleet: { info: SshdInfo; stop: () => Promise<void> };
let knownHostsFile: string;
let redis: TestRedis;
const REDIS_PASSWORD = `pw-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  const base = sshd(); // fails loudly without sshd
  fleet = await startSshd({ account: base, extra: [...ADDRESSES.map((a) => `ListenAddress ${a}:{port}`), 'MaxStartups 200:30:400'] });
  const hostKey = hostKeyLine(fleet.info.dir);
  knownHostsFile = join(fleet.info.dir, 'known_hosts.queue');
  writeFileSync(knownHostsFile, ['127.0.0.1', ...ADDRESSES].map((a) => `${knownHostsName(a, fleet.info.port)} ${hostKey}\n`).join(''));
  redis = await startRedis({ password: REDIS_PASSWORD }); // fails loudly without redis-server
});
afterAll(async () => {
  await redis?.stop();
  await fleet?.stop();
});

const CLI = ['--import', 'tsx', 'lib/cli/bin.ts'];
const env = () => ({ ...process.env, RXSSH_BECOME_PW: fleet.info.password, RXSSH_REDIS_PW: REDIS_PASSWORD, RXSSH_WORKER_PW: 'worker-secret', RXSSH_QSECRET: 'a shared secret for this spec only', RXSSH_QSECRET_OTHER: 'another secret, sixteen bytes+', SSH_AUTH_SOCK: '' });
const queueFlags = (name: string, url = redis.url) => ['--queue', url, '--queue-name', name, '--redis-password-env', 'RXSSH_REDIS_PW'];

interface RunningWorker {
  readonly child: ChildProcess;
  log: string;
  stopped: Promise<number | null>;
}
const running: RunningWorker[] = [];
afterEach(() => {
  for (const w of running.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
});

/** Starts an `rxssh worker` process with its own credentials (the fleet's key and known_hosts) and waits until it takes jobs. */
async function startWorker(name: string, queue: string, extra: string[] = [], url = redis.url): Promise<RunningWorker> {
  const child = spawn(
    process.execPath,
    [...CLI, 'worker', ...queueFlags(queue, url), '--name', name, '-v', '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile, '-F', '/dev/null', ...extra],
    { env: env(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const w: RunningWorker = { child, log: '', stopped: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stderr?.on('data', (d: Buffer) => (w.log += d.toString()));
  running.push(w);
  if (!(await eventually(() => w.log.includes('taking jobs') || child.exitCode !== null, 20_000)) || child.exitCode !== null) throw new Error(`worker ${name} did not start: ${w.log}`);
  return w;
}

function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [...CLI, ...args], { env: env(), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

const hosts = (n: number) => Array.from({ length: n }, (_, i) => ['-H', `${ADDRESSES[i % ADDRESSES.length]}:${fleet.info.port}`]).flat();

describe('rxssh run --queue with rxssh worker processes (real Redis, real sshd)', () => {
  it('three workers: the same pssh output, --json and exit codes as a local run; every worker takes hosts; -I stdin and -l reach the workers', async () => {
    const queue = `q-${process.pid}-basic`;
    const workers = await Promise.all(['w1', 'w2', 'w3'].map((n) => startWorker(n, queue, ['--concurrency', '4'])));
    const ok = await cli(['run', ...queueFlags(queue), ...hosts(10), '-i', '--', 'echo hi from $(whoami); sleep 0.3']);
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(ok.stdout.match(/\[SUCCESS\]/g)).toHaveLength(10);
    expect(ok.stdout.match(new RegExp(`\\nhi from ${fleet.info.username}\\n`, 'g'))).toHaveLength(10);
    for (const w of workers) expect(w.log).toMatch(/took 127\.0\.0\./); // the work was shared
    // -P: lines as they come, streamed back from the runners as job progress.
    const live = await cli(['run', ...queueFlags(queue), ...hosts(2), '-P', '--', 'echo one; echo two >&2']);
    expect(live.code).toBe(0);
    for (const a of ADDRESSES.slice(0, 2)) {
      expect(live.stdout).toContain(`${a}:${fleet.info.port}: one\n`);
      expect(live.stderr).toContain(`${a}:${fleet.info.port}: two\n`);
    }
    const input = await cli(['run', ...queueFlags(queue), ...hosts(2), '-I', '-i', '--', 'wc -c'], 'twelve bytes');
    expect(input.code).toBe(0);
    expect(input.stdout.match(/\n12\n/g)).toHaveLength(2);
    expect((await cli(['run', ...queueFlags(queue), ...hosts(2), '--', 'exit 3'])).code).toBe(5);
    const closed = await freeClosedPort();
    const mixed = await cli(['run', ...queueFlags(queue), '--json', ...hosts(2), '-H', `127.0.0.4:${closed}`, '--', 'echo', 'j']);
    expect(mixed.code).toBe(4);
    const objects = mixed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; stdout?: string; exitCode?: number });
    expect(objects.filter((o) => o.type === 'result').map((o) => o.status).sort()).toEqual(['ok', 'ok', 'unreachable']);
    expect(objects.filter((o) => o.type === 'result' && o.status === 'ok').map((o) => o.stdout)).toEqual(['j\n', 'j\n']);
    expect(objects.at(-1)).toMatchObject({ type: 'summary', exitCode: 4 });
    // -t: the submitter gives up at 1 s, the worker stops the remote command.
    const seconds = 37;
    const slow = await cli(['run', ...queueFlags(queue), ...hosts(2), '-t', '1', '--', `sleep ${seconds}`]);
    expect(slow.code).toBe(3);
    expect(await eventually(() => !psHas(`sleep ${seconds}`), 10_000)).toBe(true);
    // A user's own credentials stay on the workers: the run refuses them.
    const refused = await cli(['run', ...queueFlags(queue), ...hosts(1), '--identity', '/nonexistent', '--', 'true']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--identity does not apply with --queue/);
    // SIGTERM: the worker stops taking jobs and exits 0.
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.stopped))).toEqual([0, 0, 0]);
  }, 120_000);

  it('kill -9 a worker mid-run: its hosts end lost (exit 3), the others finish, no host ran twice (markers on the server); --retry-lost runs them once more', async () => {
    const queue = `q-${process.pid}-kill`;
    const markers = mkdtempSync(join(tmpdir(), 'rxssh-queue-markers-'));
    chmodSync(markers, 0o777); // the test account writes its markers here
    try {
      const [victim, other] = await Promise.all([startWorker('victim', queue, ['--concurrency', '3', '--lock-duration', '2']), startWorker('survivor', queue, ['--concurrency', '3', '--lock-duration', '2'])]);
      const run = cli(['run', ...queueFlags(queue), '--json', ...hosts(10), '-p', '6', '--', `echo ran >> ${markers}/$(echo $SSH_CONNECTION | cut -d' ' -f3); sleep 3; echo done`]);
      // Six slots (3 + 3) and -p 6: once six commands have written their markers, the victim runs three of them.
      expect(await eventually(() => readdirSync(markers).length >= 6, 30_000)).toBe(true);
      expect(victim?.log).toMatch(/took /);
      victim?.child.kill('SIGKILL');
      const result = await run;
      expect(result.code).toBe(3);
      const objects = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string; status?: string; error?: { code: string } });
      const results = objects.filter((o) => o.type === 'result');
      expect(results).toHaveLength(10);
      const took = new Set([...(victim?.log.matchAll(/took (\S+)/g) ?? [])].map((m) => m[1]));
      const lost = results.filter((r) => r.status === 'lost');
      expect(lost.length).toBeGreaterThan(0);
      for (const r of lost) {
        expect(took.has(r.host)).toBe(true); // only the dead worker's hosts
        expect(r.error?.code).toBe('ERR_SSH_WORKER_LOST');
      }
      expect(results.filter((r) => r.status !== 'lost').every((r) => r.status === 'ok')).toBe(true);
      expect(other?.log).toMatch(/took /);
      // Never twice: one marker line per command run, on the server; a finished host ran once, a lost one at most once.
      const ran = markerCounts(markers);
      for (const r of results) {
        const address = (r.host ?? '').split(':')[0] ?? '';
        if (r.status === 'ok') expect(ran.get(address)).toBe(1);
        else expect(ran.get(address) ?? 0).toBeLessThanOrEqual(1);
      }

      // --retry-lost: the same, but a lost host is run once more on the survivor.
      rmSync(markers, { recursive: true, force: true });
      const markers2 = mkdtempSync(join(tmpdir(), 'rxssh-queue-markers-'));
      chmodSync(markers2, 0o777);
      const victim2 = await startWorker('victim2', queue, ['--concurrency', '3', '--lock-duration', '2']);
      const retried = cli(['run', ...queueFlags(queue), '--json', '--retry-lost', ...hosts(6), '--', `echo ran >> ${markers2}/$(echo $SSH_CONNECTION | cut -d' ' -f3); sleep 3`]);
      expect(await eventually(() => readdirSync(markers2).length >= 6, 30_000)).toBe(true);
      expect(victim2.log).toMatch(/took /);
      victim2.child.kill('SIGKILL');
      const again = await retried;
      const statuses = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string }).filter((o) => o.type === 'result').map((o) => o.status);
      expect(again, again.stderr).toMatchObject({ code: 0 });
      expect(statuses).toEqual(Array(6).fill('ok'));
      // The lost hosts ran again (asked for), the others once.
      const twice = [...markerCounts(markers2).values()].filter((n) => n === 2).length;
      expect(twice).toBeGreaterThan(0);
      expect([...markerCounts(markers2).values()].every((n) => n === 1 || n === 2)).toBe(true);
      rmSync(markers2, { recursive: true, force: true });
    } finally {
      rmSync(markers, { recursive: true, force: true });
    }
  }, 180_000);

  it('Redis stops mid-run: the run ends on time with its finished hosts kept and the rest lost (a QueueError), the worker exits 1; no hang', async () => {
    const own = await startRedis();
    const queue = `q-${process.pid}-gone`;
    const flags = ['--queue', own.url, '--queue-name', queue, '--redis-timeout', '2'];
    const child = spawn(process.execPath, [...CLI, 'worker', ...flags, '--name', 'orphan', '-v', '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile, '-F', '/dev/null', '--redis-timeout', '2'], {
      env: env(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    running.push({ child, log: '', stopped: exited });
    expect(await eventually(() => log.includes('taking jobs'), 20_000)).toBe(true);
    const submitter = spawn(process.execPath, [...CLI, 'run', ...flags, '--json', '-H', `127.0.0.2:${fleet.info.port}`, '-H', `127.0.0.3:${fleet.info.port}`, '--', 'case $SSH_CONNECTION in *127.0.0.2*) echo quick;; *) sleep 40;; esac'], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    submitter.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const run = new Promise<{ code: number | null; stdout: string }>((resolve) => submitter.once('exit', (code) => resolve({ code, stdout: out })));
    // Redis goes once the quick host's result has reached the run (and the slow one is running).
    expect(await eventually(() => out.includes('"status":"ok"') && psHas('sleep 40'), 20_000)).toBe(true);
    const stoppedAt = Date.now();
    own.process.kill('SIGKILL');
    const result = await run;
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    const results = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string; status?: string; stdout?: string; error?: { code: string; message: string } }).filter((o) => o.type === 'result');
    expect(results.map((r) => [r.host, r.status]).sort()).toEqual([
      [`127.0.0.2:${fleet.info.port}`, 'ok'],
      [`127.0.0.3:${fleet.info.port}`, 'lost'],
    ]);
    expect(results.find((r) => r.status === 'ok')?.stdout).toBe('quick\n');
    expect(results.find((r) => r.status === 'lost')?.error).toMatchObject({ code: 'ERR_SSH_QUEUE', message: expect.stringMatching(/Redis has been unreachable/) });
    expect(result.code).toBe(3);
    expect(await exited).toBe(1);
    expect(log).toMatch(/Redis has been unreachable/);
    expect(await eventually(() => !psHas('sleep 40'), 10_000)).toBe(true); // the worker stopped its command
  }, 90_000);

  it('Redis security: the password comes from an env var or a file (never the URL); a wrong one is a clear error, not a hang', async () => {
    const queue = `q-${process.pid}-auth`;
    const file = join(fleet.info.dir, 'redis-password');
    writeFileSync(file, `${REDIS_PASSWORD}\n`, { mode: 0o600 });
    const child = spawn(process.execPath, [...CLI, 'worker', '--queue', redis.url, '--queue-name', queue, '--redis-password-file', file, '-l', fleet.info.username, '--identity', fleet.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile, '-F', '/dev/null'], {
      env: env(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    running.push({ child, log: '', stopped: new Promise((resolve) => child.once('exit', resolve)) });
    expect(await eventually(() => log.includes('taking jobs'), 20_000)).toBe(true);
    const ok = await cli(['run', ...queueFlags(queue), ...hosts(1), '-i', '--', 'echo', 'authed']);
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('\nauthed\n');
    const inUrl = await cli(['run', '--queue', `redis://x:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`, ...hosts(1), '--', 'true']);
    expect(inUrl.code).toBe(2);
    expect(inUrl.stderr).toMatch(/no password in the URL/);
    const started = Date.now();
    const wrong = await cli(['run', '--queue', redis.url, '--queue-name', queue, '--redis-timeout', '2', '--json', ...hosts(1), '--', 'true']);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toMatch(/"status":"lost".*ERR_SSH_QUEUE.*never submitted.*(NOAUTH|WRONGPASS)/);
  }, 90_000);

  it('rediss:// with an ACL user: TLS checked against --redis-ca; without the CA a typed error, not a hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-redis-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const tls = await startRedis({ tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, user: { name: 'runner', password: REDIS_PASSWORD } });
      try {
        const queue = `q-${process.pid}-tls`;
        const url = tls.url.replace('rediss://', 'rediss://runner@');
        expect(url).toMatch(/^rediss:\/\/runner@127\.0\.0\.1:\d+$/);
        await startWorker('tls', queue, ['--redis-ca', join(dir, 'cert.pem')], url);
        const ok = await cli(['run', ...queueFlags(queue, url), '--redis-ca', join(dir, 'cert.pem'), ...hosts(2), '-i', '--', 'echo', 'over tls']);
        expect(ok, ok.stderr).toMatchObject({ code: 0 });
        expect(ok.stdout.match(/\nover tls\n/g)).toHaveLength(2);
        const untrusted = await cli(['run', ...queueFlags(queue, url), '--redis-timeout', '2', '--json', ...hosts(1), '--', 'true']);
        expect(untrusted, untrusted.stderr).toMatchObject({ code: 3 });
        expect(untrusted.stdout).toMatch(/"status":"lost".*ERR_SSH_QUEUE.*never submitted: [^"]*certificate/);
      } finally {
        await tls.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('a queued run never reports a result it did not get (issue 21)', () => {
  it('the same --run-id with another command is an error naming what differs, not the old SUCCESS; the same command joins', async () => {
    const queue = `q-${process.pid}-runid`;
    await startWorker('runid', queue);
    const runId = `rid-${process.pid}`;
    // Commands without output: a joined job's output is not replayed (that is reported on its own).
    const first = await cli(['run', ...queueFlags(queue), '--run-id', runId, ...hosts(1), '--', 'true']);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    const other = await cli(['run', ...queueFlags(queue), '--run-id', runId, ...hosts(1), '--', 'true; true']);
    expect(other.stdout).not.toContain('[SUCCESS]');
    expect(other.stdout).toMatch(/run id .* already holds job .* with another command/);
    expect(other.code).not.toBe(0);
    const again = await cli(['run', ...queueFlags(queue), '--run-id', runId, ...hosts(1), '--', 'true']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('[SUCCESS]');
  }, 60_000);

  it('a job that vanishes from Redis (FLUSHALL, a restart without persistence) ends its host lost, not a wait for ever', async () => {
    const own = await startRedis();
    try {
      const queue = `q-${process.pid}-vanish`;
      // No worker: the job waits in Redis until it is flushed away.
      const submitter = spawn(process.execPath, [...CLI, 'run', '--queue', own.url, '--queue-name', queue, '--json', ...hosts(1), '--', 'true'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      submitter.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      const done = new Promise<number | null>((resolve) => submitter.once('exit', (code) => resolve(code)));
      const { Redis } = await import('ioredis');
      const client = new Redis(own.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      await client.connect();
      try {
        expect(await eventually(async () => (await client.keys(`rxssh:${queue}:*`)).some((k) => /:\d+$|\/127\.0\.0\.2/.test(k)), 20_000)).toBe(true);
        await client.flushall();
      } finally {
        client.disconnect();
      }
      const code = await done;
      const results = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; error?: { message: string } }).filter((o) => o.type === 'result');
      expect(results.map((r) => r.status)).toEqual(['lost']);
      expect(results[0]?.error?.message).toMatch(/vanished from Redis/);
      expect(code).toBe(3);
    } finally {
      await own.stop();
    }
  }, 60_000);
});

describe('become on the queue (issue 25 #1)', () => {
  it('rxssh run --queue --sudo: the workers run as root with their own --become-password-env; the password is nowhere in Redis', async () => {
    // This spec's own sudoers file (the become spec has another): runs and specs never share one.
    const sudoers = `/etc/sudoers.d/${fleet.info.username}-queue`;
    writeFileSync(sudoers, `${fleet.info.username} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
    try {
      const queue = `q-${process.pid}-sudo`;
      await startWorker('sudo', queue, ['--become-password-env', 'RXSSH_BECOME_PW']);
      const r = await cli(['run', ...queueFlags(queue), '--json', '--sudo', ...hosts(3), '--', 'id -un']);
      const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stdout?: string; status?: string }).filter((o) => o.type === 'result');
      expect(results.map((o) => [o.status, o.stdout]), r.stderr).toEqual(Array(3).fill(['ok', 'root\n']));
      // Every value of every key of the queue, read back from Redis: no password among them.
      const dump = execFileSync('sh', ['-c', 'for k in $(redis-cli -p "$P" -a "$A" --no-auth-warning --scan); do case $(redis-cli -p "$P" -a "$A" --no-auth-warning type "$k") in hash) redis-cli -p "$P" -a "$A" --no-auth-warning hgetall "$k";; string) redis-cli -p "$P" -a "$A" --no-auth-warning get "$k";; list) redis-cli -p "$P" -a "$A" --no-auth-warning lrange "$k" 0 -1;; zset) redis-cli -p "$P" -a "$A" --no-auth-warning zrange "$k" 0 -1;; stream) redis-cli -p "$P" -a "$A" --no-auth-warning xrange "$k" - +;; esac; done'], {
        encoding: 'utf8',
        env: { ...process.env, P: String(redis.port), A: REDIS_PASSWORD },
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(dump).toContain('"become":{"method":"sudo","user":"root"}');
      expect(dump).not.toContain(fleet.info.password);
    } finally {
      rmSync(sudoers, { force: true });
    }
  }, 60_000);
});

describe('job data from Redis is data (issue 21)', () => {
  it('a job whose user smuggles ssh_config lines is refused: the worker never connects, never sends its password', async () => {
    const queue = `q-${process.pid}-hostile`;
    // A host the worker does not know, which records every connection and every password offered.
    const seen = { connections: 0, passwords: [] as string[] };
    const evil = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
      seen.connections++;
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password') seen.passwords.push(ctx.password);
        ctx.reject(['password', 'publickey']);
      });
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const port = (evil.address() as { port: number }).port;
    await startWorker('guarded', queue, ['--password-env', 'RXSSH_WORKER_PW']);
    const { Queue } = await import('bullmq');
    const jobs = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port, password: REDIS_PASSWORD }, prefix: 'rxssh' });
    const base = { v: 1, runId: 'evil', command: 'id', timeout: 10_000, capture: 1024, retries: 0 };
    const target = { host: '127.0.0.1', port, label: `127.0.0.1:${port}` };
    try {
      const hostile = [
        { id: 'evil/user', data: { ...base, target, user: 'deploy\nStrictHostKeyChecking no\nForwardAgent yes' }, reason: /user must be one word/ },
        { id: 'evil/target-user', data: { ...base, target: { ...target, username: 'x\nStrictHostKeyChecking no' } }, reason: /target\.username must be one word/ },
        { id: 'evil/host', data: { ...base, target: { ...target, host: '127.0.0.1\nStrictHostKeyChecking no' } }, reason: /target\.host must be a host name/ },
        { id: 'evil/alias', data: { ...base, target: { ...target, alias: '-oProxyCommand=touch /tmp/x' } }, reason: /target\.alias must be one word, not an option/ },
        { id: 'evil/port', data: { ...base, target: { ...target, port: 70000 } }, reason: /target\.port must be an integer 1-65535/ },
        { id: 'evil/env', data: { ...base, target, env: { 'A=B C': 'x' } }, reason: /env has a bad variable name/ },
      ];
      for (const h of hostile) await jobs.add('host', h.data, { jobId: h.id, attempts: 1 });
      for (const h of hostile) {
        expect(await eventually(async () => (await jobs.getJob(h.id))?.failedReason !== undefined, 20_000), h.id).toBe(true);
        expect((await jobs.getJob(h.id))?.failedReason, h.id).toMatch(h.reason);
      }
      expect(seen).toEqual({ connections: 0, passwords: [] });
      expect(readFileSync(knownHostsFile, 'utf8')).not.toContain(`:${port}]`);
    } finally {
      await jobs.close();
      evil.close();
    }
  }, 60_000);
});

describe('a queue on a shared Redis: signed jobs and results, allowed hosts (issue 21 #19)', () => {
  const SECRET = 'a shared secret for this spec only';
  const withSecret = (name: string, secret = SECRET) => [...queueFlags(name), '--queue-secret-env', secret === SECRET ? 'RXSSH_QSECRET' : 'RXSSH_QSECRET_OTHER'];

  it('with a shared secret the run works; an unsigned job is refused by the worker and never connects', async () => {
    const queue = `q-${process.pid}-signed`;
    const worker = await startWorker('signed', queue, ['--queue-secret-env', 'RXSSH_QSECRET']);
    const ok = await cli(['run', ...withSecret(queue), ...hosts(2), '-i', '--', 'echo signed']);
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(ok.stdout.match(/\nsigned\n/g)).toHaveLength(2);
    const seen = { connections: 0 };
    const evil = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
      seen.connections++;
      client.on('error', () => undefined);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const port = (evil.address() as { port: number }).port;
    const { Queue } = await import('bullmq');
    const jobs = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port, password: REDIS_PASSWORD }, prefix: 'rxssh' });
    try {
      const base = { v: 1, runId: 'forged', command: 'id', timeout: 10_000, capture: 1024, retries: 0, target: { host: '127.0.0.1', port, label: `127.0.0.1:${port}` } };
      await jobs.add('host', base, { jobId: 'forged/unsigned', attempts: 1 });
      await jobs.add('host', { ...base, sig: 'ab'.repeat(32) }, { jobId: 'forged/badsig', attempts: 1 });
      for (const id of ['forged/unsigned', 'forged/badsig']) {
        expect(await eventually(async () => (await jobs.getJob(id))?.failedReason !== undefined, 20_000), id).toBe(true);
        expect((await jobs.getJob(id))?.failedReason).toMatch(/refused: the job is unsigned or wrongly signed/);
      }
      expect(worker.log).toMatch(/refused 127\.0\.0\.1:\d+ \[forged\/unsigned\]/);
      expect(seen.connections).toBe(0);
    } finally {
      await jobs.close();
      evil.close();
    }
  }, 60_000);

  it('a worker without the secret (or with another) cannot make the run report a result: the hosts end lost, never ok', async () => {
    const queue = `q-${process.pid}-forger`;
    await startWorker('no-secret', queue);
    const forged = await cli(['run', ...withSecret(queue), '--json', ...hosts(1), '--', 'echo forged']);
    const result = forged.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; error?: { message: string } }).find((o) => o.type === 'result');
    expect(result?.status).toBe('lost');
    expect(result?.error?.message).toMatch(/unsigned or wrongly signed/);
    expect(forged.code).toBe(3);
    const other = `q-${process.pid}-othersecret`;
    await startWorker('other-secret', other, ['--queue-secret-env', 'RXSSH_QSECRET_OTHER']);
    const refused = await cli(['run', ...withSecret(other), '--json', ...hosts(1), '--', 'true']);
    expect(refused.stdout).toMatch(/"status":"lost".*refused: the job is unsigned or wrongly signed/);
  }, 60_000);

  it('--allow-hosts: a worker refuses jobs for hosts outside its list', async () => {
    const queue = `q-${process.pid}-allow`;
    const worker = await startWorker('allow', queue, ['--allow-hosts', '127.0.0.2,127.0.0.9']);
    const r = await cli(['run', ...queueFlags(queue), '--json', '-H', `127.0.0.2:${fleet.info.port}`, '-H', `127.0.0.3:${fleet.info.port}`, '--', 'echo allowed']);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string; status?: string; error?: { message: string } }).filter((o) => o.type === 'result');
    expect(results.map((x) => [x.host, x.status]).sort()).toEqual([
      [`127.0.0.2:${fleet.info.port}`, 'ok'],
      [`127.0.0.3:${fleet.info.port}`, 'lost'],
    ]);
    expect(results.find((x) => x.status === 'lost')?.error?.message).toMatch(/127\.0\.0\.3 is outside this worker's allowed hosts/);
    expect(worker.log).toMatch(/refused 127\.0\.0\.3/);
  }, 60_000);
});

function psHas(args: string): boolean {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === args);
}

/** Marker lines per server address (one file per address, one line per run of the command). */
function markerCounts(dir: string): Map<string, number> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length]));
}
