/**
 * `rxssh run` (many hosts, pssh's flags and exit codes) and `rxssh exec` (one host).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import { agent, authenticate, password, privateKey, type AuthProvider } from '../auth.js';
import { connect } from '../connect.js';
import { exec } from '../exec.js';
import { ExitStatusError, SshError } from '../errors.js';
import { fanOut, parseHostSpec, parseHostsFile, type FanOutTarget, type HostResult, type HostStatus } from '../fan-out.js';
import { verifyHostKey, type HostKeyPolicy } from '../host-key.js';
import { acceptNew, knownHosts } from '../known-hosts.js';
import { connectAlias, sshConfigTargets } from '../ssh-config.js';
import type { ExecChunk } from '../channel.js';
import type { Io } from './io.js';

import { EXIT, UsageError } from './usage.js';

export { EXIT, UsageError };

/** The exit code for a set of results, in pssh's order of precedence. */
export function exitCodeOf(statuses: Iterable<HostStatus>): number {
  const all = new Set(statuses);
  if (all.has('timeout')) return EXIT.timeout;
  if (all.has('unreachable') || all.has('auth-failed') || all.has('host-key-rejected') || all.has('connection-error')) return EXIT.connection;
  if (all.has('failed')) return EXIT.remote;
  if (all.has('cancelled')) return EXIT.misc;
  return EXIT.ok;
}

/** Options shared by `run` and `exec`. */
export interface Common {
  readonly user: string;
  readonly identities: readonly string[];
  readonly knownHostsFile: string;
  readonly acceptNew: boolean;
  readonly passwordEnv: string | undefined;
  /** Resolve hosts through this ssh_config file (aliases, ProxyJump, per-host keys and trust). */
  readonly sshConfig?: string | undefined;
}

const COMMON_OPTIONS = {
  'ssh-config': { type: 'string', short: 'F' },
  user: { type: 'string', short: 'l' },
  identity: { type: 'string', multiple: true },
  'known-hosts': { type: 'string' },
  'accept-new': { type: 'boolean', default: false },
  'password-env': { type: 'string' },
} as const;

function common(values: Record<string, unknown>, io: Io): Common {
  return {
    user: (values['user'] as string | undefined) ?? io.env['USER'] ?? userInfo().username,
    identities: (values['identity'] as string[] | undefined) ?? [],
    knownHostsFile: (values['known-hosts'] as string | undefined) ?? join(homedir(), '.ssh', 'known_hosts'),
    acceptNew: values['accept-new'] === true,
    passwordEnv: values['password-env'] as string | undefined,
    sshConfig: values['ssh-config'] as string | undefined,
  };
}

/** The credential providers: agent + ~/.ssh keys by default, or the given identities; then a password. */
export function credentials(opts: Common, io: Io): AuthProvider[] {
  const providers: AuthProvider[] = [];
  const explicit = opts.identities.length > 0;
  if (!explicit) providers.push(agent());
  const files = explicit ? opts.identities : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).filter((f) => existsSync(f));
  for (const file of files) {
    try {
      providers.push(privateKey(readFileSync(file)));
    } catch (err) {
      if (explicit) throw new UsageError(`--identity ${file}: ${(err as Error).message}`);
      io.stderr.write(`rxssh: skipping ${file}: ${(err as Error).message}\n`);
    }
  }
  if (opts.passwordEnv !== undefined) {
    const value = io.env[opts.passwordEnv];
    if (value === undefined) throw new UsageError(`--password-env ${opts.passwordEnv}: the variable is not set`);
    providers.push(password(value));
  }
  if (providers.length === 0) throw new UsageError('no credentials: give --identity FILE or --password-env VAR');
  return providers;
}

function hostKeyPolicy(opts: Common): HostKeyPolicy {
  const files = [opts.knownHostsFile, '/etc/ssh/ssh_known_hosts'];
  return opts.acceptNew ? acceptNew({ files, learnTo: opts.knownHostsFile }) : knownHosts({ files });
}

/** One host's pipeline: connect, verify, authenticate, run the command (output as exec chunks). */
export function hostPipeline(
  target: FanOutTarget,
  command: string,
  opts: Common,
  providers: AuthProvider[],
  stdin: Buffer | undefined,
  env?: Readonly<Record<string, string>>,
): Observable<ExecChunk> {
  const command$ = exec(command, { ...(stdin ? { stdin: [stdin] } : {}), ...(env ? { env } : {}) });
  if (opts.sshConfig) {
    // Like `ssh -F file host`: the alias is resolved (HostName, Port, User, ProxyJump, keys,
    // StrictHostKeyChecking); a user or port in the host spec overrides the config's.
    return connectAlias(target.alias ?? target.host, {
      file: opts.sshConfig,
      ...(target.username ? { user: target.username } : {}),
      ...(target.port ? { port: target.port } : {}),
      credentials: providers,
    }).pipe(command$);
  }
  return connect({ host: target.host, port: target.port ?? 22, username: target.username ?? opts.user }).pipe(
    verifyHostKey(hostKeyPolicy(opts)),
    authenticate(...providers),
    command$,
  );
}

function describe(r: HostResult<unknown>): string {
  switch (r.status) {
    case 'ok':
      return '';
    case 'failed':
      return r.signal ? ` Killed by signal ${r.signal}` : r.exitCode !== null ? ` Exited with error code ${r.exitCode}` : ` ${errorText(r.error)}`;
    case 'timeout':
      return ' Timed out';
    default:
      return ` ${errorText(r.error)}`;
  }
}

function errorText(error: unknown): string {
  if (error instanceof ExitStatusError) return `Exited with error code ${error.exitCode}`;
  return error instanceof Error ? error.message : String(error);
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/**
 * Text a server chose (error descriptions, exit messages, output shown in status lines) made
 * safe for a terminal, as OpenSSH does: control characters (but tab), DEL and C1 become `\xNN`,
 * so a host can neither fake a status line nor send escape sequences. A command's own output in
 * `-i`, `-P`, `-o` and `-e` is left as it is.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The output file name of a target, as pssh names it: the host, with `user@` when the user
 * differs from the default one and `:port` when a port was given; made safe for a file name (no
 * `/`, no control characters, never `.` or `..`).
 */
export function outputName(target: FanOutTarget, defaultUser: string): string {
  const name = `${target.username && target.username !== defaultUser ? `${target.username}@` : ''}${target.alias ?? target.host}${target.port ? `:${target.port}` : ''}`;
  const safe = name.replace(/[^A-Za-z0-9._@:[\]-]/g, '_');
  return safe === '.' || safe === '..' || safe === '' ? `_${safe}` : safe;
}

/** The JSON form of a result (one NDJSON line). */
export function resultJson(r: HostResult<unknown>): Record<string, unknown> {
  return {
    type: 'result',
    host: r.host,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    truncated: r.truncated,
    error: r.error === undefined ? null : { code: r.error instanceof SshError ? r.error.code : null, message: errorText(r.error) },
    attempts: r.attempts,
    durationMs: r.timings.durationMs,
  };
}

/** The options of `rxssh run`. */
export interface RunOptions extends Common {
  readonly targets: FanOutTarget[];
  readonly command: string;
  readonly par: number;
  readonly timeoutSec: number;
  readonly inline: boolean;
  readonly print: boolean;
  readonly outdir: string | undefined;
  readonly errdir: string | undefined;
  readonly sendInput: boolean;
  readonly json: boolean;
  /** Print a summary table at the end (not with --json). */
  readonly summary?: boolean;
  /** Print each host's first output line after its status line (the demo does). */
  readonly showOutput?: boolean;
}

/** Parses `rxssh run` arguments (everything after `run`). Throws UsageError. */
export function parseRun(argv: readonly string[], io: Io): RunOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...COMMON_OPTIONS,
      hosts: { type: 'string', short: 'h', multiple: true },
      host: { type: 'string', short: 'H', multiple: true },
      par: { type: 'string', short: 'p', default: '32' },
      timeout: { type: 'string', short: 't', default: '60' },
      inline: { type: 'boolean', short: 'i', default: false },
      print: { type: 'boolean', short: 'P', default: false },
      outdir: { type: 'string', short: 'o' },
      errdir: { type: 'string', short: 'e' },
      'send-input': { type: 'boolean', short: 'I', default: false },
      json: { type: 'boolean', default: false },
      aliases: { type: 'string', short: 'A', multiple: true },
    },
  });
  const targets: FanOutTarget[] = [];
  // -A PATTERN: the ssh_config's own Host aliases are the inventory (from -F, or ~/.ssh/config).
  const sshConfig = (values['ssh-config'] as string | undefined) ?? (values.aliases ? join(homedir(), '.ssh', 'config') : undefined);
  for (const pattern of values.aliases ?? []) {
    const found = sshConfigTargets({ file: sshConfig ?? '', match: pattern });
    if (found.length === 0) throw new UsageError(`-A ${pattern}: no Host alias in ${sshConfig} matches`);
    targets.push(...found);
  }
  for (const file of values.hosts ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--hosts ${file}: ${(err as Error).message}`);
    }
    try {
      targets.push(...parseHostsFile(text));
    } catch (err) {
      throw new UsageError(`--hosts ${file}: ${(err as Error).message}`);
    }
  }
  for (const spec of values.host ?? []) for (const one of spec.split(/\s+/).filter(Boolean)) targets.push(usageSpec(one));
  if (targets.length === 0) throw new UsageError('no hosts: give -h FILE, -H [user@]host[:port] or -A PATTERN');
  const command = positionals.join(' ');
  if (!command) throw new UsageError('no command: rxssh run [options] -- COMMAND');
  const par = Number(values.par);
  const timeoutSec = Number(values.timeout);
  if (!Number.isInteger(par) || par < 1) throw new UsageError('-p/--par takes a positive integer');
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0) throw new UsageError('-t/--timeout takes seconds (0 = none)');
  return {
    ...common(values, io),
    sshConfig,
    targets,
    command,
    par,
    timeoutSec,
    inline: values.inline === true,
    print: values.print === true,
    outdir: values.outdir,
    errdir: values.errdir,
    sendInput: values['send-input'] === true,
    json: values.json === true,
  };
}

/** Parses a host spec given on the command line; a malformed one is a usage error (exit 2). */
function usageSpec(spec: string): FanOutTarget {
  try {
    return parseHostSpec(spec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Runs `rxssh run`; resolves with the exit code. */
export async function runCommand(opts: RunOptions, io: Io, env?: (t: FanOutTarget) => Readonly<Record<string, string>>): Promise<number> {
  const providers = credentials(opts, io);
  const stdin = opts.sendInput ? await io.readStdin() : undefined;
  for (const dir of [opts.outdir, opts.errdir]) if (dir) mkdirSync(dir, { recursive: true });
  const run$ = fanOut(opts.targets, (t) => hostPipeline(t, opts.command, opts, providers, stdin, env?.(t)), {
    concurrency: opts.par,
    timeout: opts.timeoutSec * 1000,
  });
  const bar = !opts.json && io.stderrIsTTY ? new (await import('./progress.js')).ProgressBar(io, opts.targets.length) : undefined;
  const statuses: HostStatus[] = [];
  const durations: number[] = [];
  const startedAt = Date.now();
  const fileNames = new Map<string, number>();
  let writeFailures = 0;
  let n = 0;
  /** Writes one host's output files; a failure is that host's (reported), never the run's. */
  const writeOutputs = (r: HostResult<unknown>): string | undefined => {
    if (!opts.outdir && !opts.errdir) return undefined;
    const base = outputName(r.target, opts.user);
    const count = fileNames.get(base) ?? 0;
    fileNames.set(base, count + 1);
    const name = count ? `${base}.${count}` : base;
    const problems: string[] = [];
    for (const [dir, data] of [[opts.outdir, r.stdout], [opts.errdir, r.stderr]] as const) {
      if (!dir) continue;
      try {
        writeFileSync(join(dir, name), data);
      } catch (err) {
        problems.push(`${join(dir, name)}: ${(err as Error).message}`);
      }
    }
    if (problems.length === 0) return undefined;
    writeFailures++;
    return problems.join('; ');
  };
  const lines = opts.print
    ? run$.lines$.subscribe((l) => (l.stream === 'stdout' ? io.stdout : io.stderr).write(`${l.host}: ${l.line}\n`))
    : undefined;
  const progress = bar ? run$.progress$.subscribe((p) => bar.update(p)) : undefined;
  try {
    await lastValueFrom(
      run$.pipe(
        tap((r) => {
          statuses.push(r.status);
          n++;
          const writeError = writeOutputs(r);
          if (opts.json) {
            io.stdout.write(`${JSON.stringify({ ...resultJson(r), ...(writeError ? { outputError: writeError } : {}) })}\n`);
            return;
          }
          const line = `[${n}] ${clock(r.timings.endedAt)} [${r.status === 'ok' ? 'SUCCESS' : 'FAILURE'}] ${terminalSafe(r.host)}${terminalSafe(describe(r))}${writeError ? ` (output not written: ${terminalSafe(writeError)})` : ''}\n`;
          if (bar) bar.log(line);
          else io.stdout.write(line);
          if (opts.inline) {
            io.stdout.write(r.stdout);
            if (r.stderr) io.stdout.write(`Stderr: ${r.stderr}`);
          } else if (opts.showOutput && r.stdout) {
            const first = `      ${terminalSafe(r.stdout.split('\n')[0] ?? '')}\n`;
            if (bar) bar.log(first);
            else io.stdout.write(first);
          }
          durations.push(r.timings.durationMs);
        }),
      ),
      { defaultValue: undefined },
    );
  } finally {
    lines?.unsubscribe();
    progress?.unsubscribe();
    bar?.stop();
  }
  const code = exitCodeOf(statuses) || (writeFailures > 0 ? EXIT.misc : EXIT.ok);
  if (opts.summary && !opts.json) io.stdout.write(summaryTable(statuses, durations, Date.now() - startedAt));
  if (opts.json) {
    const counts: Record<string, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    io.stdout.write(`${JSON.stringify({ type: 'summary', total: statuses.length, ok: counts['ok'] ?? 0, statuses: counts, exitCode: code })}\n`);
  }
  return code;
}

/** A small table: hosts per status, wall time and per-host duration percentiles. */
export function summaryTable(statuses: readonly HostStatus[], durations: readonly number[], wallMs: number): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  const sorted = [...durations].sort((a, b) => a - b);
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const rows = [...counts].map(([s, c]) => `  ${s.padEnd(18)} ${String(c).padStart(6)}`);
  return [
    '',
    '  status              hosts',
    '  ------------------ ------',
    ...rows,
    `  ${'total'.padEnd(18)} ${String(statuses.length).padStart(6)}`,
    '',
    `  wall ${(wallMs / 1000).toFixed(2)} s; per host p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms`,
    '',
  ].join('\n');
}

/** Runs `rxssh exec [user@]host[:port] -- COMMAND`; resolves with the remote exit code. */
export async function execCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { ...COMMON_OPTIONS } });
  const [spec, ...rest] = positionals;
  if (!spec || rest.length === 0) throw new UsageError('usage: rxssh exec [user@]host[:port] -- COMMAND');
  const opts = common(values, io);
  const target = usageSpec(spec);
  const providers = credentials(opts, io);
  try {
    await lastValueFrom(
      hostPipeline(target, rest.join(' '), opts, providers, undefined).pipe(
        tap((chunk) => (chunk.stream === 'stdout' ? io.stdout : io.stderr).write(chunk.data)),
      ),
      { defaultValue: undefined },
    );
    return 0;
  } catch (err) {
    if (err instanceof ExitStatusError) {
      if (err.exitCode !== null) return err.exitCode;
      const signal = err.signal ? (osConstants.signals as Record<string, number>)[`SIG${err.signal}`] : undefined;
      return signal ? 128 + signal : 255;
    }
    io.stderr.write(`rxssh: ${terminalSafe(errorText(err))}\n`);
    return 255; // like ssh: the connection, not the command, failed
  }
}
