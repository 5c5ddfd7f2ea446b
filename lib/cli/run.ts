/**
 * `rxssh run` (many hosts, pssh's flags and exit codes) and `rxssh exec` (one host, like ssh).
 * Hosts are resolved as `ssh` resolves them: through `~/.ssh/config` (or `-F`), with `-O`,
 * `-x`/`-X` and the credential flags on top.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { makeDirSync } from '../util/make-dir.js';
import { availableParallelism, homedir, userInfo } from 'node:os';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { catchError, lastValueFrom, tap, throwError, type Observable } from 'rxjs';
import { connectAlias, exec, ExitStatusError, hostMatches, parseHostSpec, SshError, SYSTEM_SSH_CONFIG, withConnection, type Connection, type ExecChunk, type FanOutTarget } from '../index.js';
import { fanOut, parseHostsFile, sshConfigTargets, type FanOut, type FanOutConfig, type HostResult, type HostStatus } from '../fleet/index.js';
import { within } from '../util/deadline.js';
import { configLine, parseUntilPositional, PSSH_ENV, shellWords, sshArgs } from './args.js';
import { explainAuthFailure, hostCredentials, Secrets, type SecretSources } from './credentials.js';
import { canConfirm, confirmUnknownHosts, unknownHostAdvice, type UnknownHost } from './host-keys.js';
import { EXIT_STDOUT_CLOSED, type Io } from './io.js';
import type { ProgressBar } from './progress.js';
import { forwardPlan, session, type SessionWork } from './session.js';
import { onQueue, QUEUE_HELP, QUEUE_OPTIONS, queueConfigOf, type QueueRunOptions } from './queue.js';
import { EXIT, UsageError } from './usage.js';

export { EXIT, UsageError };

/** The exit code for a set of results, in pssh's order of precedence. */
export function exitCodeOf(statuses: Iterable<HostStatus>): number {
  const all = new Set(statuses);
  // pssh: 3 = a process was killed or timed out (a Ctrl-C'd run's hosts are cancelled).
  if (all.has('timeout') || all.has('cancelled') || all.has('lost')) return EXIT.timeout;
  if (all.has('unreachable') || all.has('auth-failed') || all.has('host-key-rejected') || all.has('connection-error')) return EXIT.connection;
  if (all.has('failed')) return EXIT.remote;
  return EXIT.ok;
}

/** How hosts are resolved and authenticated; shared by every subcommand. */
export interface HostOptions {
  /** The ssh_config to read (`~/.ssh/config` by default, `-F` overrides; `null`: none). */
  readonly configFile: string | null;
  /** A pseudo-terminal for each command (`-x -tt`, or `-x -t` on a terminal). */
  readonly pty?: boolean;
  /** The system-wide ssh_config read after it (`/etc/ssh/ssh_config`; none with `-F`, as ssh). */
  readonly systemConfigFile: string | null;
  /** ssh_config lines that override the file (from `-O`, `-x`/`-X`, `-l` and the trust flags). */
  readonly configLines: readonly string[];
  /** The local user (`%u`, and the user when nothing else names one). */
  readonly localUser: string;
  /** The home directory (`~`, and where `.ssh/` is). */
  readonly home: string;
  /** Where secrets come from. */
  readonly secrets: SecretSources;
  /** `-v`: say more about failures on stderr. */
  readonly verbose: boolean;
}

export const HOST_OPTIONS = {
  'ssh-config': { type: 'string', short: 'F' },
  user: { type: 'string', short: 'l' },
  option: { type: 'string', short: 'O', multiple: true },
  'extra-args': { type: 'string', short: 'x', multiple: true },
  'extra-arg': { type: 'string', short: 'X', multiple: true },
  identity: { type: 'string', multiple: true },
  certificate: { type: 'string', multiple: true },
  'known-hosts': { type: 'string' },
  'accept-new': { type: 'boolean' },
  'password-env': { type: 'string' },
  'passphrase-env': { type: 'string' },
  askpass: { type: 'boolean', short: 'A' },
  verbose: { type: 'boolean', short: 'v' },
  timeout: { type: 'string', short: 't' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export type Values = Record<string, string | boolean | string[] | undefined>;

/** pssh's environment variables fill in options not given on the command line. */
export function withPsshEnv(values: Values, io: Io, known: readonly string[]): Values {
  const out: Values = { ...values };
  for (const [option, variable] of PSSH_ENV) {
    const value = io.env[variable];
    if (!value || !known.includes(option) || out[option] !== undefined) continue;
    if (option === 'option' || option === 'hosts') out[option] = [value];
    else if (['verbose', 'print', 'askpass', 'inline', 'no-progress'].includes(option)) out[option] = true;
    else out[option] = value;
  }
  return out;
}

export function hostOptions(values: Values, io: Io): HostOptions {
  const lines: string[] = [];
  for (const o of (values['option'] as string[] | undefined) ?? []) lines.push(configLine(o));
  const extra = [...((values['extra-args'] as string[] | undefined) ?? []).flatMap(shellWords), ...((values['extra-arg'] as string[] | undefined) ?? [])];
  const ssh = sshArgs(extra);
  lines.push(...ssh.lines);
  const user = values['user'] as string | undefined;
  if (user) lines.push(`User ${user}`);
  const knownHosts = values['known-hosts'] as string | undefined;
  if (knownHosts) lines.push(`UserKnownHostsFile ${knownHosts}`);
  if (values['accept-new'] === true) lines.push('StrictHostKeyChecking accept-new');
  const home = io.env['HOME'] || homedir();
  const given = (values['ssh-config'] as string | undefined) ?? ssh.configFile;
  const configFile = given ?? join(home, '.ssh', 'config');
  return {
    configFile,
    systemConfigFile: given === undefined ? SYSTEM_SSH_CONFIG : null,
    pty: ssh.tty >= 2 || (ssh.tty === 1 && io.stdinIsTTY),
    configLines: lines,
    localUser: io.env['USER'] ?? userInfo().username,
    home,
    secrets: {
      identities: (values['identity'] as string[] | undefined) ?? [],
      passwordEnv: values['password-env'] as string | undefined,
      passphraseEnv: values['passphrase-env'] as string | undefined,
      askPassword: values['askpass'] === true,
      certificates: (values['certificate'] as string[] | undefined) ?? [],
    },
    verbose: values['verbose'] === true,
  };
}

function timeoutOf(values: Values): number {
  const raw = values['timeout'] as string | undefined;
  const seconds = raw === undefined ? 0 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError('-t/--timeout takes seconds (0 = none, the default)');
  return seconds;
}

/**
 * A host's connection, as `ssh host` makes it: resolved through the ssh_config (HostName, Port,
 * User, IdentityFile, ProxyJump, StrictHostKeyChecking, UserKnownHostsFile, …), a user or port
 * in the host spec overriding the config's; credentials from {@link hostCredentials}. An
 * authentication failure with nothing offered says what was looked for.
 */
export function hostConnection(target: FanOutTarget, o: HostOptions, secrets: Secrets): Observable<Connection> {
  let lookedFor = '';
  return connectAlias(target.alias ?? target.host, {
    file: o.configFile,
    systemFile: o.systemConfigFile,
    extra: o.configLines,
    localUser: o.localUser,
    home: o.home,
    ...(target.username ? { user: target.username } : {}),
    ...(target.port ? { port: target.port } : {}),
    credentialsFor: (host) => {
      const found = hostCredentials(host, secrets);
      lookedFor = found.lookedFor;
      return found.providers;
    },
  }).pipe(catchError((err: unknown) => throwError(() => explainAuthFailure(err, lookedFor))));
}

/** One host's pipeline: its connection, then the command (output as exec chunks). */
export function hostPipeline(
  target: FanOutTarget,
  command: string,
  o: HostOptions,
  secrets: Secrets,
  stdin: Buffer | NodeJS.ReadableStream | undefined,
  env?: Readonly<Record<string, string>>,
  pty?: boolean,
): Observable<ExecChunk> {
  const input = stdin === undefined ? {} : Buffer.isBuffer(stdin) ? { stdin: [stdin] } : { stdin: stdin as Readable };
  return hostConnection(target, o, secrets).pipe(exec(command, { ...input, ...(env ? { env } : {}), ...(pty ? { pty: true } : {}) }));
}

function describe(r: HostResult<unknown>): string {
  switch (r.status) {
    case 'ok':
      return '';
    case 'failed':
      return r.signal ? ` Killed by signal ${r.signal}` : r.exitCode !== null ? ` Exited with error code ${r.exitCode}` : ` ${errorText(r.error)}`;
    case 'timeout':
      return ' Timed out';
    case 'cancelled':
      return ' Interrupted';
    case 'lost':
      return ` Lost: ${errorText(r.error)}`;
    default:
      return ` ${errorText(r.error)}`;
  }
}

function errorText(error: unknown): string {
  if (error instanceof ExitStatusError) return `Exited with error code ${error.exitCode}`;
  return error instanceof Error ? error.message + unknownHostAdvice(error) : String(error);
}

function causes(error: unknown): string {
  const out: string[] = [];
  for (let e = (error as { cause?: unknown } | undefined)?.cause; e !== undefined && out.length < 5; e = (e as { cause?: unknown }).cause) {
    out.push(e instanceof Error ? e.message : String(e));
  }
  return out.length ? ` (cause: ${out.join(' <- ')})` : '';
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
export interface RunOptions extends HostOptions {
  readonly targets: FanOutTarget[];
  readonly command: string;
  readonly par: number;
  /** Never draw the progress bar (`--no-progress`, `RXSSH_NO_PROGRESS`). */
  readonly noProgress?: boolean;
  readonly timeoutSec: number;
  readonly inline: boolean;
  readonly inlineStdout?: boolean;
  readonly print: boolean;
  readonly outdir: string | undefined;
  readonly errdir: string | undefined;
  readonly sendInput: boolean;
  readonly json: boolean;
  /** `--workers N`: run the hosts on N worker threads (undefined: the main thread). */
  readonly workers?: number;
  /** `--queue URL`: submit the hosts to a queue that `rxssh worker` processes take them from. */
  readonly queue?: QueueRunOptions;
  /** `-p` was given (a queued run submits every host at once without it). */
  readonly parGiven?: boolean;
  /** Print a summary table at the end (not with --json). */
  readonly summary?: boolean;
  /** Print each host's first output line after its status line (the demo does). */
  readonly showOutput?: boolean;
}

export const RUN_HELP: string = `usage: rxssh run [options] COMMAND...       (options end at the first word of COMMAND; -- works too)

Runs COMMAND on many hosts, with pssh's flags, output and exit codes. Hosts are resolved like
ssh does: through ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump,
StrictHostKeyChecking, UserKnownHostsFile, …), or the file given with -F.

hosts:
  -h, --hosts FILE        hosts file, one [user@]host[:port] per line (repeatable; PSSH_HOSTS)
  -H, --host SPEC         [user@]host[:port] (repeatable; space-separated lists too)
      --aliases PATTERN   every Host alias of the ssh_config matching PATTERN, e.g. 'web*' or
                          'web*,!web-old' (repeatable)
  -g, --host-glob GLOB    keep only hosts whose name matches the shell-style GLOB
options:
  -l, --user USER         default user (PSSH_USER)
  -p, --par N             hosts at once (default 32; PSSH_PAR)
  --workers N|auto        run the hosts on N worker threads (auto: one per core); passphrases
                          then come from --passphrase-env or SSH_ASKPASS
  -t, --timeout SEC       per-host timeout, the remote command is stopped (default 0 = none;
                          PSSH_TIMEOUT); connection set-up keeps its own deadlines
  -i, --inline            print each host's output and error when it finishes (PSSH_INLINE)
      --inline-stdout     print each host's output when it finishes
  -P, --print             print output lines as they come, prefixed "host: " (PSSH_PRINT)
  -o, --outdir DIR        each host's stdout to DIR/host (PSSH_OUTDIR); duplicates get .1, .2
  -e, --errdir DIR        each host's stderr to DIR/host (PSSH_ERRDIR)
  -I, --send-input        send this program's stdin to every host
      --no-progress       no progress bar (also RXSSH_NO_PROGRESS=1); it is only drawn when
                          stdout and stderr are the same terminal
  -O, --option OPTION     ssh_config option, e.g. -O StrictHostKeyChecking=accept-new (repeatable;
                          PSSH_OPTIONS)
  -x, --extra-args ARGS   ssh arguments (-i -p -l -o -J -A -F), split like a shell would
  -X, --extra-arg ARG     one ssh argument (repeatable)
  -F, --ssh-config FILE   the ssh_config to read instead of ~/.ssh/config
  -A, --askpass           ask for a password once (no echo) (PSSH_ASKPASS)
  -v, --verbose           say more about failures (PSSH_VERBOSE)
      --identity FILE     a private key, tried before the config's (repeatable); its
                          FILE-cert.pub certificate is used too, as ssh does
      --certificate FILE  an OpenSSH certificate for one of the keys (repeatable)
      --known-hosts FILE  known_hosts file instead of the config's
      --accept-new        trust and record unknown hosts (StrictHostKeyChecking accept-new)
      --password-env VAR  a password from an environment variable
      --passphrase-env VAR  the passphrase of encrypted keys (otherwise asked on the terminal,
                          or through SSH_ASKPASS)
      --json              NDJSON only: one object per result (and per line with -P), then a
                          summary
      --help              this help

many machines: --queue URL submits one job per host to a BullMQ queue in Redis; 'rxssh worker'
processes take them and connect with their own credentials and ssh_config (so the credential,
ssh_config and -O/-x flags are theirs, not the run's). Output, --json and exit codes are the
same. A host whose worker died mid-command ends 'lost' (exit 3) and is not run again.
      --run-id ID         names the jobs ID/host: submitting the same ID again joins the jobs
                          already there instead of running the commands again (default: random)
      --retry-lost        run a lost host once more on another worker (idempotent commands only)
${QUEUE_HELP}
Ctrl-C stops the run: running commands are signalled, the summary of what finished is printed
(exit 3); a second Ctrl-C exits at once.

exit codes: 0 all ok, 1 misc error, 2 usage error, 3 a host timed out or was interrupted,
            4 a host had a connection or auth error, 5 a remote command failed
`;

/** Parses `rxssh run` arguments (everything after `run`). Throws UsageError. */
export function parseRun(argv: readonly string[], io: Io): RunOptions & { help?: boolean } {
  const parsed = parseUntilPositional(argv, { ...FLEET_OPTIONS, ...QUEUE_OPTIONS, 'run-id': { type: 'string' }, 'retry-lost': { type: 'boolean' } } as const);
  if (parsed.values.help) return { help: true } as RunOptions & { help: boolean };
  const values = withPsshEnv(parsed.values as Values, io, FLEET_ENV);
  const o = hostOptions(values, io);
  const command = parsed.rest.join(' ');
  if (!command) throw new UsageError('no command: rxssh run [options] COMMAND...');
  const queue = queueRunOptions(values, io);
  return { ...o, ...fleetOptions(values, o), command, ...(queue ? { queue, parGiven: values['par'] !== undefined } : {}) };
}

/** Flags that belong to the workers in a queued run: they connect with their own credentials and ssh_config. */
const WORKERS_OWN = ['ssh-config', 'option', 'extra-args', 'extra-arg', 'identity', 'certificate', 'known-hosts', 'accept-new', 'password-env', 'passphrase-env', 'askpass', 'aliases'];

function queueRunOptions(values: Values, io: Io): QueueRunOptions | undefined {
  const queueOnly = ['queue-name', 'queue-prefix', 'redis-user', 'redis-password-env', 'redis-password-file', 'redis-ca', 'redis-timeout', 'queue-secret-file', 'queue-secret-env', 'run-id', 'retry-lost'].filter((k) => values[k] !== undefined);
  if (values['queue'] === undefined) {
    if (queueOnly.length) throw new UsageError(`--${queueOnly[0]} needs --queue`);
    return undefined;
  }
  if (values['workers'] !== undefined) throw new UsageError('--queue and --workers: give one (each rxssh worker uses its own threads)');
  const theirs = WORKERS_OWN.find((k) => values[k] !== undefined);
  if (theirs) throw new UsageError(`--${theirs} does not apply with --queue: each rxssh worker connects with its own credentials and ssh_config`);
  const runId = values['run-id'] as string | undefined;
  if (runId !== undefined && (runId === '' || runId.includes(':') || runId.includes('/'))) throw new UsageError('--run-id: not empty, no ":" or "/"');
  const user = values['user'] as string | undefined;
  return { config: queueConfigOf(values, io), ...(runId ? { runId } : {}), ...(user ? { user } : {}), retryLost: values['retry-lost'] === true };
}

/** The options `run`, `put` and `get` share: pssh's hosts, parallelism, timeout and output flags. */
export const FLEET_OPTIONS = {
  ...HOST_OPTIONS,
  hosts: { type: 'string', short: 'h', multiple: true },
  host: { type: 'string', short: 'H', multiple: true },
  par: { type: 'string', short: 'p' },
  inline: { type: 'boolean', short: 'i' },
  'inline-stdout': { type: 'boolean' },
  print: { type: 'boolean', short: 'P' },
  outdir: { type: 'string', short: 'o' },
  errdir: { type: 'string', short: 'e' },
  'send-input': { type: 'boolean', short: 'I' },
  'no-progress': { type: 'boolean' },
  aliases: { type: 'string', multiple: true },
  'host-glob': { type: 'string', short: 'g' },
  workers: { type: 'string' },
} as const;

/** pssh's environment variables a fleet command reads. */
export const FLEET_ENV = ['user', 'par', 'outdir', 'errdir', 'timeout', 'verbose', 'print', 'askpass', 'inline', 'option', 'hosts', 'no-progress'];

/** Everything of RunOptions but the command, from parsed fleet options. */
export function fleetOptions(values: Values, o: HostOptions): Omit<RunOptions, keyof HostOptions | 'command'> {
  const targets: FanOutTarget[] = [];
  for (const pattern of (values['aliases'] as string[] | undefined) ?? []) {
    const found = o.configFile === null ? [] : sshConfigTargets({ file: o.configFile, systemFile: o.systemConfigFile, match: pattern, home: o.home, localUser: o.localUser, extra: o.configLines });
    if (found.length === 0) throw new UsageError(`--aliases ${pattern}: no Host alias in ${o.configFile} matches`);
    targets.push(...found);
  }
  for (const file of (values['hosts'] as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      throw new UsageError(`--hosts ${file}: ${(err as Error).message}`);
    }
    try {
      targets.push(...parseHostsFile(text));
    } catch (err) {
      throw new UsageError(`--hosts ${file}: ${(err as Error).message}`);
    }
  }
  for (const spec of (values['host'] as string[] | undefined) ?? []) for (const one of spec.split(/\s+/).filter(Boolean)) targets.push(usageSpec(one));
  const glob = values['host-glob'] as string | undefined;
  const selected = glob ? targets.filter((t) => hostMatches(glob, t.alias ?? t.host)) : targets;
  if (selected.length === 0) throw new UsageError(glob && targets.length ? `-g ${glob}: no host matches` : 'no hosts: give -h FILE, -H [user@]host[:port] or --aliases PATTERN');
  const par = Number(values['par'] ?? '32');
  if (!Number.isInteger(par) || par < 1) throw new UsageError('-p/--par takes a positive integer');
  const workersText = values['workers'] as string | undefined;
  const workers = workersText === undefined ? undefined : workersText === 'auto' ? availableParallelism() : Number(workersText);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError('--workers takes a positive integer or auto');
  return {
    targets: selected,
    par,
    timeoutSec: timeoutOf(values),
    inline: values['inline'] === true,
    inlineStdout: values['inline-stdout'] === true,
    print: values['print'] === true,
    outdir: values['outdir'] as string | undefined,
    errdir: values['errdir'] as string | undefined,
    sendInput: values['send-input'] === true,
    // --no-progress, or RXSSH_NO_PROGRESS in the environment (as pssh's PSSH_* defaults).
    noProgress: values['no-progress'] === true,
    json: values['json'] === true,
    ...(workers !== undefined ? { workers } : {}),
  };
}

function readText(file: string): string {
  return readFileSync(file, 'utf8'); // before anything runs
}

/** Parses a host spec given on the command line; a malformed one is a usage error (exit 2). */
function usageSpec(spec: string): FanOutTarget {
  try {
    return parseHostSpec(spec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** What `rxssh run --workers` hands each worker thread (structured-cloned). */
export interface CliWorkerArgs {
  readonly command: string;
  readonly options: HostOptions;
  /** The CLI's environment (the agent socket, `--password-env`'s variable, SSH_ASKPASS…). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `-I`: stdin, read once, for every host. */
  readonly stdin?: Uint8Array;
  /** `-A`: the password asked once on the main thread. */
  readonly password?: string;
}

/**
 * `--workers N`: the same hosts and pipeline on worker threads (`lib/cli/worker-pipeline`).
 * What a worker cannot ask for itself is settled here first: `-A`'s password is asked once on
 * this thread and handed over in memory; passphrases come from `--passphrase-env` or SSH_ASKPASS.
 */
async function inWorkers(opts: RunOptions, io: Io, secrets: Secrets, stdin: Buffer | undefined, config: FanOutConfig): Promise<FanOut<ExecChunk>> {
  const password = opts.secrets.askPassword ? await secrets.password() : undefined;
  const here = import.meta.url;
  const module = new URL(here.endsWith('.ts') ? './worker-pipeline.ts' : './worker-pipeline.js', here);
  const args: CliWorkerArgs = {
    command: opts.command,
    options: { configFile: opts.configFile, systemConfigFile: opts.systemConfigFile, configLines: [...opts.configLines], localUser: opts.localUser, home: opts.home, secrets: opts.secrets, verbose: opts.verbose, ...(opts.pty ? { pty: true } : {}) },
    env: { ...io.env },
    ...(stdin ? { stdin } : {}),
    ...(password !== undefined ? { password } : {}),
  };
  const { fanOutInWorkers } = await import('../fleet/index.js');
  if (opts.verbose && !opts.json) io.stderr.write(`rxssh: running ${opts.targets.length} host(s) on ${opts.workers ?? 1} worker thread(s)\n`);
  return fanOutInWorkers<ExecChunk>(opts.targets, { module, export: 'host', args }, { ...config, threads: opts.workers ?? 1 });
}

/** Runs `rxssh run`; resolves with the exit code. */
export async function runCommand(
  opts: RunOptions,
  io: Io,
  env?: (t: FanOutTarget) => Readonly<Record<string, string>>,
  pipeline?: (t: FanOutTarget, secrets: Secrets) => Observable<unknown>,
): Promise<number> {
  const screen: { bar?: ProgressBar | undefined } = {};
  // A prompt (-A, a passphrase) takes the bar off the terminal while it asks.
  const promptIo: Io = Object.assign(Object.create(io) as Io, {
    prompt: (text: string): Promise<string> => {
      screen.bar?.suspend();
      return io.prompt(text).finally(() => screen.bar?.resume());
    },
  });
  const secrets = new Secrets(opts.secrets, promptIo);
  const stdin = opts.sendInput ? await io.readStdin() : undefined;
  for (const dir of [opts.outdir, opts.errdir]) {
    if (!dir) continue;
    try {
      makeDirSync(dir);
    } catch (err) {
      throw new UsageError(`${dir === opts.outdir ? '-o' : '-e'} ${dir}: cannot make the directory (${(err as Error).message})`);
    }
  }
  const interrupt = new AbortController();
  let interrupts = 0;
  const offInterrupt = io.onInterrupt(() => {
    if (++interrupts > 1) io.exit(130);
    const said = '\nrxssh: interrupted: stopping the running commands (Ctrl-C again to exit at once)\n';
    if (opts.json) return interrupt.abort();
    if (screen.bar) screen.bar.write('stderr', said);
    else io.stderr.write(said);
    interrupt.abort();
  });
  // The reader of stdout went away (`| head`): stop quietly, as ssh does when its output pipe closes.
  let stdoutClosed = false;
  const offClosed = io.onStdoutClosed?.(() => {
    stdoutClosed = true;
    interrupt.abort();
  });
  const config = { concurrency: opts.par, timeout: opts.timeoutSec * 1000, signal: interrupt.signal };
  if (opts.workers !== undefined && (pipeline || env) && !opts.json) io.stderr.write('rxssh: --workers applies to `rxssh run` only; this command runs on the main thread\n');
  if (opts.queue && (pipeline || env)) throw new UsageError('--queue applies to `rxssh run` only');
  const run$ = opts.queue
    ? await onQueue(
        { targets: opts.targets, command: opts.command, queue: opts.queue, verbose: opts.verbose, json: opts.json },
        io,
        stdin,
        opts.parGiven ? config : { timeout: config.timeout, signal: config.signal },
      )
    : opts.workers !== undefined && !pipeline && !env
      ? await inWorkers(opts, io, secrets, stdin, config)
      : fanOut(opts.targets, (t) => (pipeline ? pipeline(t, secrets) : hostPipeline(t, opts.command, opts, secrets, stdin, env?.(t), opts.pty)), config);
  // The bar only where it cannot garble anything: stdout and stderr the same terminal.
  const bar = !opts.json && !opts.noProgress && io.sameTerminal === true ? new (await import('./progress.js')).ProgressBar(io, opts.targets.length) : undefined;
  screen.bar = bar;
  /** Everything for the terminal goes through here while the bar is up. */
  const write = (stream: 'stdout' | 'stderr', text: string | Uint8Array): void => {
    if (bar) bar.write(stream, text);
    else io[stream].write(text);
  };
  const statuses: HostStatus[] = [];
  const durations: number[] = [];
  const startedAt = Date.now();
  const fileNames = new Map<string, number>();
  let writeFailures = 0;
  let n = 0;
  /** Writes one host's output files; a failure is that host's (reported), never the run's. */
  const writeOutputs = (r: HostResult<unknown>): string | undefined => {
    if (!opts.outdir && !opts.errdir) return undefined;
    const base = outputName(r.target, opts.localUser);
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
  /** Prints one host's result (status line, output, files) and counts it. */
  const report = (r: HostResult<unknown>): void => {
    statuses.push(r.status);
    n++;
    const writeError = writeOutputs(r);
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({ ...resultJson(r), ...(writeError ? { outputError: writeError } : {}) })}\n`);
      return;
    }
    const line = `[${n}] ${clock(r.timings.endedAt)} [${r.status === 'ok' ? 'SUCCESS' : 'FAILURE'}] ${terminalSafe(r.host)}${terminalSafe(describe(r))}${writeError ? ` (output not written: ${terminalSafe(writeError)})` : ''}\n`;
    write('stdout', line);
    if (opts.verbose && r.error !== undefined && !(r.error instanceof ExitStatusError)) write('stderr', `rxssh: ${terminalSafe(r.host)}: ${terminalSafe(errorText(r.error) + causes(r.error))}\n`);
    if (opts.inline || opts.inlineStdout) {
      write('stdout', r.stdout);
      if (opts.inline && r.stderr) write('stdout', `Stderr: ${r.stderr}`);
    } else if (opts.showOutput && r.stdout) {
      write('stdout', `      ${terminalSafe(r.stdout.split('\n')[0] ?? '')}\n`);
    }
    durations.push(r.timings.durationMs);
  };
  /** Follows one fan-out: its lines (-P), progress and results. */
  const follow = async (fan: FanOut<unknown>, onResult: (r: HostResult<unknown>) => void): Promise<void> => {
    const lines = opts.print
      ? fan.lines$.subscribe((l) =>
          opts.json
            ? io.stdout.write(`${JSON.stringify({ type: 'line', host: l.host, stream: l.stream, line: l.line, truncated: l.truncated })}\n`)
            : write(l.stream, `${l.host}: ${l.line}\n`),
        )
      : undefined;
    const progress = bar ? fan.progress$.subscribe((p) => bar.update(p)) : undefined;
    try {
      await lastValueFrom(fan.pipe(tap(onResult)), { defaultValue: undefined });
    } finally {
      lines?.unsubscribe();
      progress?.unsubscribe();
    }
  };
  // On a terminal, hosts whose key is unknown are held back, asked about once as a list (as
  // ssh asks), and those confirmed run again: their commands never ran (the key is checked
  // before any credential is sent).
  const interactive = io.stdinIsTTY && !opts.json && !opts.queue && opts.workers === undefined;
  const held: HostResult<unknown>[] = [];
  try {
    await follow(run$, (r) => (interactive && canConfirm(r.error) ? held.push(r) : report(r)));
    if (held.length > 0 && !interrupt.signal.aborted) {
      const asked = held.map((r) => ({ result: r, unknown: { host: (r.error as SshError).host, port: (r.error as SshError).port, error: r.error } as UnknownHost }));
      const confirmed = new Set(await confirmUnknownHosts(asked.map((a) => a.unknown), promptIo));
      for (const a of asked) if (!confirmed.has(a.unknown)) report(a.result);
      const again = asked.filter((a) => confirmed.has(a.unknown)).map((a) => a.result.target);
      if (again.length > 0) {
        await follow(fanOut(again, (t) => (pipeline ? pipeline(t, secrets) : hostPipeline(t, opts.command, opts, secrets, stdin, env?.(t), opts.pty)), config), report);
      }
    } else {
      for (const r of held) report(r);
    }
  } finally {
    offInterrupt();
    offClosed?.();
    bar?.stop();
  }
  if (stdoutClosed) return EXIT_STDOUT_CLOSED;
  const code = exitCodeOf(statuses) || (writeFailures > 0 ? EXIT.misc : EXIT.ok);
  if (opts.summary && !opts.json) io.stdout.write(summaryTable(statuses, durations, Date.now() - startedAt));
  if (opts.json) {
    const counts: Record<string, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    io.stdout.write(`${JSON.stringify({ type: 'summary', total: statuses.length, ok: counts['ok'] ?? 0, statuses: counts, exitCode: code })}\n`);
  } else if (interrupt.signal.aborted && !opts.summary) {
    io.stdout.write(summaryTable(statuses, durations, Date.now() - startedAt));
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

export const EXEC_HELP = `usage: rxssh exec [options] [user@]host[:port] [COMMAND...]

Runs COMMAND on one host, like ssh: output on stdout and stderr, this program's stdin goes to the
command (-n: none), the exit code is the command's (255 when the connection failed, 128+N when
a signal N ended it). Options end at the host, so no -- is needed. Hosts are resolved through
~/.ssh/config (or -F).

options (ssh's letters mean what they mean to ssh):
  -p PORT                 port, unless given with the host
  -l, --user USER         user, unless given with the host
  -i FILE                 a private key, tried before the config's (repeatable)
  -o, -O OPTION           ssh_config option, e.g. -o StrictHostKeyChecking=accept-new
                          (repeatable; harmless ones are accepted, unsupported ones refused)
  -J HOPS                 jump hosts (ProxyJump)
  -A                      forward the agent (ForwardAgent yes)
  -n                      no stdin (like ssh -n)
  -L [BIND:]PORT:HOST:HOSTPORT  forward a local port to HOST:HOSTPORT as the server sees it
  -R [BIND:]PORT:HOST:HOSTPORT  forward a port on the server to HOST:HOSTPORT from here
  -D [BIND:]PORT          a SOCKS5 proxy on a local port, through the server
  -N                      no command: forwards only, until interrupted
  (no COMMAND: an interactive shell, on a pseudo-terminal when this is a terminal)
  -t                      a pseudo-terminal when stdin is one; -tt: always
  -q                      quiet: no warnings
  -C                      accepted (compression changes nothing here)
  -F, --ssh-config FILE   the ssh_config to read instead of ~/.ssh/config
  -x, --extra-args ARGS   ssh arguments (-i -p -l -o -J -A -F)
  -X, --extra-arg ARG     one ssh argument (repeatable)
  -v, --verbose           say more about failures
      --timeout SEC       stop the command after SEC seconds (default 0 = none)
      --askpass           ask for a password (no echo)
      --identity FILE     a private key, tried before the config's (repeatable; FILE-cert.pub too)
      --certificate FILE  an OpenSSH certificate for one of the keys (repeatable)
      --known-hosts FILE  known_hosts file instead of the config's
      --accept-new        trust and record an unknown host
      --password-env VAR  a password from an environment variable
      --passphrase-env VAR  the passphrase of encrypted keys
      --help              this help
`;

/** Runs `rxssh exec [user@]host[:port] COMMAND...`; resolves with the remote exit code. */
/**
 * `rxssh exec`'s options: run's host options with ssh's own letters where they mean what they
 * mean to ssh (`-p -i -o -l -J -A -n -q -v -C -t`); the timeout and asking for a password are
 * long options here (`--timeout`, `--askpass`), as `-t` and `-A` are ssh's.
 */
const EXEC_OPTIONS = {
  'ssh-config': HOST_OPTIONS['ssh-config'],
  user: HOST_OPTIONS.user,
  option: { type: 'string', short: 'O', multiple: true },
  'extra-args': HOST_OPTIONS['extra-args'],
  'extra-arg': HOST_OPTIONS['extra-arg'],
  identity: HOST_OPTIONS.identity,
  certificate: HOST_OPTIONS.certificate,
  'known-hosts': HOST_OPTIONS['known-hosts'],
  'accept-new': HOST_OPTIONS['accept-new'],
  'password-env': HOST_OPTIONS['password-env'],
  'passphrase-env': HOST_OPTIONS['passphrase-env'],
  verbose: HOST_OPTIONS.verbose,
  help: HOST_OPTIONS.help,
  timeout: { type: 'string' },
  askpass: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  'ssh-identity': { type: 'string', short: 'i', multiple: true },
  'ssh-option': { type: 'string', short: 'o', multiple: true },
  jump: { type: 'string', short: 'J' },
  'forward-agent': { type: 'boolean', short: 'A' },
  quiet: { type: 'boolean', short: 'q' },
  compress: { type: 'boolean', short: 'C' },
  tty: { type: 'boolean', short: 't', multiple: true },
  'no-stdin': { type: 'boolean', short: 'n' },
  'local-forward': { type: 'string', short: 'L', multiple: true },
  'remote-forward': { type: 'string', short: 'R', multiple: true },
  'dynamic-forward': { type: 'string', short: 'D', multiple: true },
  'no-command': { type: 'boolean', short: 'N' },
} as const;

export async function execCommand(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseUntilPositional(argv, EXEC_OPTIONS);
  const given = parsed.values as Values;
  const rest = parsed.rest;
  if (given['help']) {
    io.stdout.write(EXEC_HELP);
    return EXIT.ok;
  }
  const [spec, ...after] = rest;
  const words = after[0] === '--' ? after.slice(1) : after; // `rxssh exec host -- cmd` as ssh takes it
  if (!spec) throw new UsageError('usage: rxssh exec [options] [user@]host[:port] [COMMAND...]');
  const strings = (key: string): string[] => (given[key] as string[] | undefined) ?? [];
  const forwards = forwardPlan(strings('local-forward'), strings('remote-forward'), strings('dynamic-forward'));
  const noCommand = given['no-command'] === true;
  if (noCommand && words.length > 0) throw new UsageError('-N runs no command: give forwards only');
  // ssh's letters, in the terms of run's host options (config lines, identities).
  const values: Values = { ...given };
  const sshLines = [...((given['ssh-option'] as string[] | undefined) ?? [])];
  const port = given['port'] as string | undefined;
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new UsageError(`-p ${port}: not a port`);
    sshLines.push(`Port=${port}`);
  }
  if (given['jump'] !== undefined) sshLines.push(`ProxyJump=${given['jump'] as string}`);
  if (given['forward-agent'] === true) sshLines.push('ForwardAgent=yes');
  values['option'] = [...((given['option'] as string[] | undefined) ?? []), ...sshLines];
  values['identity'] = [...((given['identity'] as string[] | undefined) ?? []), ...((given['ssh-identity'] as string[] | undefined) ?? [])];
  const ttys = (given['tty'] as boolean[] | undefined)?.length ?? 0;
  // -t asks for a terminal when this one is a terminal, -tt always (as ssh).
  const pty = ttys >= 2 || (ttys === 1 && io.stdinIsTTY);
  if (ttys === 1 && !io.stdinIsTTY && given['quiet'] !== true) io.stderr.write('Pseudo-terminal will not be allocated because stdin is not a terminal.\n');
  const o = hostOptions(values, io);
  const target = usageSpec(spec);
  // -q: no warnings of rxssh's own (skipped keys); the command's stderr still goes to stderr.
  const quietIo: Io = given['quiet'] === true ? { ...io, stderr: new Writable({ write: (_chunk, _encoding, done) => done() }) } : io;
  const secrets = new Secrets(o.secrets, quietIo);
  const timeoutSec = timeoutOf(values);
  const stdin = values['no-stdin'] === true ? undefined : io.stdin;
  const abort = new AbortController();
  const offInterrupt = io.onInterrupt(() => abort.abort());
  let stdoutClosed = false;
  const offClosed = io.onStdoutClosed?.(() => {
    stdoutClosed = true;
    abort.abort(); // stops the remote command, as ssh's SIGPIPE ends its session
  });
  try {
    const withForwards = forwards.local.length + forwards.remote.length + forwards.dynamic.length > 0;
    let command$: Observable<ExecChunk>;
    if (words.length > 0 && !withForwards) command$ = hostPipeline(target, words.join(' '), o, secrets, stdin, undefined, pty);
    else {
      // A shell when no command is given (a pseudo-terminal when this is a terminal, as ssh),
      // nothing with -N; forwards beside either.
      if (words.length === 0 && !noCommand && !io.terminal && given['quiet'] !== true) io.stderr.write('Pseudo-terminal will not be allocated because stdin is not a terminal.\n');
      const work: SessionWork =
        words.length > 0
          ? { kind: 'command', run: (c) => c.exec(words.join(' '), { ...(stdin ? { stdin: stdin as Readable } : { stdin: [] }), ...(pty ? { pty: true } : {}) }) }
          : noCommand
            ? { kind: 'none' }
            : { kind: 'shell', stdin: stdin as Readable | undefined };
      command$ = hostConnection(target, o, secrets).pipe(withConnection((c) => session(c, forwards, work, io)));
    }
    if (timeoutSec > 0) command$ = command$.pipe(within(timeoutSec * 1000, { host: target.host, port: target.port ?? 22 }));
    const attempt = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const sub = command$.subscribe({
          next: (chunk) => (chunk.stream === 'stdout' ? io.stdout : io.stderr).write(chunk.data),
          error: reject,
          complete: resolve,
        });
        abort.signal.addEventListener('abort', () => {
          sub.unsubscribe(); // stops the remote command (a signal), like ssh's Ctrl-C without a pty
          reject(new Error('interrupted'));
        });
      });
    try {
      await attempt();
    } catch (err) {
      // An unknown host on a terminal: ask as ssh does; a confirmed key is recorded and the
      // connection made again (nothing had been sent: the key is checked before any credential).
      if (!io.stdinIsTTY || !canConfirm(err)) throw err;
      const confirmed = await confirmUnknownHosts([{ host: err.host, port: err.port, error: err }], io);
      if (confirmed.length === 0) throw err;
      await attempt();
    }
    return 0;
  } catch (err) {
    if (err instanceof ExitStatusError) {
      if (err.exitCode !== null) return err.exitCode;
      const signal = err.signal ? (osConstants.signals as Record<string, number>)[`SIG${err.signal}`] : undefined;
      return signal ? 128 + signal : 255;
    }
    if (stdoutClosed) return EXIT_STDOUT_CLOSED;
    if (abort.signal.aborted) return 130;
    io.stderr.write(`rxssh: ${terminalSafe(errorText(err) + (o.verbose ? causes(err) : ''))}\n`);
    return 255; // like ssh: the connection, not the command, failed
  } finally {
    offInterrupt();
    offClosed?.();
    if (stdin) io.releaseStdin();
  }
}
