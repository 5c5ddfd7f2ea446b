/**
 * `rxssh put` and `rxssh get` against a real sshd whose session process is killed mid-transfer
 * (the client sees a clean TCP FIN): a failure with a non-zero exit, never `[SUCCESS]`, and no
 * `.part` file left behind. This sshd is the spec's own, so killing its sessions touches no other.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownHostsName } from '../../lib/index.js';
import { eventually, sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

let server: { info: SshdInfo; stop: () => Promise<void> };
let knownHostsFile: string;
let work: string;
beforeAll(async () => {
  server = await startSshd({ account: sshd() });
  knownHostsFile = join(server.info.dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${knownHostsName('127.0.0.1', server.info.port)} ${hostKeyLine(server.info.dir)}\n`);
  work = mkdtempSync(join(tmpdir(), 'rxssh-cut-'));
  chmodSync(work, 0o755);
});
afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

const common = () => ['-H', `127.0.0.1:${server.info.port}`, '-l', server.info.username, '--identity', server.info.keys['ed25519'] ?? '', '--known-hosts', knownHostsFile];
/** Starts the CLI as a real process; resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
/** The processes whose parent is `pid`. */
const childrenOf = (pid: string): string[] => {
  try {
    return execFileSync('pgrep', ['-P', pid], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
};
/**
 * Kills this sshd's per-connection processes (the monitor and its unprivileged child that
 * serves the session; not the listener): the monitor's socket closes, the client sees a FIN.
 */
function killSessions(): number {
  const monitors = childrenOf(String(server.info.pid));
  const sessions = [...monitors, ...monitors.flatMap(childrenOf)];
  for (const pid of sessions) process.kill(Number(pid), 'SIGKILL');
  return sessions.length;
}
const size = (file: string): number => (existsSync(file) ? statSync(file).size : 0);
const big = (file: string): void => {
  const block = randomBytes(1024 * 1024);
  writeFileSync(file, Buffer.concat(Array.from({ length: 300 }, () => block)));
};

describe('a transfer cut by the server is a failure (real sshd, session process killed)', () => {
  it('rxssh put of 300 MB: [FAILURE] naming the lost connection, exit non-zero', async () => {
    const src = join(work, 'up.bin');
    big(src);
    const remote = `${server.info.home}/cut-up-${randomBytes(4).toString('hex')}.bin`;
    const run = cli(['put', ...common(), src, remote]);
    expect(await eventually(() => size(remote) > 4 * 1024 * 1024, 30_000)).toBe(true);
    expect(killSessions()).toBeGreaterThan(0);
    const { code, stdout, stderr } = await run;
    expect(stdout).not.toContain('[SUCCESS]');
    expect(stdout).toContain('[FAILURE]');
    // A FIN, or an RST when the kill left unread bytes in the socket: a lost connection either way.
    expect(stdout + stderr).toMatch(/ConnectionLost|Connection lost|closed/i);
    expect(code).not.toBe(0);
    expect(size(remote)).toBeLessThan(300 * 1024 * 1024);
    rmSync(remote, { force: true });
  });

  it('rxssh get of 300 MB: [FAILURE], exit non-zero, no file and no .part left', async () => {
    const remote = `${server.info.home}/cut-down-${randomBytes(4).toString('hex')}.bin`;
    big(remote);
    execFileSync('chown', [server.info.username, remote]);
    const into = mkdtempSync(join(work, 'get-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'get', ...common(), remote, join(into, 'x.bin')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.resume();
    const exited = new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
    const partSize = (): number => {
      const walk = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(join(d, e.name)) : size(join(d, e.name))), 0);
      return walk(into);
    };
    expect(await eventually(() => partSize() > 4 * 1024 * 1024, 30_000)).toBe(true);
    expect(killSessions()).toBeGreaterThan(0);
    const code = await exited;
    expect(stdout).not.toContain('[SUCCESS]');
    expect(stdout).toContain('[FAILURE]');
    expect(code).not.toBe(0);
    const left = execFileSync('find', [into, '-type', 'f'], { encoding: 'utf8' }).trim();
    expect(left).toBe('');
    rmSync(remote, { force: true });
  });
});
