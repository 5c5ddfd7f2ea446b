/**
 * The product a user installs: `npm pack` from this checkout (which builds through `prepack`),
 * the tarball installed into a scratch project, and there the `rxssh` bin (through npm's
 * `.bin` link and `npx`), both import styles and a strict TypeScript consumer — against the
 * suite's real sshd. A spec that only passes inside the repo proves little about what ships.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sshd } from '../helpers/index.js';
import { startRedis } from '../helpers/redis.js';
import { hostKeyLine, type SshdInfo } from '../integration/sshd.js';

const repo = new URL('../..', import.meta.url).pathname;
let s: SshdInfo;
let scratch: string;
let knownHosts: string;
let tarball: string;

function run(cmd: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: scratch, env: { ...process.env, ...options.env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

beforeAll(() => {
  s = sshd(); // fails loudly without the suite's sshd
  scratch = mkdtempSync(join(tmpdir(), 'rxssh-installed-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const found = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  if (!found) throw new Error('npm pack made no tarball');
  tarball = join(scratch, found);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const devTypes = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, `typescript@${devTypes.devDependencies['typescript']}`, `@types/node@${devTypes.devDependencies['@types/node']}`],
    { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const hostKey = hostKeyLine(s.dir);
  knownHosts = join(scratch, 'known_hosts');
  writeFileSync(knownHosts, `[${s.host}]:${s.port} ${hostKey}\n`);
}, 240_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the built code, the bin, types and the licence, and no sources, specs or source maps', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/cli/bin.js', 'package/dist/testing/index.js', 'package/LICENSE', 'package/package.json']));
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/spec/') || f.endsWith('.map'))).toEqual([]);
  });

  it('ships ASCII-only JavaScript (V8 keeps a source with one other character at two bytes a character)', () => {
    const dist = join(scratch, 'node_modules', 'rxssh', 'dist');
    const js = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(10);
    // eslint-disable-next-line no-control-regex
    expect(js.filter((f) => /[^\x00-\x7f]/.test(readFileSync(join(dist, f), 'utf8')))).toEqual([]);
  });
});

const target = (): string => `${s.host}:${s.port}`;
const creds = (): string[] => ['-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', knownHosts];
const peers = ['bullmq', 'ioredis', 'piscina'] as const;
const installed = (name: string): boolean => readdirSync(join(scratch, 'node_modules')).includes(name);

describe('installed without the optional peers (bullmq, ioredis, piscina)', () => {
  it('npm left the optional peers out', () => {
    expect(peers.filter(installed)).toEqual([]);
    expect(installed('rxjs')).toBe(true); // the required peer
  });

  it('rxssh/fleet and rxssh/queue load; fanOut runs; fanOutInWorkers and fanOutOnQueue fail with MissingPeerError naming the package', async () => {
    writeFileSync(
      join(scratch, 'no-peers.mjs'),
      `import { connect, verifyHostKey, knownHosts, authenticate, privateKey, run, MissingPeerError } from 'rxssh';
import { fanOut, fanOutInWorkers } from 'rxssh/fleet';
import { fanOutOnQueue } from 'rxssh/queue';
import { readFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
const host = (t) => connect({ host: t.host, port: t.port, username: ${JSON.stringify(s.username)} }).pipe(
  verifyHostKey(knownHosts({ files: [${JSON.stringify(knownHosts)}] })),
  authenticate(privateKey(readFileSync(${JSON.stringify(s.keys['ed25519'])}))),
  run('echo fanned'),
);
const results = await lastValueFrom(fanOut([${JSON.stringify(target())}, ${JSON.stringify(target())}], host).pipe(toArray()));
console.log(results.map((r) => r.status + ' ' + r.stdout.trim()).join(' '));
const missing = async (run$) => lastValueFrom(run$).then(() => 'no error', (e) => (e instanceof MissingPeerError ? e.packageName + ': ' + e.message : 'other: ' + e));
console.log(await missing(fanOutInWorkers([${JSON.stringify(target())}], { module: new URL('./nothing.mjs', import.meta.url) })));
console.log(await missing(fanOutOnQueue([${JSON.stringify(target())}], { command: 'true' }, { queue: { url: 'redis://127.0.0.1:1' } })));
`,
    );
    const out = await run(process.execPath, ['no-peers.mjs']);
    expect(out.code, out.stderr).toBe(0);
    const [fanned, workers, queue] = out.stdout.split('\n');
    expect(fanned).toBe('ok fanned ok fanned');
    expect(workers).toMatch(/^piscina: fanOutInWorkers\(\) needs the optional peer dependency piscina, which is not installed \(npm install piscina\)/);
    expect(queue).toMatch(/^(bullmq|ioredis): rxssh\/queue needs the optional peer dependency (bullmq|ioredis)/);
  });

  it('rxssh run --workers and --queue say which package to install (exit 2); without them, run works', async () => {
    const bin = join(scratch, 'node_modules', '.bin', 'rxssh');
    const workers = await run(bin, ['run', '--workers', '2', '-H', target(), ...creds(), '--', 'true']);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toContain('npm install piscina');
    const queue = await run(bin, ['run', '--queue', 'redis://127.0.0.1:1', '-H', target(), '--', 'true']);
    expect(queue.code).toBe(2);
    expect(queue.stderr).toMatch(/npm install (bullmq|ioredis)/);
  });
});

describe('the installed bin', () => {

  it('--version through node_modules/.bin and through npx', async () => {
    const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    const bin = await run(join(scratch, 'node_modules', '.bin', 'rxssh'), ['--version']);
    expect(bin).toMatchObject({ code: 0, stdout: `rxssh ${version}\n` });
    const npx = await run('npx', ['--no-install', 'rxssh', '--version']);
    expect(npx).toMatchObject({ code: 0, stdout: `rxssh ${version}\n` });
  });

  it('rxssh run: exit 0 with output and stdin (-I), 5 for a failed command, 4 for an unreachable host', async () => {
    const bin = join(scratch, 'node_modules', '.bin', 'rxssh');
    const ok = await run(bin, ['run', '-H', target(), ...creds(), '-I', '-i', '--', 'cat'], { input: 'from stdin\n' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('[SUCCESS]');
    expect(ok.stdout).toContain('from stdin');
    const failed = await run(bin, ['run', '-H', target(), ...creds(), '--', 'exit 3']);
    expect(failed.code, failed.stderr).toBe(5);
    expect(failed.stdout).toContain('Exited with error code 3');
    const unreachable = await run(bin, ['run', '-H', `${s.host}:1`, ...creds(), '--', 'true']);
    expect(unreachable.code, unreachable.stderr).toBe(4);
  });

  it('rxssh exec: the remote exit code, output on stdout', async () => {
    const bin = join(scratch, 'node_modules', '.bin', 'rxssh');
    const seven = await run(bin, ['exec', ...creds(), target(), '--', 'echo out; exit 7']);
    expect(seven).toMatchObject({ code: 7, stdout: 'out\n' });
  });
});

describe('the installed library', () => {
  it('imports from ESM and connects to sshd through the installed code', async () => {
    writeFileSync(
      join(scratch, 'esm.mjs'),
      `import { connect, verifyHostKey, knownHosts, authenticate, privateKey, run } from 'rxssh';
import { testServer } from 'rxssh/testing';
import { readFileSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
if (typeof testServer !== 'function') throw new Error('rxssh/testing has no testServer');
const r = await lastValueFrom(
  connect({ host: ${JSON.stringify(s.host)}, port: ${s.port}, username: ${JSON.stringify(s.username)} }).pipe(
    verifyHostKey(knownHosts({ files: [${JSON.stringify(knownHosts)}] })),
    authenticate(privateKey(readFileSync(${JSON.stringify(s.keys['ed25519'])}))),
    run('echo installed'),
  ),
);
console.log(r.stdout.trim());
`,
    );
    const out = await run(process.execPath, ['esm.mjs']);
    expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'installed\n' });
  });

});

describe('with the optional peers installed', () => {
  beforeAll(() => {
    const dev = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...peers.map((p) => `${p}@${dev[p]}`)], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(peers.filter(installed)).toEqual([...peers]);
  }, 240_000);

  it('rxssh run --workers 2: the hosts run on worker threads', async () => {
    const bin = join(scratch, 'node_modules', '.bin', 'rxssh');
    const workers = await run(bin, ['run', '--workers', '2', '-v', '-H', target(), '-H', target(), ...creds(), '-I', '-i', '--', 'cat'], { input: 'to workers\n' });
    expect(workers.code, workers.stderr).toBe(0);
    expect(workers.stderr).toContain('on 2 worker thread(s)');
    expect(workers.stdout.match(/\[SUCCESS\][^\n]*\nto workers\n/g)).toHaveLength(2);
  });

  it('fanOutInWorkers from the installed package: the worker host ships and runs a plain-JS pipeline module', async () => {
    writeFileSync(
      join(scratch, 'pipeline.mjs'),
      `import { connect, verifyHostKey, knownHosts, authenticate, privateKey, run } from 'rxssh';
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { map } from 'rxjs';
export const uptime = (t, a) => connect({ host: t.host, port: t.port, username: a.username }).pipe(
  verifyHostKey(knownHosts({ files: [a.knownHosts] })),
  authenticate(privateKey(readFileSync(a.key))),
  run('echo worker'),
  map((r) => ({ ...r, stdout: r.stdout + 'thread ' + threadId })),
);
`,
    );
    writeFileSync(
      join(scratch, 'workers.mjs'),
      `import { fanOutInWorkers } from 'rxssh/fleet';
import { lastValueFrom, toArray } from 'rxjs';
const args = { username: ${JSON.stringify(s.username)}, key: ${JSON.stringify(s.keys['ed25519'])}, knownHosts: ${JSON.stringify(knownHosts)} };
const targets = [0, 1, 2].map(() => ${JSON.stringify(`${s.host}:${s.port}`)});
const results = await lastValueFrom(fanOutInWorkers(targets, { module: new URL('./pipeline.mjs', import.meta.url), export: 'uptime', args }, { threads: 2 }).pipe(toArray()));
console.log(results.map((r) => r.status + ' ' + r.stdout.replace(/\\d+$/, 'N').replace('\\n', ' ')).join('\\n'));
`,
    );
    const out = await run(process.execPath, ['workers.mjs']);
    expect(out, out.stderr).toMatchObject({ code: 0, stdout: 'ok worker thread N\nok worker thread N\nok worker thread N\n' });
  });

  it('the queue from the installed package: an installed `rxssh worker` takes the jobs of `rxssh run --queue` and of fanOutOnQueue()', async () => {
    const redis = await startRedis({ password: 'installed-pw' });
    const bin = join(scratch, 'node_modules', '.bin', 'rxssh');
    const queue = ['--queue', redis.url, '--queue-name', `installed-${process.pid}`, '--redis-password-env', 'REDIS_PW'];
    const worker = spawn(bin, ['worker', ...queue, '-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', knownHosts, '-F', '/dev/null'], {
      cwd: scratch,
      env: { ...process.env, REDIS_PW: 'installed-pw' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    worker.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    try {
      expect(await eventually(() => log.includes('taking jobs'), 30_000), log).toBe(true);
      const cli = await run(bin, ['run', ...queue, '-H', `${s.host}:${s.port}`, '-i', '--', 'echo', 'queued'], { env: { REDIS_PW: 'installed-pw' } });
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/\[SUCCESS\][^\n]*\nqueued\n/);
      writeFileSync(
        join(scratch, 'queue.mjs'),
        `import { fanOutOnQueue } from 'rxssh/queue';
import { lastValueFrom, toArray } from 'rxjs';
const queue = { url: ${JSON.stringify(redis.url)}, password: process.env.REDIS_PW, name: ${JSON.stringify(`installed-${process.pid}`)} };
const results = await lastValueFrom(fanOutOnQueue([${JSON.stringify(`${s.host}:${s.port}`)}], { command: 'echo from-lib' }, { queue }).pipe(toArray()));
console.log(results.map((r) => r.status + ' ' + r.stdout.trim()).join('\\n'));
`,
      );
      const lib = await run(process.execPath, ['queue.mjs'], { env: { REDIS_PW: 'installed-pw' } });
      expect(lib, lib.stderr).toMatchObject({ code: 0, stdout: 'ok from-lib\n' });
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      worker.kill('SIGKILL');
      await redis.stop();
    }
  }, 120_000);

  it('require()s every entry point from CommonJS (Node ≥ 20.19 loads ESM through require)', async () => {
    writeFileSync(
      join(scratch, 'cjs.cjs'),
      `const rxssh = require('rxssh');
const fleet = require('rxssh/fleet');
const queue = require('rxssh/queue');
const testing = require('rxssh/testing');
console.log(typeof rxssh.connect, typeof fleet.fanOut, typeof queue.fanOutOnQueue, typeof testing.testServer);
`,
    );
    const out = await run(process.execPath, ['cjs.cjs']);
    expect(out.stderr).not.toMatch(/Error/);
    expect(out).toMatchObject({ code: 0, stdout: 'function function function function\n' });
  });

  it('type-checks in a strict consumer that checks library types too (skipLibCheck: false)', async () => {
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
        files: ['consumer.mts'],
      }),
    );
    writeFileSync(
      join(scratch, 'consumer.mts'),
      `import { connect, verifyHostKey, pinned, authenticate, password, run, ChannelSubject, Connection, ConnectionHandle, HostKeyOffer, SftpSession, Transport } from 'rxssh';
import { fanOut, FanOut, type HostResult } from 'rxssh/fleet';
import { queueNames, type QueueConfig } from 'rxssh/queue';
import { testServer, type TestServerInfo } from 'rxssh/testing';
import type { Observable } from 'rxjs';
const conn$: Observable<Connection> = connect({ host: 'h', username: 'u' }).pipe(verifyHostKey(pinned('SHA256:x')), authenticate(password('p')));
const result$ = conn$.pipe(run('true'));
const fan$ = fanOut(['a', 'b'], () => result$);
fan$.subscribe((r: HostResult<unknown>) => r.status);
const queue: QueueConfig = { url: 'redis://127.0.0.1:6379' };
// Made by rxssh only: the published types have no constructor a user can call (each line
// below must fail to compile, or tsc reports the directive as unused).
// @ts-expect-error private constructor
new HostKeyOffer();
// @ts-expect-error private constructor
new Transport();
// @ts-expect-error private constructor
new Connection();
// @ts-expect-error private constructor
new ChannelSubject();
// @ts-expect-error private constructor
new SftpSession();
// @ts-expect-error private constructor
new ConnectionHandle();
// @ts-expect-error private constructor
new FanOut(result$);
const names: { name: string; prefix: string } = queueNames(queue);
void names;
const server$: Observable<TestServerInfo> = testServer();
void server$;
`,
    );
    const out = await run(join(scratch, 'node_modules', '.bin', 'tsc'), ['-p', '.']);
    expect(out.stdout + out.stderr).toBe('');
    expect(out.code).toBe(0);
  });

  it('declares a private constructor for every class only rxssh makes (stripInternal must not leave a public default one)', () => {
    const dist = join(scratch, 'node_modules', 'rxssh', 'dist');
    const declared = (file: string, name: string): string => {
      const text = readFileSync(join(dist, file), 'utf8');
      const at = text.indexOf(`declare class ${name}`);
      expect(at, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
      return text.slice(at, text.indexOf('\n}', at));
    };
    const classes: Array<[string, string]> = [
      ['transport/transport.d.ts', 'HostKeyOffer'],
      ['transport/transport.d.ts', 'Transport'],
      ['connection/connection.d.ts', 'Connection'],
      ['channel/channel.d.ts', 'ChannelSubject'],
      ['sftp/sftp.d.ts', 'SftpSession'],
      ['promise/handle.d.ts', 'ConnectionHandle'],
      ['fleet/fan-out.d.ts', 'FanOut'],
    ];
    for (const [file, name] of classes) expect(declared(file, name), name).toMatch(/\n\s+private constructor\(/);
  });
});
