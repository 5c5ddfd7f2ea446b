/**
 * A session channel (exec, shell or subsystem) as a duplex Subject, after rxjs's
 * `webSocket()`: subscribing opens it, `next()` writes stdin, `complete()` sends EOF, output
 * chunks arrive tagged stdout/stderr, a clean end completes and the last unsubscribe stops the
 * remote process and closes the channel.
 *
 * @module
 */
import { Observable, type Observer } from 'rxjs';
import { DemandQueue } from '../util/demand-queue.js';
import { type ChannelPort } from '../connection/channel-open.js';
import { checkNumber, checkOptions, MILLISECONDS } from '../util/check.js';
import { WritableBackpressure } from '../util/writable-backpressure.js';
import { type ExecChunk, type ExitInfo, type StdinChunk, type ChannelConfig, type ChannelRequest, normalizeSignal, type TerminalSize, CHANNEL_NAMES, PTY_NAMES, TERMINAL_DIMENSION, type PtyConfig } from './types.js';
import { ChannelRun, DEFAULT_STDIN_LIMIT, ITERATOR_HIGH_WATER, ITERATOR_LOW_WATER } from './channel-run.js';

export { SIGNALS, normalizeSignal, type ChannelConfig, type ChannelInfo, type ChannelKind, type ExecChunk, type ExitInfo, type PtyConfig, type StdinChunk, type StdinSource, type TerminalSize } from './types.js';

/**
 * A session channel as a duplex Subject: an `Observable<ExecChunk>` of its output and an
 * `Observer` of stdin. Get one from `Connection.exec()`, `shell()` or `subsystem()`.
 *
 * @remarks
 * - **Open**: the first subscriber opens the channel (queued behind the connection's channel
 *   limit) and sends the request; later subscribers share it (multicast). A subscription after
 *   the channel ended opens a new one, so `retry()` and `repeat()` rerun the command.
 * - **Send**: `next(chunk)` queues stdin up to `stdinLimit` bytes (then the channel is aborted
 *   with `StdinOverflowError`: nothing is ever dropped); `write(chunk)` returns an Observable
 *   that completes when ssh2 took the chunk within the SSH window, so
 *   `source$.pipe(concatMap((c) => ch.write(c)))` is backpressured. `complete()` sends EOF
 *   after the queued stdin.
 * - **Receive**: chunks tagged `stdout`/`stderr`; stderr is always drained, so it never stalls
 *   stdout (they share one window).
 * - **End**: completes after exit status, stdout end and stderr end were all seen, when the
 *   exit status is 0; otherwise `ExitStatusError` (unless `check: false`). A lost connection is
 *   `ConnectionLostError`, never a success.
 * - **Stop**: the last unsubscribe before exit sends `cancelSignal` (default TERM) — also after
 *   EOF — and closes the channel; the connection stays usable. `error(e)` does the same and
 *   errors subscribers with `e`.
 *
 * ```text
 * subscribe ─open─exec─▶ stdout… stderr… ──exit 0──|
 * next(x)   ─────────────▶ stdin x        complete() ─▶ EOF
 * unsubscribe ─▶ signal TERM ─▶ close
 * ```
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password } from 'rxssh';
 * import { switchMap } from 'rxjs';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   authenticate(password('secret')),
 *   switchMap((connection) => {
 *     const cat = connection.exec('cat');
 *     cat.next('hello\n');
 *     cat.complete();
 *     return cat;
 *   }),
 * ).subscribe((chunk) => console.log(chunk.stream, chunk.data.toString())); // stdout hello
 * ```
 */
export class ChannelSubject extends Observable<ExecChunk> implements Observer<StdinChunk> {
  readonly #session: ChannelPort;
  readonly #request: ChannelRequest;
  readonly #config: ChannelConfig;
  readonly #stdinLimit: number;
  #run: ChannelRun | undefined;

  /** Made by `Connection.exec`/`shell`/`subsystem` (and the operators), never by users. @internal */
  static override create(session: ChannelPort, request: ChannelRequest, config: ChannelConfig = {}): ChannelSubject {
    return new ChannelSubject(session, request, config);
  }

  private constructor(session: ChannelPort, request: ChannelRequest, config: ChannelConfig) {
    super((subscriber) => {
      const run = this.#current();
      run.refs++;
      const inner = run.output.subscribe(subscriber);
      if (run.state === 'idle') run.start();
      return () => {
        inner.unsubscribe();
        run.refs--;
        if (run.refs === 0 && run.state !== 'done') run.cancel();
      };
    });
    checkOptions(`Connection.${request.kind}()`, config, CHANNEL_NAMES);
    if (typeof config.pty === 'object' && config.pty !== null) checkPty(`Connection.${request.kind}(): pty`, config.pty);
    const limit = checkNumber('stdinLimit', config.stdinLimit ?? DEFAULT_STDIN_LIMIT, { min: 0, expected: 'a non-negative number of bytes' });
    if (config.idleTimeout !== undefined) checkNumber('idleTimeout', config.idleTimeout, MILLISECONDS);
    if (config.cancelSignal) normalizeSignal(config.cancelSignal);
    this.#session = session;
    this.#request = request;
    this.#config = config;
    this.#stdinLimit = limit;
  }

  /** The run a new subscription joins: a fresh one once the last has ended. */
  #current(): ChannelRun {
    if (!this.#run || this.#run.state === 'done') {
      this.#run = new ChannelRun(this.#session, this.#request, this.#config, this.#stdinLimit);
    }
    return this.#run;
  }

  /** The run stdin goes to: the latest one, even if it has ended (then writes fail). */
  #latest(): ChannelRun {
    this.#run ??= new ChannelRun(this.#session, this.#request, this.#config, this.#stdinLimit);
    return this.#run;
  }

  /** The command, subsystem name, or `''` for a shell. */
  get command(): string {
    return this.#request.command;
  }

  /** How the last run ended, once it has. */
  get exit(): ExitInfo | undefined {
    return this.#run?.exit;
  }

  /** Writes a stdin chunk (queued until the channel is open; bounded by `stdinLimit`). */
  next(chunk: StdinChunk): void {
    this.#latest().stdin.next(chunk);
  }

  /** Sends EOF once the queued stdin is written. */
  complete(): void {
    this.#latest().stdin.complete();
  }

  /** Aborts: signals the remote process, closes the channel, errors subscribers with `err`. */
  error(err: unknown): void {
    this.#run?.abort(err);
  }

  /**
   * Writes a chunk with backpressure: the returned Observable completes when ssh2 accepted it
   * within the SSH window (or after `'drain'`), and errors with `ChannelClosedError` if the
   * channel closed first. Subscribe to the channel before (or while) writing.
   */
  write(chunk: StdinChunk): Observable<void> {
    return new Observable<void>((subscriber) => this.#latest().stdin.write(chunk).subscribe(subscriber));
  }

  /**
   * Sends a signal to the remote process (works after EOF too). Returns false when the channel
   * is not open. Throws `TypeError` for an unknown signal name.
   */
  signal(name: string): boolean {
    return this.#run?.signal(name) ?? (normalizeSignal(name), false);
  }

  /** Tells the server the terminal size changed (pty channels). */
  resize(size: TerminalSize): void {
    checkNumber('resize(): rows', size?.rows, TERMINAL_DIMENSION);
    checkNumber('resize(): cols', size.cols, TERMINAL_DIMENSION);
    this.#run?.resize(size.rows, size.cols);
  }

  /**
   * Reads the output with real demand: the channel is read only as fast as the loop consumes
   * (at most ~1 MiB queued, then ssh2 stops opening the SSH window, so the server waits).
   * Ends like the Observable: after exit 0, or by throwing its error. Breaking out of the loop
   * unsubscribes (and so stops the remote command).
   *
   * @example
   * ```ts
   * for await (const chunk of connection.exec('cat big.log', { stdin: [] })) {
   *   await slowlyProcess(chunk.data);
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<ExecChunk> {
    const queue = new DemandQueue<ExecChunk>({
      size: (chunk) => chunk.data.length,
      highWater: ITERATOR_HIGH_WATER,
      lowWater: ITERATOR_LOW_WATER,
      pause: () => run.pause(),
      resume: () => run.resume(),
      stop: () => subscription.unsubscribe(),
    });
    const subscription = this.subscribe({
      next: (chunk) => queue.push(chunk),
      error: (error: unknown) => queue.fail(error),
      complete: () => queue.end(),
    });
    // The run this subscription joined (output, and so pause/resume, only come after this).
    const run = this.#run as ChannelRun;
    return queue;
  }

  /**
   * Writes the output into Node Writables with backpressure: while a Writable is full the
   * channel is paused (and with it the server). Stderr goes to `stderr` if given, else it is
   * read and discarded. The returned Observable completes or errors like the channel; the
   * Writables are not ended.
   *
   * @example
   * ```ts
   * connection.exec('tar cz /srv', { stdin: [] }).pipeTo(createWriteStream('srv.tgz'), process.stderr)
   *   .subscribe({ complete: () => console.log('saved') });
   * ```
   */
  pipeTo(stdout: NodeJS.WritableStream, stderr?: NodeJS.WritableStream): Observable<void> {
    return new Observable<void>((subscriber) => {
      const runs: { current: ChannelRun | undefined } = { current: undefined };
      const backpressure = new WritableBackpressure({ pause: () => runs.current?.pause(), resume: () => runs.current?.resume() });
      const subscription = this.subscribe({
        next: ({ stream, data }) => {
          const target = stream === 'stdout' ? stdout : stderr;
          if (target) backpressure.wrote(target, !target.write(data));
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      runs.current = this.#run;
      return () => {
        backpressure.release();
        subscription.unsubscribe();
      };
    });
  }
}

/** A pty config checked: its names, whole-number rows and columns, a string TERM. */
function checkPty(what: string, pty: PtyConfig): void {
  checkOptions(what, pty, PTY_NAMES);
  if (pty.rows !== undefined) checkNumber(`${what}.rows`, pty.rows, TERMINAL_DIMENSION);
  if (pty.cols !== undefined) checkNumber(`${what}.cols`, pty.cols, TERMINAL_DIMENSION);
  if (pty.term !== undefined && (typeof pty.term !== 'string' || pty.term === '')) throw new TypeError(`${what}.term must be a non-empty string (ssh2 sends vt100 for an empty one), got ${JSON.stringify(pty.term)}`);
}
