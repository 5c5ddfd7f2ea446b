/**
 * Starts a real OpenSSH sshd on a loopback port with a throwaway config, host keys, client
 * keys and a dedicated test account. Used by the integration specs (through vitest's
 * globalSetup) and by the benchmarks. Needs root (sshd -D on a port, useradd).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const TEST_USER = 'rxssh-test';
const MARKER = 'rxssh throwaway test account';

/** Everything a spec needs to reach the sshd. */
export interface SshdInfo {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly dir: string;
  readonly logFile: string;
  /** SHA256 fingerprints of the host keys, by type (`ed25519`, `rsa`, `ecdsa`). */
  readonly hostFingerprints: Readonly<Record<string, string>>;
  /** Paths of client private keys, by name (`ed25519`, `rsa`, `ecdsa`, `encrypted`). */
  readonly keys: Readonly<Record<string, string>>;
  /** The passphrase of the `encrypted` key. */
  readonly passphrase: string;
  readonly pid: number;
}

export interface SshdOptions {
  /** Extra sshd_config lines; `{port}` is replaced by the port. */
  readonly extra?: readonly string[];
  readonly host?: string;
  /**
   * The test account's password. Give the running suite's password when starting a second
   * sshd during the tests, so the account's password does not change under other specs.
   */
  readonly password?: string;
}

/** Why sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing: install openssh-server (apt-get install -y openssh-server)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the sshd integration suite needs root (sshd on a port, a test account)';
  return undefined;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function keygen(args: string[]): void {
  execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'pipe' });
}

function fingerprint(pubFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  const fp = out.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`cannot read fingerprint of ${pubFile}: ${out}`);
  return fp;
}

/** Creates (or reuses) the dedicated test account and gives it a fresh random password. */
function ensureUser(password: string): void {
  let exists = true;
  try {
    execFileSync('id', [TEST_USER], { stdio: 'pipe' });
  } catch {
    exists = false;
  }
  if (!exists) {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '--comment', MARKER, TEST_USER], { stdio: 'pipe' });
  } else {
    const entry = execFileSync('getent', ['passwd', TEST_USER], { encoding: 'utf8' });
    if (!entry.includes(MARKER)) throw new Error(`account ${TEST_USER} exists but was not made by rxssh's tests; refusing to touch it`);
  }
  execFileSync('chpasswd', [], { input: `${TEST_USER}:${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
}

async function waitForBanner(host: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect({ host, port });
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on ${host}:${port}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts sshd; resolves once it sends its banner. Returns its info and a stop function. */
export async function startSshd(options: SshdOptions = {}): Promise<{ info: SshdInfo; stop: () => Promise<void> }> {
  const why = sshdUnavailable();
  if (why) throw new Error(why);
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'rxssh-sshd-'));
  chmodSync(dir, 0o755);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const password = options.password ?? randomBytes(12).toString('base64url');
  ensureUser(password);

  const hostFingerprints: Record<string, string> = {};
  const hostKeyLines: string[] = [];
  for (const [type, bits] of [['ed25519', []], ['ecdsa', ['-b', '256']], ['rsa', ['-b', '3072']]] as const) {
    const file = join(dir, `host_${type}`);
    keygen(['-t', type, ...bits, '-N', '', '-f', file]);
    hostFingerprints[type] = fingerprint(`${file}.pub`);
    hostKeyLines.push(`HostKey ${file}`);
  }
  const passphrase = randomBytes(9).toString('base64url');
  const keys: Record<string, string> = {};
  const authorized: string[] = [];
  for (const [name, type, bits, pass] of [
    ['ed25519', 'ed25519', [], ''],
    ['ecdsa', 'ecdsa', ['-b', '256'], ''],
    ['rsa', 'rsa', ['-b', '3072'], ''],
    ['encrypted', 'ed25519', [], passphrase],
  ] as const) {
    const file = join(dir, `client_${name}`);
    keygen(['-t', type, ...bits, '-N', pass, '-f', file]);
    chmodSync(file, 0o600);
    keys[name] = file;
    authorized.push(readFileSync(`${file}.pub`, 'utf8').trim());
  }
  const authorizedFile = join(dir, 'authorized_keys');
  writeFileSync(authorizedFile, `${authorized.join('\n')}\n`, { mode: 0o644 });

  const port = await freePort(host);
  const logFile = join(dir, 'sshd.log');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      ...hostKeyLines,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedFile}`,
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin no',
      `AllowUsers ${TEST_USER}`,
      'AcceptEnv RXSSH_*',
      'Subsystem sftp internal-sftp',
      'AllowTcpForwarding yes',
      'MaxStartups 100:30:200',
      'LogLevel VERBOSE',
      ...(options.extra ?? []).map((line) => line.replaceAll('{port}', String(port))),
      '',
    ].join('\n'),
  );
  execFileSync(SSHD, ['-t', '-f', config], { stdio: 'pipe' });
  // -E: sshd appends its log to the file itself (also from its per-connection processes).
  writeFileSync(logFile, '');
  const child = spawn(SSHD, ['-D', '-E', logFile, '-f', config], { stdio: 'ignore' });
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await waitForBanner(host, port, child, log);
  const info: SshdInfo = {
    host,
    port,
    username: TEST_USER,
    password,
    dir,
    logFile,
    hostFingerprints,
    keys,
    passphrase,
    pid: child.pid ?? 0,
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { info, stop };
}
