/**
 * What the CLI talks to (injected, so specs can drive it in-process).
 */
import { spawnSync } from 'node:child_process';
import { fstatSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** The CLI's outside world. */
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stderrIsTTY: boolean;
  /** Whether stdout and stderr are the same terminal (only then is a progress bar drawn). */
  readonly sameTerminal?: boolean;
  /** Whether stdin is a terminal (prompts are possible). */
  readonly stdinIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads all of stdin (for `-I`). */
  readonly readStdin: () => Promise<Buffer>;
  /** stdin as a stream, for `rxssh exec` to forward with backpressure. */
  readonly stdin: Readable;
  /** Stops reading stdin (so that a terminal or pipe no longer holds the process open). */
  readonly releaseStdin: () => void;
  /** Asks on the terminal without echo (passphrases, `-A`); rejects without a terminal. */
  readonly prompt: (text: string) => Promise<string>;
  /** Calls `listener` on each interrupt (Ctrl-C or SIGTERM) while registered; returns the unregister function. */
  readonly onInterrupt: (listener: () => void) => () => void;
  /** Ends the process at once with `code` (a second Ctrl-C). */
  readonly exit: (code: number) => void;
  /**
   * Calls `listener` once stdout is closed by its reader (`| head`: EPIPE) while registered;
   * returns the unregister function. Optional: an Io without it never sees stdout close.
   */
  readonly onStdoutClosed?: (listener: () => void) => () => void;
  /** The terminal stdin is, for a session with a pseudo-terminal; absent when stdin is not one. */
  readonly terminal?: {
    size(): { rows: number; cols: number };
    /**
     * Raw mode on (keys go to the remote side as typed; output written as it comes, no `\r` put
     * before `\n`, as ssh's enter_raw_mode) or off again.
     */
    raw(on: boolean): void;
    /** Stops this process (SIGTSTP, as `~^Z`) out of raw mode; returns once it is continued, in raw mode again. */
    suspend(): void;
    /** Calls `listener` when the window is resized; returns the unregister function. */
    onResize(listener: () => void): () => void;
  };
}

/** The exit code of a command whose output pipe was closed, as a shell shows `ssh`'s (killed by SIGPIPE). */
export const EXIT_STDOUT_CLOSED = 128 + 13;

/**
 * Bytes of output stdout or stderr may hold before the channels filling them are paused (a pipe
 * to a slow reader); above the stream's own 16 KiB mark, which would pause them for every packet.
 */
export const OUTPUT_QUEUED = 1024 * 1024;

/** What was typed ahead of a prompt (the rest of a chunk after its line): the next prompt's. */
let typedAhead = '';

/** Reads one line from a terminal in raw mode, echoing nothing. */
function promptNoEcho(text: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new Error(`cannot ask "${text.trim()}": stdin is not a terminal`));
  return new Promise((resolve, reject) => {
    process.stderr.write(text);
    let answer = '';
    let settled = false;
    const done = (err?: Error): void => {
      settled = true;
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const take = (chunk: string): void => {
      const chars = [...chunk];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i] as string;
        if (ch === '\r' || ch === '\n') {
          // A line typed ahead (several answers at once) is kept for the next prompt.
          let rest = chars.slice(i + 1).join('');
          if (ch === '\r' && rest.startsWith('\n')) rest = rest.slice(1);
          typedAhead = rest;
          return done();
        }
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    const onData = (chunk: Buffer): void => take(chunk.toString('utf8'));
    stdin.setRawMode(true);
    const ahead = typedAhead;
    typedAhead = '';
    if (ahead) take(ahead);
    if (settled) return;
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** Whether fds 1 and 2 are one terminal (a bar on stderr would otherwise garble stdout, or a file). */
function sameTerminal(): boolean {
  if (process.stdout.isTTY !== true || process.stderr.isTTY !== true) return false;
  try {
    const [out, err] = [fstatSync(1), fstatSync(2)];
    return out.rdev === err.rdev && out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}

/**
 * Raw mode as ssh sets it: Node's (libuv's) keeps output processing on, so every `\n` the remote
 * side writes reaches the terminal as `\r\n` (a full-screen program's cursor-down would jump to
 * the first column); `stty` takes that and the input translations off. Node restores the
 * terminal's own modes when raw mode goes off, or the process exits.
 */
function rawMode(on: boolean): void {
  process.stdin.setRawMode(on);
  if (on) spawnSync('stty', ['-opost', '-inlcr', '-igncr', '-ixany', '-ixoff'], { stdio: ['inherit', 'ignore', 'ignore'] });
}

/** The process's own stdio. */
// eslint-disable-next-line max-lines-per-function -- Long by design: the process's stdio as one object, each member a few lines.
export function processIo(): Io {
  let prompts = Promise.resolve<unknown>(undefined);
  // A reader that goes away (`| head`) is an EPIPE on the next write: never an unhandled
  // 'error' (a stack trace); whoever listens stops the run.
  const closedListeners = new Set<() => void>();
  let stdoutClosed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') return;
    if (stdoutClosed) return;
    stdoutClosed = true;
    for (const listener of [...closedListeners]) listener();
  });
  // Raw mode needs stdin to be the terminal (as ssh's enter_raw_mode); its size comes from
  // stdout, or stderr when stdout goes to a file or a pipe (`rxssh exec -t host cmd > out`).
  const sized = process.stdout.isTTY === true ? process.stdout : process.stderr.isTTY === true ? process.stderr : undefined;
  const terminal: Io['terminal'] =
    process.stdin.isTTY === true
      ? {
          size: () => ({ rows: sized?.rows || 24, cols: sized?.columns || 80 }),
          raw: (on) => {
            rawMode(on);
            if (!on) process.stdin.pause();
          },
          suspend: () => {
            rawMode(false);
            try {
              process.kill(process.pid, 'SIGTSTP'); // stops here until continued (Node leaves SIGTSTP's default)
            } catch {
              process.stderr.write('rxssh: this system cannot suspend a process\r\n'); // Windows
            }
            rawMode(true);
          },
          onResize: (listener) => {
            sized?.on('resize', listener);
            return () => void sized?.off('resize', listener);
          },
        }
      : undefined;
  return {
    ...(terminal ? { terminal } : {}),
    onStdoutClosed: (listener) => {
      if (stdoutClosed) queueMicrotask(listener);
      closedListeners.add(listener);
      return () => closedListeners.delete(listener);
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
    sameTerminal: sameTerminal(),
    stdinIsTTY: process.stdin.isTTY === true,
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    get stdin() {
      return process.stdin;
    },
    releaseStdin: () => process.stdin.destroy(),
    // One question at a time, however many hosts ask at once.
    prompt: (text) => {
      const answer = prompts.then(() => promptNoEcho(text));
      prompts = answer.catch(() => undefined);
      return answer;
    },
    // Ctrl-C, and SIGTERM (a service manager stopping a worker or a run) the same way.
    onInterrupt: (listener) => {
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
    exit: (code) => process.exit(code),
  };
}
