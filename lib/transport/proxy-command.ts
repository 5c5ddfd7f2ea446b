/**
 * The byte stream of a `ProxyCommand`: a command run by the user's shell (`exec COMMAND`, as ssh
 * runs it) whose stdin and stdout carry the SSH connection, in a process group of its own so that
 * the whole of it (a pipeline too) is stopped on every way out: the connection's end, a failure,
 * a timeout, an unsubscribe. Its stderr is kept (the last lines name a failure) and passed on
 * when asked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { Subscription } from 'rxjs';
import type { StreamPlan } from './socket.js';
import { ProxyCommandError, type SshPhase } from '../errors.js';

/** Where a ProxyCommand's stderr goes besides the kept tail: this process's stderr, or a function. */
export type ProxyStderr = 'inherit' | ((chunk: Buffer) => void);

/** How a ProxyCommand ended, for the session to judge (it knows the phase). */
export interface ProxyExit {
  /** The exit status, or null (a signal, or it never started). */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The last lines of its stderr (at most 2 KiB). */
  readonly stderr: string;
  /** Why it could not be started, if it was not. */
  readonly spawnError?: Error;
}

/** What a connection through a ProxyCommand hears. */
export interface CommandListener {
  /** The command's stdin and stdout as one stream. */
  stream(stream: Duplex): void;
  /** The command ended (or never started); not called when it was stopped by unsubscribing. */
  ended(exit: ProxyExit): void;
}

const STDERR_TAIL = 2048;
/** How long a stopped command gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

/**
 * Starts `command` with `$SHELL -c 'exec COMMAND'` (default `/bin/sh`) and hands its stdio to
 * the listener as the connection's stream. Unsubscribing stops it (SIGTERM to its process group,
 * SIGKILL after 2 s) and waits for nothing: the child is reaped when it exits.
 */
export function throughCommand(command: string, plan: StreamPlan, listener: CommandListener, stderr?: ProxyStderr): Subscription {
  let stopped = false;
  let exited = false;
  let tail = '';
  const shell = process.env['SHELL'] || '/bin/sh';
  let child: ChildProcess;
  try {
    child = spawn(shell, ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  } catch (err) {
    listener.ended({ exitCode: null, signal: null, stderr: '', spawnError: err as Error });
    return Subscription.EMPTY;
  }
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    if (stderr === 'inherit') process.stderr.write(chunk);
    else stderr?.(chunk);
  });
  let killTimer: NodeJS.Timeout | undefined;
  child.once('error', (err) => {
    // spawn failures (ENOENT of the shell) arrive here; nothing else is expected.
    if (!stopped && !exited) {
      exited = true;
      listener.ended({ exitCode: null, signal: null, stderr: tail, spawnError: err });
    }
  });
  const stream = commandStream(child);
  // 'close': the process is gone and its stdio drained, so everything it wrote has been read.
  child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
    clearTimeout(killTimer);
    if (!stopped && !exited) {
      exited = true;
      listener.ended({ exitCode: code, signal, stderr: tail });
    }
    stream.push(null);
  });
  if (child.stdin && child.stdout) {
    child.once('spawn', () => {
      if (stopped) return;
      plan.onLookup();
      plan.onConnected();
      listener.stream(stream);
    });
  }
  return new Subscription(() => {
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    stream.destroy();
    signalGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_GRACE_MS);
  });
}

/**
 * The command's stdout and stdin as one Duplex, with backpressure both ways. Its readable side
 * ends when the caller pushes null (after the exit was reported, so that a command that dies
 * early is reported as such, not as a lost stream); writes after the command has gone are
 * dropped (its exit says why), never an error of their own.
 */
function commandStream(child: ChildProcess): Duplex {
  const { stdin, stdout } = child;
  stdin?.on('error', () => undefined); // EPIPE once the command has gone
  const stream = new Duplex({
    read: () => void stdout?.resume(),
    write: (chunk: Buffer, _encoding, done) => {
      if (!stdin || stdin.destroyed || !stdin.writable) return done();
      if (stdin.write(chunk)) return done();
      const go = (): void => {
        stdin.off('drain', go);
        stdin.off('close', go);
        done();
      };
      stdin.once('drain', go);
      stdin.once('close', go);
    },
    final: (done) => {
      stdin?.end();
      done();
    },
    destroy: (_err, done) => {
      stdin?.destroy();
      stdout?.destroy();
      done(null);
    },
  });
  stdout?.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) stdout.pause();
  });
  return stream;
}

/** Signals the command's process group (it leads one: `detached`), or the process itself. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Why a ProxyCommand that ended by itself failed the connection: before the banner (or with a
 * failure status) that is the connection's failure; undefined for a clean exit under an
 * established connection (the stream's end closes it).
 */
export function proxyCommandFailure(command: string, exit: ProxyExit, phase: SshPhase, where: { readonly host: string; readonly port: number }): ProxyCommandError | undefined {
  const early = phase === 'dns' || phase === 'tcp' || phase === 'banner';
  if (!early && exit.exitCode === 0) return undefined;
  const how = exit.spawnError
    ? `could not be started (${exit.spawnError.message})`
    : exit.signal !== null
      ? `was killed by ${exit.signal}`
      : `exited with status ${String(exit.exitCode)}`;
  const when = early ? ' before the SSH banner' : '';
  return new ProxyCommandError(`ProxyCommand ${JSON.stringify(command)} ${how}${when}`, command, exit.exitCode, exit.signal, exit.stderr, {
    ...where,
    phase: early ? 'banner' : phase,
    ...(exit.spawnError ? { cause: exit.spawnError } : {}),
  });
}
