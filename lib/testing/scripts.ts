/**
 * The scripted commands of the in-process test server: deterministic stand-ins for real
 * programs, chosen by the first word of the command line (asyncssh's test server does the same).
 *
 * @module
 */
import type { Duplex, Writable } from 'node:stream';

/**
 * The server side of an exec channel, as a script sees it (ssh2's ServerChannel has this shape).
 *
 * @example
 * ```ts
 * import type { ScriptChannel } from 'rxssh/testing';
 *
 * const greet = (stream: ScriptChannel): void => {
 *   stream.write('hello\n');
 *   stream.exit(0);
 *   stream.end();
 * };
 * ```
 */
export interface ScriptChannel extends Duplex {
  /** The channel's stderr (extended data). */
  readonly stderr: Writable;
  /** Sends the exit status of the command. */
  exit(status: number): void;
  /** Sends the signal that ended the command. */
  exit(signal: string, coreDumped?: boolean, message?: string): void;
}

/**
 * What a scripted command gets to work with.
 *
 * @example
 * ```ts
 * import { runScript, type ScriptContext } from 'rxssh/testing';
 *
 * const handle = (ctx: ScriptContext) => runScript(ctx, 'echo hi');
 * ```
 */
export interface ScriptContext {
  /** The exec channel (stdout = the stream, stderr = `stream.stderr`). */
  readonly stream: ScriptChannel;
  /** Environment variables the client requested. */
  readonly env: Readonly<Record<string, string>>;
  /** Registers a handler for signal requests (names without `SIG`). */
  readonly onSignal: (handler: (name: string) => void) => void;
}

const CHUNK = 64 * 1024;
const PATTERN = Buffer.alloc(CHUNK, 0).map((_, i) => i % 251);
const YES = Buffer.from('y\n'.repeat(CHUNK / 2));

/** Writes `total` bytes of a repeating pattern with backpressure, then calls `done`. */
function emitBytes(
  stream: ScriptChannel | Writable,
  total: number,
  done: () => void,
  isClosed: () => boolean,
  pattern = PATTERN,
): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < total && !isClosed()) {
      const n = Math.min(CHUNK, total - sent);
      sent += n;
      if (!stream.write(n === CHUNK ? pattern : pattern.subarray(0, n))) {
        stream.once('drain', pump);
        return;
      }
    }
    if (!isClosed()) done();
  };
  pump();
}

/**
 * Runs one scripted command. Known commands:
 *
 * | command | behaviour |
 * |---|---|
 * | `echo WORDS…` | prints the words and a newline, exits 0 |
 * | `cat` | copies stdin to stdout until EOF (with backpressure), exits 0 |
 * | `exit N` | exits with status N |
 * | `stderr WORDS…` | prints the words to stderr, exits 0 |
 * | `fail N WORDS…` | prints the words to stderr, exits N |
 * | `sleep SECONDS` | waits without reading stdin; a signal ends it with that signal |
 * | `emit N` | writes N bytes of a fixed pattern (`i % 251`), exits 0 |
 * | `emit-both N` | writes N bytes to stderr, then N bytes to stdout, exits 0 |
 * | `yes` | writes `y\n` until the channel closes or a signal arrives |
 * | `signal NAME` | ends at once by signal NAME |
 * | `noexit` | prints `bye` and closes the channel without any exit status |
 * | `exit-early` | prints `part`, reports exit status 0, then never ends its output |
 * | `env NAME` | prints the requested environment variable |
 * | `lines N WORD` | prints `WORD 1` … `WORD N`, one per line, exits 0 |
 * | `true` / `false` | exit 0 / 1 |
 *
 * Anything else prints an error to stderr and exits 127.
 *
 * @example
 * ```ts
 * import { runScript } from 'rxssh/testing';
 *
 * // inside an ssh2 Server 'exec' handler:
 * // runScript({ stream: accept(), env: {}, onSignal: () => {} }, 'echo hi');
 * ```
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: the table of the test server's scripted commands, a few lines each.
export function runScript(ctx: ScriptContext, command: string): void {
  const { stream } = ctx;
  const [name = '', ...args] = command.trim().split(/\s+/);
  let ended = false;
  stream.on('close', () => {
    ended = true;
  });
  const exit = (code: number): void => {
    if (ended) return;
    ended = true;
    stream.exit(code);
    stream.end();
  };
  const killed = (signal: string): void => {
    if (ended) return;
    ended = true;
    stream.exit(signal, false, '');
    stream.end();
  };
  switch (name) {
    case 'echo':
      stream.write(`${args.join(' ')}\n`);
      return exit(0);
    case 'true':
      return exit(0);
    case 'false':
      return exit(1);
    case 'exit':
      return exit(Number.parseInt(args[0] ?? '0', 10) || 0);
    case 'stderr':
      stream.stderr.write(`${args.join(' ')}\n`);
      return exit(0);
    case 'fail':
      stream.stderr.write(`${args.slice(1).join(' ')}\n`);
      return exit(Number.parseInt(args[0] ?? '1', 10) || 1);
    case 'lines': {
      const n = Number.parseInt(args[0] ?? '0', 10) || 0;
      stream.write(Array.from({ length: n }, (_, i) => `${args[1] ?? 'line'} ${i + 1}\n`).join(''));
      return exit(0);
    }
    case 'env':
      stream.write(`${ctx.env[args[0] ?? ''] ?? ''}\n`);
      return exit(0);
    case 'signal':
      return killed((args[0] ?? 'TERM').toUpperCase().replace(/^SIG/, ''));
    case 'noexit':
      stream.write('bye\n');
      ended = true;
      stream.end();
      return;
    case 'exit-early':
      stream.write('part\n');
      stream.exit(0);
      return;
    case 'cat':
      stream.on('data', (data: Buffer) => {
        if (!stream.write(data)) {
          stream.pause();
          stream.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => exit(0));
      ctx.onSignal(killed);
      return;
    case 'sleep': {
      const timer = setTimeout(() => exit(0), Number.parseFloat(args[0] ?? '0') * 1000);
      stream.on('close', () => clearTimeout(timer));
      ctx.onSignal((signal) => {
        clearTimeout(timer);
        killed(signal);
      });
      return; // stdin is deliberately not read: a writer fills the window and must wait
    }
    case 'emit':
      stream.resume();
      ctx.onSignal(killed);
      return emitBytes(stream, Number.parseInt(args[0] ?? '0', 10) || 0, () => exit(0), () => ended);
    case 'emit-both': {
      const n = Number.parseInt(args[0] ?? '0', 10) || 0;
      stream.resume();
      ctx.onSignal(killed);
      return emitBytes(stream.stderr, n, () => emitBytes(stream, n, () => exit(0), () => ended), () => ended);
    }
    case 'yes':
      stream.resume();
      ctx.onSignal(killed);
      return emitBytes(stream, Number.MAX_SAFE_INTEGER, () => exit(0), () => ended, YES);
    default:
      stream.stderr.write(`rxssh test server: unknown command ${JSON.stringify(name)}\n`);
      return exit(127);
  }
}
