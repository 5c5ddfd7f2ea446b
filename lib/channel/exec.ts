/**
 * Commands in pipelines: the `exec`, `run`, `shell` and `subsystem` operators that continue a
 * pipeline from its Connection, the `ExecResult` of `run`, and output decoding (`selectStream`,
 * `decodeText`, `splitLines`).
 *
 * @module
 */
import { Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { becoming, checkBecome, type BecomeConfig } from './become.js';
import type { ChannelConfig, ChannelSubject, ExecChunk } from './channel.js';
import { RUN_NAMES, type ExecResult, type RunConfig } from './run.js';
import { CHANNEL_NAMES } from './types.js';
import type { Connection } from '../connection/connection.js';
import { holdWhile } from '../util/hold.js';
import { LineSplitter } from '../util/line-splitter.js';
import { ConnectionLostError } from '../errors.js';
import { checkNumber, checkOptions, checkString, optionNames, POSITIVE_INTEGER } from '../util/check.js';

export type { ExecResult, RunConfig } from './run.js';

/**
 * Continues a pipeline from its Connection: subscribes to the Observable `project` returns and
 * completes when it does — which ends the pipeline and so closes the connection (unless it is
 * shared). The connection is kept open while the inner Observable runs.
 *
 * @remarks
 * Unlike `switchMap`, it does not wait for the connection stage to complete (it only completes
 * when the server closes the connection). If the connection ends while the inner Observable is
 * running, its channels report first (they error with `ConnectionLostError` after delivering
 * every byte received); once no channel is left, the pipeline errors with the connection's
 * error, or with `ConnectionLostError` when the server closed it cleanly: work that had not
 * finished when its connection ended never completes (a transfer cut by a TCP FIN is a failure),
 * and a projected Promise or Observable that does not use a channel cannot hang the pipeline.
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
  return holdWhile(project, {
    settle: (connection, done) => connection.whenIdle(done),
    lost: (connection) =>
      new ConnectionLostError('The connection closed before the work on it finished', { host: connection.host, port: connection.port, phase: 'channel' }),
  });
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
export function exec(command: string, config: ExecConfig = {}): OperatorFunction<Connection, ExecChunk> {
  if (typeof command !== 'string' || command.length === 0) throw new TypeError('exec() needs a command');
  checkOptions('exec()', config, EXEC_NAMES);
  const { become, ...channel } = config;
  if (become === undefined) return withConnection((connection) => connection.exec(command, { stdin: [], ...channel }));
  // Checked now (a bad method or user is the caller's mistake, not the host's).
  checkBecome(become);
  return withConnection((connection) => becoming((cmd, cfg) => connection.exec(cmd, cfg), become, connection)(command, { stdin: [], ...channel }));
}

/**
 * Options of the {@link exec} operator: the channel's, and whom to run the command as.
 *
 * @example
 * ```ts
 * import type { ExecConfig } from 'rxssh';
 *
 * const config: ExecConfig = { become: { user: 'postgres', password: process.env.SUDO_PW }, check: false };
 * ```
 */
export interface ExecConfig extends ChannelConfig {
  /** Run it as another user (`sudo`, `su`); see `RunConfig.become`. */
  readonly become?: BecomeConfig;
}

const EXEC_NAMES = optionNames<ExecConfig>()([...CHANNEL_NAMES, 'become']);

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
 *
 * // Binary output: the bytes as received, no UTF-8 decoding.
 * connection$.pipe(run('cat logo.png', { encoding: 'buffer' })).subscribe((r) => writeFileSync('logo.png', r.stdout));
 * ```
 */
export function run(command: string, config: RunConfig & { readonly encoding: 'buffer' }): OperatorFunction<Connection, ExecResult<Buffer>>;
export function run(command: string, config?: RunConfig & { readonly encoding?: 'utf8' }): OperatorFunction<Connection, ExecResult>;
export function run(command: string, config: RunConfig = {}): OperatorFunction<Connection, ExecResult<string | Buffer>> {
  checkString('run(): command', command);
  checkOptions('run()', config, RUN_NAMES);
  return withConnection((connection) => connection.run(command, config as RunConfig & { encoding?: 'utf8' }) as Observable<ExecResult<string | Buffer>>);
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

/** Options of {@link splitLines}. */
export interface SplitLinesConfig {
  /** The longest line kept, in characters (default 1 Mi); a longer one is cut there. */
  readonly maxLength?: number;
}

const SPLIT_LINES_NAMES = optionNames<SplitLinesConfig>()(['maxLength']);

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
export function splitLines(options: SplitLinesConfig = {}): OperatorFunction<string, string> {
  checkOptions('splitLines()', options, SPLIT_LINES_NAMES);
  const maxLength = options.maxLength ?? 1024 * 1024;
  checkNumber('splitLines(): maxLength', maxLength, POSITIVE_INTEGER);
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
