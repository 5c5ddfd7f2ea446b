/**
 * `rxssh worker`: takes host jobs from the BullMQ queue that `rxssh run --queue` fills and runs
 * them as `rxssh run` would, with this machine's own credentials, agent, known_hosts and
 * ssh_config; no secret is ever read from Redis.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { QueueError, type LabelledTarget, hostMatches } from '../index.js';
import { parseHostsFile } from '../fleet/index.js';
import type { QueueHostPipeline } from '../queue/index.js';
import { parseUntilPositional } from './args.js';
import { Secrets } from './credentials.js';
import type { Io } from './io.js';
import { checked, QUEUE_HELP, QUEUE_OPTIONS, queueConfigOf } from './queue.js';
import { HOST_OPTIONS, hostOptions, hostPipeline, withPsshEnv, type HostOptions, type Values } from './host.js';
import { terminalSafe } from './report.js';
import { EXIT, UsageError } from './usage.js';

export const WORKER_HELP = `usage: rxssh worker --queue redis://HOST[:PORT][/DB] [options]

Takes host jobs from the queue that 'rxssh run --queue' fills and runs them with this machine's
own credentials, agent, known_hosts and ~/.ssh/config (or -F): no password, key or passphrase is
ever read from Redis. Output streams back to the run as it comes. A worker that dies
mid-command leaves its hosts 'lost' (never run again unless the run asked for --retry-lost).
Ctrl-C or SIGTERM: stop taking jobs and let the running ones finish; again: stop them.

${QUEUE_HELP}worker:
      --concurrency N     hosts at once (default 32)
      --name NAME         this worker's name, stored on each job it takes (default HOST:PID)
      --lock-duration SEC how long a job's lock lasts unrenewed (default 30): a dead worker's
                          hosts are reported lost that long after, plus a stall check
hosts (as 'rxssh run' resolves them):
  -F, --ssh-config FILE   the ssh_config to read instead of ~/.ssh/config
  -O, --option OPTION     ssh_config option (repeatable)
  -x, --extra-args ARGS / -X, --extra-arg ARG   ssh arguments (-i -p -l -o -J -A -F)
  -l, --user USER         user for hosts that name none (a run's -l wins)
      --identity FILE     a private key (repeatable; FILE-cert.pub too)
      --certificate FILE  an OpenSSH certificate (repeatable)
      --known-hosts FILE  known_hosts file instead of the config's
      --accept-new        trust and record unknown hosts
      --password-env VAR  an SSH password from an environment variable
      --passphrase-env VAR  the passphrase of encrypted keys (or SSH_ASKPASS)
      --become-password-env VAR  the sudo/su password for jobs of runs with --sudo (it never
                          travels on the queue)
      --allow-hosts PATTERNS  run jobs only for hosts matching these OpenSSH patterns
                          (comma-separated, !negation; repeatable); others are refused
      --allow-hosts-file FILE run jobs only for the hosts of this hosts file (pssh format)
  -v, --verbose           log each job taken, ended and refused
      --help              this help

exit codes: 0 closed cleanly, 1 Redis unreachable for --redis-timeout (or another error),
            2 usage error
`;

/** Runs `rxssh worker`; resolves with the exit code when the worker has closed. */
// eslint-disable-next-line max-lines-per-function -- Long by design: the command's steps in the order it runs them (flags, secrets, the worker, signals, the exit). A worker has no terminal to ask on (-A), no per-run timeout (the run's -t travels with each job) and no --json.
export async function workerCommand(argv: readonly string[], io: Io): Promise<number> {
  const hostFlags = Object.fromEntries(Object.entries(HOST_OPTIONS).filter(([k]) => !['askpass', 'timeout', 'json'].includes(k))) as Omit<typeof HOST_OPTIONS, 'askpass' | 'timeout' | 'json'>;
  const { values, rest } = parseUntilPositional(argv, {
    ...hostFlags,
    ...QUEUE_OPTIONS,
    concurrency: { type: 'string' },
    name: { type: 'string' },
    'lock-duration': { type: 'string' },
    'allow-hosts': { type: 'string', multiple: true },
    'allow-hosts-file': { type: 'string' },
  } as const);
  if (values.help) {
    io.stdout.write(WORKER_HELP);
    return EXIT.ok;
  }
  if (rest.length) throw new UsageError(`rxssh worker takes no arguments (got ${JSON.stringify(rest[0])})`);
  const v = withPsshEnv(values as Values, io, ['user', 'verbose', 'option']);
  const queue = await checked(queueConfigOf(v, io, 30));
  const number = (flag: string, fallback: number, integer: boolean): number => {
    const raw = v[flag] as string | undefined;
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} takes a positive ${integer ? 'integer' : 'number'}`);
    return n;
  };
  const concurrency = number('concurrency', 32, true);
  const lockSec = number('lock-duration', 30, false);
  const name = (v['name'] as string | undefined) ?? `${hostname()}:${process.pid}`;
  const o: HostOptions = hostOptions(v, io, true);
  const secrets = new Secrets(o.secrets, io);
  const pipeline: QueueHostPipeline = (target, job) => {
    // A run's -l is the user of hosts that name none, as ssh's -l beats the config's User. It
    // goes in as the target's user (data), never as ssh_config text.
    const t = job.user && !target.username ? { ...target, username: job.user } : target;
    // The job says whom to become; the password is this worker's own (--become-password-env).
    const withBecome: HostOptions = job.become ? { ...o, become: job.become } : o;
    return hostPipeline(t, job.command, withBecome, secrets, job.stdin ? Buffer.from(job.stdin) : undefined, job.env, job.pty);
  };
  const allowHosts = allowList(v['allow-hosts'] as string[] | undefined, v['allow-hosts-file'] as string | undefined);
  const { queueWorker } = await import('../queue/index.js');
  const worker = queueWorker(pipeline, {
    queue,
    concurrency,
    name,
    lockDuration: lockSec * 1000,
    stalledInterval: Math.min(5000, (lockSec * 1000) / 2),
    ...(allowHosts ? { allowHosts } : {}),
    onJob: (e) => {
      // A refused job is always said: someone wrote it to Redis.
      if (e.type === 'refused') io.stderr.write(`rxssh worker ${name}: refused ${terminalSafe(e.host)} [${terminalSafe(e.jobId)}]: ${terminalSafe(e.reason ?? '')}\n`);
      else if (o.verbose) io.stderr.write(`rxssh worker ${name}: ${e.type === 'started' ? 'took' : `ended (${e.status ?? ''})`} ${terminalSafe(e.host)} [${terminalSafe(e.jobId)}]\n`);
    },
  });
  let stops = 0;
  const offInterrupt = io.onInterrupt(() => {
    stops++;
    io.stderr.write(stops === 1 ? `rxssh worker ${name}: stopping: no new jobs; running ones finish (again: stop them)\n` : `rxssh worker ${name}: stopping the running jobs\n`);
    void worker.close({ cancel: stops > 1 });
  });
  try {
    await worker.ready;
    io.stderr.write(`rxssh worker ${name}: taking jobs from queue ${queue.name ?? 'rxssh'} at ${queue.url} (concurrency ${concurrency})\n`);
    await worker.closed;
    return EXIT.ok;
  } catch (err) {
    const what = err instanceof QueueError ? err.message : `${(err as Error).message ?? String(err)}`;
    io.stderr.write(`rxssh worker ${name}: ${terminalSafe(what)}\n`);
    await worker.close({ cancel: true }).catch(() => undefined);
    return EXIT.misc;
  } finally {
    offInterrupt();
  }
}

/** The worker's allow-list from --allow-hosts patterns and an --allow-hosts-file inventory (undefined: every host). */
function allowList(patterns: readonly string[] | undefined, file: string | undefined): ((target: LabelledTarget) => boolean) | undefined {
  if (!patterns?.length && !file) return undefined;
  const list = (patterns ?? []).join(',');
  let listed = new Set<string>();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--allow-hosts-file ${file}: ${(err as Error).message}`);
    }
    listed = new Set(parseHostsFile(text).map((t) => `${t.host.toLowerCase()}:${t.port ?? 22}`));
  }
  return (target) =>
    (list !== '' && hostMatches(list, target.host.toLowerCase())) || listed.has(`${target.host.toLowerCase()}:${target.port ?? 22}`);
}
