/**
 * Commands in pipelines: the `exec`, `run`, `shell` and `subsystem` operators that continue a
 * pipeline from its Connection, the `ExecResult` of `run`, and output decoding (`selectStream`,
 * `decodeText`, `splitLines`).
 *
 * @module
 */
import { defer, Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import type { ChannelConfig, ChannelSubject, ExecChunk, ExitInfo } from './channel.js';
import type { Connection } from './connection.js';
import { holdWhile } from './internal/hold.js';
import { LineSplitter } from './internal/line-splitter.js';

/**
 * Options of `run`.
 *
 * @example
 * ```ts
 * import { run } from 'rxssh';
 *
 * connection$.pipe(run('make test', { check: true, maxBuffer: 1024 * 1024, env: { CI: '1' } }));
 * ```
 */
export interface RunConfig extends Omit<ChannelConfig, 'check'> {
  /** When true a non-zero exit, a signal or a missing status errors with `ExitStatusError` (default false). */
  readonly check?: boolean;
  /** The most bytes kept per stream; the rest is counted but dropped and `truncated` set (default 64 MiB). */
  readonly maxBuffer?: number;
}

/**
 * The outcome of a command run to completion.
 *
 * @example
 * ```ts
 * import type { ExecResult } from 'rxssh';
 *
 * const ok = (r: ExecResult) => r.exitCode === 0;
 * // { command: 'id -u', stdout: '1000\n', stderr: '', exitCode: 0, signal: null, truncated: false }
 * ```
 */
export interface ExecResult {
  /** The command that ran. */
  readonly command: string;
  /** Everything written to stdout (UTF-8), up to `maxBuffer` bytes. */
  readonly stdout: string;
  /** Everything written to stderr (UTF-8), up to `maxBuffer` bytes. */
  readonly stderr: string;
  /** The exit status; `null` when killed by a signal or when the server sent no status. */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or `null`. */
  readonly signal: string | null;
  /** True when output beyond `maxBuffer` was dropped. */
  readonly truncated: boolean;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/** Runs `command` on `connection` and collects an ExecResult. @internal */
export function runOn(connection: Connection, command: string, config: RunConfig = {}): Observable<ExecResult> {
  const maxBuffer = config.maxBuffer ?? DEFAULT_MAX_BUFFER;
  if (!Number.isFinite(maxBuffer) || maxBuffer < 0) throw new TypeError('maxBuffer must be a non-negative number');
  return defer(() => {
    let exit: ExitInfo = { exitCode: null, signal: null };
    const channel = connection.exec(command, {
      stdin: [],
      ...config,
      check: config.check ?? false,
      closeObserver: {
        next: (info) => {
          exit = info;
          config.closeObserver?.next(info);
        },
      },
    });
    return new Observable<ExecResult>((subscriber) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const kept = { stdout: 0, stderr: 0 };
      let truncated = false;
      return channel.subscribe({
        next: ({ stream, data }) => {
          const room = maxBuffer - kept[stream];
          if (room <= 0) {
            truncated = true;
            return;
          }
          const piece = data.length > room ? data.subarray(0, room) : data;
          if (piece !== data) truncated = true;
          kept[stream] += piece.length;
          (stream === 'stdout' ? out : err).push(piece);
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          subscriber.next({
            command,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
            exitCode: exit.exitCode,
            signal: exit.signal,
            truncated,
          });
          subscriber.complete();
        },
      });
    });
  });
}

/**
 * Continues a pipeline from its Connection: subscribes to the Observable `project` returns and
 * completes when it does — which ends the pipeline and so closes the connection (unless it is
 * shared). The connection is kept open while the inner Observable runs.
 *
 * @remarks
 * Unlike `switchMap`, it does not wait for the connection stage to complete (it only completes
 * when the server closes the connection). If the connection ends while the inner Observable is
 * running, its channels report first (they error with `ConnectionLostError` after delivering
 * every byte received); once no channel is left, the connection's own end is passed on, so a
 * projected Promise or Observable that does not use a channel cannot hang the pipeline.
 *
 * @example
 * ```ts
 * import { withConnection } from 'rxssh';
 * import { forkJoin } from 'rxjs';
 *
 * connection$.pipe(withConnection((c) => forkJoin([c.run('uname'), c.run('uptime')])));
 * ```
 */
export function withConnection<R>(project: (connection: Connection) => ObservableInput<R>): OperatorFunction<Connection, R> {
  return holdWhile(project, (connection, done) => connection.whenIdle(done));
}

/**
 * Runs a command on the pipeline's connection and emits its output chunks; completes after the
 * command exits 0 (then the connection is closed), errors with `ExitStatusError` otherwise
 * (unless `check: false`).
 *
 * @remarks
 * Without a `stdin` option, EOF is sent at once (like `ssh host cmd < /dev/null`), so `cat`
 * ends. With one, stdin is consumed with backpressure and EOF follows its end. Unsubscribing
 * before the command exits signals it (TERM) and closes the channel and connection.
 *
 * @param command - the command line, run by the remote user's shell.
 * @param config - env, pty, stdin, check, cancelSignal and the open/close observers.
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, privateKey, exec, selectStream, decodeText } from 'rxssh';
 *
 * connect({ host, port, username }).pipe(
 *   verifyHostKey(pinned(fingerprint)),
 *   authenticate(privateKey(pem)),
 *   exec('cat', { stdin: ['This data will be echoed back to us by "cat."\r\n'] }),
 *   selectStream('stdout'),
 *   decodeText(),
 * ).subscribe((text) => console.log(`We got this from "cat": ${text}`));
 * ```
 */
export function exec(command: string, config: ChannelConfig = {}): OperatorFunction<Connection, ExecChunk> {
  if (typeof command !== 'string' || command.length === 0) throw new TypeError('exec() needs a command');
  return withConnection((connection) => connection.exec(command, { stdin: [], ...config }));
}

/**
 * Runs a command on the pipeline's connection and emits one {@link ExecResult}, then
 * completes (closing the connection). A non-zero exit is data unless `check: true`.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password, run } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   authenticate(password('secret')),
 *   run('df -h /'),
 * ).subscribe((r) => console.log(r.exitCode, r.stdout)); // 0 'Filesystem …'
 * ```
 */
export function run(command: string, config: RunConfig = {}): OperatorFunction<Connection, ExecResult> {
  if (typeof command !== 'string' || command.length === 0) throw new TypeError('run() needs a command');
  return withConnection((connection) => connection.run(command, config));
}

/**
 * Opens an interactive shell on the pipeline's connection and returns its channel Subject to
 * `use`, whose Observable output continues the pipeline.
 *
 * @example
 * ```ts
 * import { shell } from 'rxssh';
 *
 * connection$.pipe(shell((sh) => { sh.next('echo hi; exit\n'); return sh; }));
 * ```
 */
export function shell<R = ExecChunk>(
  use: (channel: ChannelSubject) => ObservableInput<R> = (channel) => channel as unknown as Observable<R>,
  config: ChannelConfig = {},
): OperatorFunction<Connection, R> {
  return withConnection((connection) => use(connection.shell(config)));
}

/**
 * Opens a subsystem channel (e.g. `sftp`) on the pipeline's connection and returns its channel
 * Subject to `use`.
 *
 * @example
 * ```ts
 * import { subsystem } from 'rxssh';
 *
 * connection$.pipe(subsystem('echo-service', (ch) => { ch.next('ping'); ch.complete(); return ch; }));
 * ```
 */
export function subsystem<R = ExecChunk>(
  name: string,
  use: (channel: ChannelSubject) => ObservableInput<R> = (channel) => channel as unknown as Observable<R>,
  config: ChannelConfig = {},
): OperatorFunction<Connection, R> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('subsystem() needs a name');
  return withConnection((connection) => use(connection.subsystem(name, config)));
}

/**
 * Keeps one stream of tagged output and unwraps its bytes.
 *
 * @example
 * ```ts
 * import { exec, selectStream } from 'rxssh';
 *
 * connection$.pipe(exec('make'), selectStream('stderr')).subscribe((bytes) => process.stderr.write(bytes));
 * ```
 */
export function selectStream(stream: 'stdout' | 'stderr'): OperatorFunction<ExecChunk, Buffer> {
  if (stream !== 'stdout' && stream !== 'stderr') throw new TypeError("selectStream() takes 'stdout' or 'stderr'");
  return (source) =>
    new Observable<Buffer>((subscriber) =>
      source.subscribe({
        next: (chunk) => {
          if (chunk.stream === stream) subscriber.next(chunk.data);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}

/**
 * Decodes bytes to text, keeping multi-byte sequences that straddle chunks intact (one decoder
 * per subscription).
 *
 * @example
 * ```ts
 * import { exec, selectStream, decodeText } from 'rxssh';
 *
 * connection$.pipe(exec('cat README'), selectStream('stdout'), decodeText()).subscribe(console.log);
 * ```
 */
export function decodeText(encoding = 'utf-8'): OperatorFunction<Uint8Array, string> {
  new TextDecoder(encoding); // throws RangeError at call time for an unknown encoding
  return (source) =>
    new Observable<string>((subscriber) => {
      const decoder = new TextDecoder(encoding);
      return source.subscribe({
        next: (bytes) => {
          const text = decoder.decode(bytes, { stream: true });
          if (text) subscriber.next(text);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          const rest = decoder.decode();
          if (rest) subscriber.next(rest);
          subscriber.complete();
        },
      });
    });
}

/**
 * Splits text into lines (without their `\n` or `\r\n`); a last line without a newline is
 * emitted when the source completes. A line longer than `maxLength` characters (default 1 Mi)
 * is emitted cut at that length and the rest up to its newline is dropped, so text without
 * newlines costs bounded memory and linear time.
 *
 * @example
 * ```ts
 * import { exec, selectStream, decodeText, splitLines } from 'rxssh';
 * import { take } from 'rxjs';
 *
 * connection$.pipe(exec('yes'), selectStream('stdout'), decodeText(), splitLines(), take(3))
 *   .subscribe(console.log); // y y y — then the channel is closed and yes is stopped
 * ```
 */
export function splitLines(options: { readonly maxLength?: number } = {}): OperatorFunction<string, string> {
  const maxLength = options.maxLength ?? 1024 * 1024;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new RangeError('splitLines(): maxLength must be a positive integer');
  return (source) =>
    new Observable<string>((subscriber) => {
      const lines = new LineSplitter(maxLength, (line) => {
        if (!subscriber.closed) subscriber.next(line);
      });
      return source.subscribe({
        next: (text) => lines.push(text),
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          lines.end();
          subscriber.complete();
        },
      });
    });
}
