/**
 * The per-host pipeline of `rxssh run --workers N`, loaded by each worker thread: the same
 * `hostPipeline` as on the main thread, with an Io that cannot prompt (a worker has no
 * terminal): `-A`'s password arrives with the task (asked on the main thread), passphrases come from `--passphrase-env`
 * or SSH_ASKPASS, and warnings go to the process's stderr.
 */
import { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { ExecChunk, FanOutTarget } from '../index.js';
import type { WorkerContext } from '../fleet/index.js';
import { Secrets } from './credentials.js';
import type { Io } from './io.js';
import { hostPipeline, type HostOptions } from './host.js';
import { toBuffer } from '../util/bytes.js';

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
  /** `--sudo`: the become password, asked (or read) once on the main thread. */
  readonly becomePassword?: string;
}

/** One Secrets per worker (a pool, and so its workers, serve one run), so SSH_ASKPASS is asked once per key and worker. */
let secrets: Secrets | undefined;

function workerIo(env: CliWorkerArgs['env']): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: false,
    stdinIsTTY: false,
    env,
    readStdin: () => Promise.resolve(Buffer.alloc(0)),
    stdin: Readable.from([]),
    releaseStdin: () => undefined,
    prompt: (text) => Promise.reject(new Error(`cannot ask "${text.trim()}" on a worker thread: use --passphrase-env or SSH_ASKPASS`)),
    onInterrupt: () => () => undefined,
    exit: () => undefined,
  };
}

/** One host: its connection from ssh_config and the CLI's flags, then the command. */
export function host(target: FanOutTarget, args: CliWorkerArgs, context?: WorkerContext): Observable<ExecChunk> {
  secrets ??= new Secrets(args.options.secrets, workerIo(args.env), args.password, args.becomePassword);
  const stdin = args.stdin ? toBuffer(args.stdin) : undefined;
  return hostPipeline(target, args.command, args.options, secrets, stdin, undefined, args.options.pty, context?.flow);
}
