/**
 * Starts a real OpenSSH sshd on a loopback port with a throwaway config, host keys, client
 * keys and a throwaway test account of its own (a fresh name and password per run, so runs on one
 * machine never change each other's account). Used by the integration specs (through vitest's
 * globalSetup) and by the benchmarks. Needs root (sshd -D on a port, useradd).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
/** Test accounts are named this prefix and 8 random hex digits, one per run. */
export const TEST_USER_PREFIX = 'rxssh-t-';
const MARKER = 'rxssh throwaway test account';

/** Everything a spec needs to reach the sshd. */
export interface SshdInfo {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** The account's home directory. */
  readonly home: string;
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
   * The account to log in as: give the running suite's (its `SshdInfo`) when starting a second
   * sshd during the tests. Without it, a fresh account is made for this sshd and removed by
   * `stop()`.
   */
  readonly account?: TestAccount;
}

/** Why sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing: install openssh-server (apt-get install -y openssh-server)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the sshd integration suite needs root (sshd on a port, a test account)';
  return undefined;
}

/**
 * A port nothing listens on now, for a server a spec starts later (or for nothing at all: a
 * closed port). Taken below the kernel's ephemeral range (32768-60999): a port the kernel hands
 * to another process's bind(0) or connect() in the meantime — specs run two files at a time —
 * is never one of these.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
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

/** Runs a command that edits the account database, retrying while another run holds its lock. */
function accountCommand(cmd: string, args: string[], input?: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
      return;
    } catch (err) {
      const text = String((err as { stderr?: Buffer }).stderr ?? err);
      if (attempt >= 50 || !/lock|try again/i.test(text)) throw new Error(`${cmd} ${args.join(' ')}: ${text}`, { cause: err });
      execFileSync('sleep', ['0.1']);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes throwaway accounts left behind by runs that died (their process is gone). Accounts of
 * runs still going are left alone: each run has its own account, so runs never share one.
 */
function removeStaleAccounts(): void {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [name, , , , comment] = line.split(':');
    const owner = comment?.startsWith(MARKER) ? /pid (\d+)/.exec(comment)?.[1] : undefined;
    if (name && owner && !alive(Number(owner))) {
      try {
        accountCommand('userdel', ['--remove', name]);
      } catch {
        // another run may be removing it at the same moment
      }
    }
  }
  removeStaleRules(new Set(readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')[0] ?? '')));
}

/**
 * The become specs' sudoers files (`TEST_USER_PREFIX…-become`, `…-queue`) of accounts that no
 * longer exist: a run killed before its cleanup leaves them (harmless, but they pile up).
 */
function removeStaleRules(users: ReadonlySet<string>): void {
  let files: string[];
  try {
    files = readdirSync('/etc/sudoers.d');
  } catch {
    return; // no sudo here
  }
  for (const file of files) {
    const user = file.startsWith(TEST_USER_PREFIX) ? file.replace(/-(become|queue)$/, '') : undefined;
    if (user && !users.has(user)) rmSync(`/etc/sudoers.d/${file}`, { force: true });
  }
}

/** A throwaway account of this run: its own name and password, removed again by `remove`. */
export interface TestAccount {
  readonly username: string;
  readonly password: string;
  readonly home: string;
}

/** Creates a fresh account for this run (a random name and password). */
export function createTestAccount(): TestAccount & { remove: () => void } {
  removeStaleAccounts();
  const username = `${TEST_USER_PREFIX}${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  accountCommand('useradd', ['--create-home', '--shell', '/bin/sh', '--comment', `${MARKER} (pid ${process.pid})`, username]);
  accountCommand('chpasswd', [], `${username}:${password}\n`);
  const home = execFileSync('getent', ['passwd', username], { encoding: 'utf8' }).split(':')[5] ?? `/home/${username}`;
  return {
    username,
    password,
    home,
    remove: () => accountCommand('userdel', ['--remove', username]),
  };
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

/** Settings an `extra` line of the same keyword replaces. */
const DEFAULTS = ['MaxStartups 100:30:200', 'LogLevel VERBOSE', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'UsePAM no'];

/** Starts sshd; resolves once it sends its banner. Returns its info and a stop function. */
export async function startSshd(options: SshdOptions = {}): Promise<{ info: SshdInfo; stop: () => Promise<void> }> {
  const why = sshdUnavailable();
  if (why) throw new Error(why);
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'rxssh-sshd-'));
  chmodSync(dir, 0o755);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const own = options.account ? undefined : createTestAccount();
  const account: TestAccount = options.account ?? (own as TestAccount);
  try {
    return await launch(host, dir, account, options, own);
  } catch (err) {
    own?.remove();
    throw err;
  }
}

async function launch(host: string, dir: string, account: TestAccount, options: SshdOptions, own: { remove: () => void } | undefined): Promise<{ info: SshdInfo; stop: () => Promise<void> }> {

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

  // sshd keeps the first value of most keywords: an extra line replaces these defaults instead.
  const keywordOf = (line: string): string => line.split(/\s+/)[0]?.toLowerCase() ?? '';
  const replaced = new Set((options.extra ?? []).map(keywordOf));
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
      'StrictModes no',
      'PermitRootLogin no',
      `AllowUsers ${account.username}`,
      'AcceptEnv RXSSH_*',
      'Subsystem sftp internal-sftp',
      'AllowTcpForwarding yes',
      ...DEFAULTS.filter((line) => !replaced.has(keywordOf(line))),
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
    username: account.username,
    password: account.password,
    home: account.home,
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
    own?.remove();
  };
  return { info, stop };
}

/** A host key of a started sshd (its `dir`) as known_hosts takes it (`TYPE BASE64`, without the comment). */
export function hostKeyLine(dir: string, type = 'ed25519'): string {
  return readFileSync(join(dir, `host_${type}.pub`), 'utf8').split(' ').slice(0, 2).join(' ');
}
