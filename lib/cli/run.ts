/**
 * `rxssh run`: many hosts, pssh's flags and exit codes; on worker threads (`--workers`) or on a
 * queue (`--queue`). Hosts are resolved as `ssh` resolves them (see host.ts).
 */
import { constants } from 'node:buffer';
import { makeDirSync } from '../util/make-dir.js';
import { shippedFile } from '../util/package-root.js';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import { OutputFlow, type ExecChunk, type FanOutTarget, type SshError } from '../index.js';
import { fanOut, type FanOut, type HostResult, type WorkerFanOutConfig } from '../fleet/index.js';
import { parseUntilPositional } from './args.js';
import { Secrets } from './credentials.js';
import { canConfirm, confirmUnknownHosts, learnFileOf, type UnknownHost } from './host-keys.js';
import { EXIT_STDOUT_CLOSED, OUTPUT_QUEUED, type Io } from './io.js';
import { WritableBackpressure } from '../util/writable-backpressure.js';
import type { ProgressBar } from './progress.js';
import type { CliWorkerArgs } from './worker-pipeline.js';
import { RunReporter } from './run-reporter.js';
import { onQueue, QUEUE_HELP, QUEUE_OPTIONS, queueConfigOf, type QueueRunOptions } from './queue.js';
import { EXIT, UsageError } from './usage.js';
import { hostOptions, hostPipeline, resolveHost, withPsshEnv, type HostOptions, type Values } from './host.js';
import { FLEET_ENV, FLEET_OPTIONS, fleetOptions, type FleetOptions } from './fleet-options.js';


/** A host's output kept for -o, -e, -i and --fold: all of it, up to what one string holds (~512 MiB; past it the cut is said). */
const KEEP_WHOLE_OUTPUT = constants.MAX_STRING_LENGTH;
export { EXIT, UsageError };

/** The options of `rxssh run`. */
export interface RunOptions extends HostOptions, FleetOptions {
  readonly command: string;
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
  -H, --host SPEC         [user@]host[:port] (repeatable; space- or comma-separated lists too)
                          host ranges everywhere: web[01-20].example, 10.0.0.[1-50], db[1,3,5-7]
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
      --report FILE       write the run as one self-contained HTML page (status grid, timeline,
                          durations, folded outputs; 'rxssh report RUN.ndjson' makes one from --json)
      --fold              at the end, hosts with the same output and status printed once under
                          their folded names, as clubak -b: web[01-40,45] (41); --json stays per host
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
      --match-exec        run the ssh_config's Match exec commands, as ssh does (off: such a
                          block is refused)
become (run the command as another user):
      --sudo              run it with sudo (no terminal needed; -S with a random prompt)
      --sudo-user USER    as USER (default root); implies --sudo
      --become-method M   sudo (default), su or doas (those two on a pseudo-terminal)
      --become-password-env VAR   the password from a variable (with --queue: the workers')
      --ask-become-pass   ask for it once for the whole run (no echo)
                          without either, a method that asks for a password fails the host
                          at once (BecomeError); the password is never in argv, env or output
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

rolling out:
      --batch N|P%        hosts per wave; the next wave starts when the previous one is done
      --canary N          the first N hosts as a wave of their own, then the rest
      --max-fail N|P%     once more hosts than that failed, start no more: the rest are
                          SKIPPED (exit code: the failures')
      --fail-fast         --max-fail 0: the first failure stops the run from starting hosts
      --rate N[/s]        at most N connection starts per second (MaxStartups, bastions)

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

/**
 * How the unknown key of a target may be asked about: not at all under its `BatchMode` (as ssh,
 * which then fails), else recorded as its `HashKnownHosts` says; when the host cannot be
 * resolved, not asked.
 */
function confirmationOf(target: FanOutTarget, opts: HostOptions): { readonly ask: boolean; readonly hash: boolean; readonly file: string } {
  try {
    const host = resolveHost(target, opts);
    const file = learnFileOf(host);
    return { ask: !host.batchMode && file !== undefined, hash: host.hashKnownHosts, file: file ?? '' };
  } catch {
    return { ask: false, hash: true, file: '' };
  }
}

/** Flags that belong to the workers in a queued run: they connect with their own credentials and ssh_config. */
const WORKERS_OWN = ['ssh-config', 'option', 'extra-args', 'extra-arg', 'identity', 'certificate', 'known-hosts', 'accept-new', 'password-env', 'passphrase-env', 'askpass', 'aliases', 'become-password-env', 'ask-become-pass'];

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

/**
 * `--workers N`: the same hosts and pipeline on worker threads (`lib/cli/worker-pipeline`).
 * What a worker cannot ask for itself is settled here first: `-A`'s password is asked once on
 * this thread and handed over in memory; passphrases come from `--passphrase-env` or SSH_ASKPASS.
 */
async function inWorkers(opts: RunOptions, io: Io, secrets: Secrets, stdin: Buffer | undefined, config: WorkerFanOutConfig): Promise<FanOut<ExecChunk>> {
  const password = opts.secrets.askPassword ? await secrets.password() : undefined;
  const becomePassword = opts.become && secrets.hasBecomePassword ? await secrets.becomePassword() : undefined;
  const here = import.meta.url;
  const module = shippedFile(here, './worker-pipeline.ts', 'dist/cli/worker-pipeline.js');
  const args: CliWorkerArgs = {
    command: opts.command,
    options: {
      configFile: opts.configFile,
      ...(opts.configFileGiven ? { configFileGiven: true } : {}),
      systemConfigFile: opts.systemConfigFile,
      configLines: [...opts.configLines],
      localUser: opts.localUser,
      home: opts.home,
      secrets: opts.secrets,
      verbose: opts.verbose,
      ...(opts.pty !== undefined ? { pty: opts.pty } : {}),
      ...(opts.matchExec ? { matchExec: true } : {}),
      ...(opts.become ? { become: opts.become } : {}),
    },
    env: { ...io.env },
    ...(stdin ? { stdin } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(becomePassword !== undefined ? { becomePassword } : {}),
  };
  const { fanOutInWorkers } = await import('../fleet/index.js');
  if (opts.verbose && !opts.json) io.stderr.write(`rxssh: running ${opts.targets.length} host(s) on ${opts.workers ?? 1} worker thread(s)\n`);
  return fanOutInWorkers<ExecChunk>(opts.targets, { module, export: 'host', args }, { ...config, threads: opts.workers ?? 1 });
}

/** Runs `rxssh run`; resolves with the exit code. */
// eslint-disable-next-line max-lines-per-function -- Long by design: the run's steps in the order they happen (secrets, interrupts, the fan-out, the bar, unknown hosts asked about once); what is written per host is RunReporter's.
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
  // Output that is written (-o, -e), printed (-i) or compared (--fold) is kept whole, not the
  // default 1 MiB a host's result holds (it was cut there without a word, as pssh never cuts it).
  const keep = opts.outdir || opts.errdir || opts.inline || opts.inlineStdout || opts.fold ? { capture: KEEP_WHOLE_OUTPUT } : {};
  const config = { concurrency: opts.par, timeout: opts.timeoutSec * 1000, signal: interrupt.signal, ...opts.rollout, ...keep };
  if (opts.workers !== undefined && (pipeline || env) && !opts.json) io.stderr.write('rxssh: --workers applies to `rxssh run` only; this command runs on the main thread\n');
  if (opts.queue && (pipeline || env)) throw new UsageError('--queue applies to `rxssh run` only');
  // -P on this thread: the channels wait while stdout or stderr is full (a slow reader).
  const flow = new OutputFlow();
  const run$ = opts.queue
    ? await onQueue(
        { targets: opts.targets, command: opts.command, queue: opts.queue, verbose: opts.verbose, json: opts.json, ...(opts.become ? { become: opts.become } : {}) },
        io,
        stdin,
        opts.parGiven ? config : { timeout: config.timeout, signal: config.signal, ...opts.rollout, ...keep },
      )
    : opts.workers !== undefined && !pipeline && !env
      ? await inWorkers(opts, io, secrets, stdin, { ...config, flow })
      : fanOut(opts.targets, (t) => (pipeline ? pipeline(t, secrets) : hostPipeline(t, opts.command, opts, secrets, stdin, env?.(t), opts.pty, flow)), config);
  // The bar only where it cannot garble anything: stdout and stderr the same terminal.
  const bar = !opts.json && !opts.noProgress && io.sameTerminal === true ? new (await import('./progress.js')).ProgressBar(io, opts.targets.length) : undefined;
  screen.bar = bar;
  /** Everything for the terminal goes through here while the bar is up. */
  const write = (stream: 'stdout' | 'stderr', text: string | Uint8Array): void => {
    if (bar) bar.write(stream, text);
    else io[stream].write(text);
  };
  const reporter = new RunReporter(opts, io, write);
  const report = (r: HostResult<unknown>): void => reporter.report(r);
  /** Follows one fan-out: its lines (-P), progress and results. */
  const follow = async (fan: FanOut<unknown>, onResult: (r: HostResult<unknown>) => void): Promise<void> => {
    const backpressure = new WritableBackpressure(flow, OUTPUT_QUEUED);
    const lines = opts.print
      ? fan.lines$.subscribe((l) => {
          if (opts.json) io.stdout.write(`${JSON.stringify({ type: 'line', host: l.host, stream: l.stream, line: l.line, truncated: l.truncated })}\n`);
          else write(l.stream, `${l.host}: ${l.line}\n`);
          backpressure.wrote(opts.json ? io.stdout : io[l.stream]);
        })
      : undefined;
    const progress = bar ? fan.progress$.subscribe((p) => bar.update(p)) : undefined;
    try {
      await lastValueFrom(fan.pipe(tap(onResult)), { defaultValue: undefined });
    } finally {
      lines?.unsubscribe();
      backpressure.release();
      progress?.unsubscribe();
    }
  };
  // On a terminal, hosts whose key is unknown are held back, asked about once as a list (as
  // ssh asks), and those confirmed run again: their commands never ran (the key is checked
  // before any credential is sent).
  const interactive = io.stdinIsTTY && !opts.json && !opts.queue && opts.workers === undefined;
  const held: Array<{ result: HostResult<unknown>; hash: boolean; file: string }> = [];
  try {
    await follow(run$, (r) => {
      const asking = interactive && canConfirm(r.error) ? confirmationOf(r.target, opts) : undefined;
      if (asking?.ask) held.push({ result: r, hash: asking.hash, file: asking.file });
      else report(r);
    });
    if (held.length > 0 && !interrupt.signal.aborted) {
      const asked = held.map(({ result: r, hash, file }) => ({ result: r, unknown: { host: (r.error as SshError).host, port: (r.error as SshError).port, error: r.error, file, hash } as UnknownHost }));
      const confirmed = new Set(await confirmUnknownHosts(asked.map((a) => a.unknown), promptIo));
      for (const a of asked) if (!confirmed.has(a.unknown)) report(a.result);
      const again = asked.filter((a) => confirmed.has(a.unknown)).map((a) => a.result.target);
      if (again.length > 0) {
        await follow(fanOut(again, (t) => (pipeline ? pipeline(t, secrets) : hostPipeline(t, opts.command, opts, secrets, stdin, env?.(t), opts.pty, flow)), config), report);
      }
    } else {
      for (const { result } of held) report(result);
    }
  } finally {
    offInterrupt();
    offClosed?.();
    bar?.stop();
  }
  if (stdoutClosed) return EXIT_STDOUT_CLOSED;
  return reporter.finish(interrupt.signal.aborted);
}
