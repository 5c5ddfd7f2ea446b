/**
 * A session channel (exec, shell or subsystem) as a duplex Subject, after rxjs's
 * `webSocket()`: subscribing opens it, `next()` writes stdin, `complete()` sends EOF, output
 * chunks arrive tagged stdout/stderr, a clean end completes and the last unsubscribe stops the
 * remote process and closes the channel.
 *
 * @module
 */
import { noop, Observable, Subject, type Subscription, type NextObserver, type ObservableInput, type Observer } from 'rxjs';
import { closeOnlyWhenServerCloses, sendSignal, serverEnded, type ClientChannel, type PseudoTtyOptions } from '../ssh2/index.js';
import { ChannelClosedError, ExitStatusError, Ssh2CompatibilityError, type SshError, StdinOverflowError, TimeoutError, type SshPhase } from '../errors.js';
import { DemandQueue } from '../util/demand-queue.js';
import { ChannelStdin, StreamTail } from './stdin.js';
import { channelOpenFailure, connectionClosed, connectionLost } from '../ssh2/errors-map.js';
import { closeQuietly, openChannel, type ChannelPort } from '../connection/channel-open.js';
import type { Release } from '../util/semaphore.js';
import { checkNumber, MILLISECONDS } from '../util/check.js';

/**
 * One piece of a channel's output, tagged with the stream it came from.
 *
 * @example
 * ```ts
 * connection.exec('ls').subscribe((chunk) => (chunk.stream === 'stdout' ? process.stdout : process.stderr).write(chunk.data));
 * ```
 */
export interface ExecChunk {
  /** `stdout` (channel data) or `stderr` (extended data). */
  readonly stream: 'stdout' | 'stderr';
  /** The bytes, as received (never copied). */
  readonly data: Buffer;
}

/**
 * How a channel's command ended. Both fields `null` means the server never said.
 *
 * @example
 * ```ts
 * connection.exec('make', { closeObserver: { next: (e) => console.log(e.exitCode, e.signal) } }).subscribe();
 * ```
 */
export interface ExitInfo {
  /** The exit status, or `null` (killed by a signal, or not reported). */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or `null`. */
  readonly signal: string | null;
}

/**
 * What `openObserver` receives when a channel is open and its request accepted.
 *
 * @example
 * ```ts
 * connection.exec('uptime', { openObserver: { next: (info) => console.log(`channel ${info.id} open`) } }).subscribe();
 * ```
 */
export interface ChannelInfo {
  /** A per-connection sequence number. */
  readonly id: number;
  /** `exec`, `shell` or `subsystem`. */
  readonly kind: ChannelKind;
  /** The command (exec), subsystem name, or `''` for a shell. */
  readonly command: string;
}

/**
 * The kinds of session channel.
 *
 * @example
 * ```ts
 * connection.channel$.subscribe((e) => e.type === 'open' && e.kind === 'subsystem' && console.log('SFTP or another subsystem'));
 * ```
 */
export type ChannelKind = 'exec' | 'shell' | 'subsystem';

/**
 * Pseudo-terminal settings.
 *
 * @example
 * ```ts
 * connection.shell({ pty: { rows: 40, cols: 120, term: 'xterm-256color' } }).subscribe((c) => process.stdout.write(c.data));
 * ```
 */
export interface PtyConfig {
  /** Rows (default 24). */
  readonly rows?: number;
  /** Columns (default 80). */
  readonly cols?: number;
  /** The TERM value (default `vt100`). */
  readonly term?: string;
}

/**
 * What may be written to stdin.
 *
 * @example
 * ```ts
 * const line: StdinChunk = 'hello\n';
 * connection.exec('cat').next(line);
 * ```
 */
export type StdinChunk = string | Uint8Array;

/**
 * A stdin source, consumed with backpressure (pull for iterables and streams).
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 *
 * connection.exec('sha256sum', { stdin: createReadStream('./big.iso') }).subscribe((c) => process.stdout.write(c.data));
 * ```
 */
export type StdinSource =
  | ObservableInput<StdinChunk>
  | Iterable<StdinChunk>
  | AsyncIterable<StdinChunk>
  | NodeJS.ReadableStream;

/**
 * Options of a session channel.
 *
 * @example
 * ```ts
 * import type { ChannelConfig } from 'rxssh';
 *
 * const config: ChannelConfig = { env: { LANG: 'C' }, check: false, cancelSignal: 'INT' };
 * ```
 */
export interface ChannelConfig {
  /** Environment variables to request (sshd accepts only those in its `AcceptEnv`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Allocate a pseudo-terminal. */
  readonly pty?: boolean | PtyConfig;
  /**
   * Stdin to send, consumed with backpressure; EOF follows when it ends. Without it, use
   * `next()`/`write()` and `complete()` on the Subject.
   */
  readonly stdin?: StdinSource;
  /**
   * When true (the default) a non-zero exit, a signal or a missing exit status errors with
   * `ExitStatusError`; when false the output completes and the exit is reported to
   * `closeObserver`.
   */
  readonly check?: boolean;
  /**
   * The signal sent to the remote process when the last subscriber leaves before it exits
   * (default `TERM`); `null` only closes the channel (sshd then leaves a non-pty process running).
   */
  readonly cancelSignal?: string | null;
  /** The most bytes `next()` may queue before the channel is aborted (default 16 MiB). */
  readonly stdinLimit?: number;
  /**
   * Inactivity deadline in milliseconds (default 0 = none): when the server sends nothing on the
   * open channel (no output on either stream) for this long, the remote command is signalled
   * (`cancelSignal`) and the channel ends with `TimeoutError` (phase `exec`). A server that
   * stalls a channel then never leaves it waiting without an end.
   */
  readonly idleTimeout?: number;
  /** Told when the channel is open and its request accepted. */
  readonly openObserver?: NextObserver<ChannelInfo>;
  /** Told how the command ended, just before the output completes or errors. */
  readonly closeObserver?: NextObserver<ExitInfo>;
}

/**
 * Signal names RFC 4254 defines (without `SIG`).
 *
 * @example
 * ```ts
 * import { SIGNALS } from 'rxssh';
 *
 * SIGNALS.includes('TERM'); // true
 * ```
 */
export const SIGNALS: readonly string[] = ['ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2'];

/** What a channel asks the server for. @internal */
export interface ChannelRequest {
  readonly kind: ChannelKind;
  readonly command: string;
}

const DEFAULT_STDIN_LIMIT = 16 * 1024 * 1024;
const STDERR_TAIL = 4096;
const ITERATOR_HIGH_WATER = 1024 * 1024;
const ITERATOR_LOW_WATER = 256 * 1024;

/**
 * Normalizes a signal name (`SIGTERM`, `term` → `TERM`); throws TypeError on an unknown one.
 *
 * @example
 * ```ts
 * import { normalizeSignal } from 'rxssh';
 *
 * normalizeSignal('SIGTERM'); // 'TERM'
 * ```
 */
export function normalizeSignal(name: string): string {
  const upper = String(name).toUpperCase().replace(/^SIG/, '');
  if (!SIGNALS.includes(upper)) throw new TypeError(`Unknown signal ${JSON.stringify(name)}; one of ${SIGNALS.join(', ')}`);
  return upper;
}

/** One opening of the channel: created on first subscribe, done when it closes. */
class ChannelRun {
  readonly output = new Subject<ExecChunk>();
  refs = 0;
  state: 'idle' | 'opening' | 'open' | 'done' = 'idle';
  chan: ClientChannel | undefined;
  exit: ExitInfo | undefined;
  readonly stdin: ChannelStdin;
  /** The slot of the connection's channel limit, once open (freed when the channel closed). */
  #release: Release | undefined;
  #opening: Subscription | undefined;
  #unLost: (() => void) | undefined;
  #closed = false;
  #cutShort = false;
  #stderrEnded = false;
  readonly #stderrTail = new StreamTail(STDERR_TAIL);
  #detach: Array<() => void> = [];
  #pauses = 0;
  readonly #id: number;

  constructor(
    readonly session: ChannelPort,
    readonly request: ChannelRequest,
    readonly config: ChannelConfig,
    readonly stdinLimit: number,
  ) {
    this.#id = session.nextChannelId();
    this.stdin = new ChannelStdin(
      {
        channel: () => (this.state === 'open' ? this.chan : undefined),
        done: () => this.state === 'done',
        overflow: () => this.#abort(new StdinOverflowError(this.stdinLimit, this.#context('exec')), 'TERM'),
        fail: (err) => this.abort(err),
        closedError: () => new ChannelClosedError('Channel is closed', this.#context('exec')),
      },
      stdinLimit,
    );
  }

  #context(phase: SshPhase, cause?: unknown) {
    return { host: this.session.host, port: this.session.port, phase, ...(cause === undefined ? {} : { cause }) };
  }

  get info(): ChannelInfo {
    return { id: this.#id, kind: this.request.kind, command: this.request.command };
  }

  start(): void {
    this.state = 'opening';
    if (this.session.closed) {
      this.#fail(connectionClosed(this.#context('channel')));
      return;
    }
    this.#unLost = this.session.onLost(() => {
      // Lost before the server ended its output: whatever exit status was seen, bytes are missing.
      // (Lost while opening is the opener's to report.)
      if (this.state === 'open' && this.chan && !serverEnded(this.chan)) this.#cutShort = true;
    });
    if (this.config.stdin !== undefined) this.stdin.pump(this.config.stdin);
    const { kind, command } = this.request;
    const { pty } = this.config;
    // The connection's environment (ssh_config SetEnv/SendEnv) first, the channel's own over it.
    const env = this.session.env || this.config.env ? { ...this.session.env, ...this.config.env } : undefined;
    const ptyOptions: PseudoTtyOptions | undefined =
      pty === true ? {} : pty ? { ...(pty.rows ? { rows: pty.rows } : {}), ...(pty.cols ? { cols: pty.cols } : {}), ...(pty.term ? { term: pty.term } : {}) } : undefined;
    this.#opening = openChannel<ClientChannel>(this.session, {
      phase: 'channel',
      retryTransient: true,
      send: (done) => {
        const client = this.session.client;
        if (kind === 'exec') client.exec(command, { ...(env ? { env: { ...env } } : {}), ...(ptyOptions ? { pty: ptyOptions } : {}) }, done);
        else if (kind === 'shell') client.shell(ptyOptions ?? false, env ? { env: { ...env } } : {}, done);
        else client.subsys(command, done);
      },
      refused: (err) => channelOpenFailure(`Cannot open ${kind} channel`, err, this.#context('channel', err)),
      discard: (chan, closed) => {
        // The command may already run: stop it as a cancel would.
        const signal = this.#cancelSignal();
        if (signal) sendSignal(chan, signal);
        closeQuietly(chan, closed);
      },
    }).subscribe({
      next: ({ channel, release }) => {
        this.#release = release;
        this.#wire(channel);
      },
      error: (error: SshError) => this.#fail(error),
    });
  }

  #wire(chan: ClientChannel): void {
    this.chan = chan;
    chan.on('error', noop); // persistent: ssh2 may emit more than once
    chan.stderr.on('error', noop);
    if (!closeOnlyWhenServerCloses(chan)) {
      // Without it, an exit status that follows the server's EOF can be lost: refuse loudly.
      const why = "ssh2's channel streams are not shaped as rxssh expects (no autoDestroy state): an exit status could be lost";
      this.#abort(new Ssh2CompatibilityError(why, this.#context('channel')), this.#cancelSignal());
      return;
    }
    this.state = 'open';
    this.session.channelFaults.set(chan, (error) => this.#abort(error, this.#cancelSignal()));
    const idleMs = this.config.idleTimeout ?? 0;
    const idle =
      idleMs > 0
        ? setTimeout(() => this.#abort(new TimeoutError(idleMs, this.#context('exec')), this.#cancelSignal()), idleMs)
        : undefined;
    if (idle) this.#detach.push(() => clearTimeout(idle));
    const onStdout = (data: Buffer): void => {
      idle?.refresh();
      this.output.next({ stream: 'stdout', data });
    };
    const onStderr = (data: Buffer): void => {
      idle?.refresh();
      this.#stderrTail.keep(data);
      this.output.next({ stream: 'stderr', data });
    };
    const onExit = (code: number | null | undefined, signal?: string): void => {
      this.exit = {
        exitCode: typeof code === 'number' ? code : null,
        signal: typeof signal === 'string' ? signal.replace(/^SIG/, '') : null,
      };
    };
    const onStderrEnd = (): void => {
      this.#stderrEnded = true;
      this.#maybeFinish();
    };
    const onClose = (): void => {
      this.#closed = true;
      this.#maybeFinish();
    };
    const onDrain = (): void => this.stdin.drained();
    chan.on('data', onStdout);
    chan.stderr.on('data', onStderr);
    chan.on('exit', onExit);
    chan.stderr.once('end', onStderrEnd);
    chan.once('close', onClose);
    chan.on('drain', onDrain);
    this.#detach.push(() => {
      chan.off('data', onStdout);
      chan.stderr.off('data', onStderr);
      chan.off('exit', onExit);
      chan.stderr.off('end', onStderrEnd);
      chan.off('close', onClose);
      chan.off('drain', onDrain);
    });
    if (this.#pauses > 0) {
      // A consumer asked for less before the channel opened ('data' listeners resume streams).
      chan.pause();
      chan.stderr.pause();
    }
    this.session.channelEvents.next({ type: 'open', ...this.info });
    this.config.openObserver?.next(this.info);
    this.stdin.opened(chan);
  }

  #maybeFinish(): void {
    if (!this.#closed || !this.#stderrEnded || this.state !== 'open') return;
    const exit = this.exit ?? { exitCode: null, signal: null };
    this.#done(exit);
    this.config.closeObserver?.next(exit);
    if (this.#cutShort || (!this.exit && this.session.lost)) {
      const failure = this.session.failure;
      this.output.error(connectionLost(failure, `Connection lost while ${JSON.stringify(this.request.command)} ran`, this.#context('exec', failure)));
      return;
    }
    if (this.config.check !== false && exit.exitCode !== 0) {
      const tail = this.#stderrTail.text();
      this.output.error(new ExitStatusError(this.request.command, exit.exitCode, exit.signal, tail, this.#context('exec')));
      return;
    }
    this.output.complete();
  }

  /** Marks the run finished and frees everything except what waits for the channel's close. */
  #done(exit: ExitInfo | undefined): void {
    this.state = 'done';
    this.#opening?.unsubscribe(); // while opening: a channel the server confirms later is closed
    this.stdin.ended();
    this.#unLost?.();
    for (const detach of this.#detach.splice(0)) detach();
    if (this.chan) {
      this.session.channelEvents.next({ type: 'close', ...this.info, exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null });
    }
    if (!this.chan) return;
    if (this.#closed) this.#releaseSlot();
    else closeQuietly(this.chan, () => this.#releaseSlot());
  }

  #releaseSlot(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  #fail(error: SshError): void {
    if (this.state === 'done') return;
    this.#done(undefined);
    this.output.error(error);
  }

  /** Stops the remote process (signal first) and closes the channel; errors the output if given. */
  #abort(error: SshError | Error | undefined, signal: string | null): void {
    if (this.state === 'done') return;
    const chan = this.chan;
    if (chan && signal && !this.exit) sendSignal(chan, signal);
    this.#done(undefined);
    if (error) this.output.error(error);
  }

  #cancelSignal(): string | null {
    const signal = this.config.cancelSignal === undefined ? 'TERM' : this.config.cancelSignal;
    return signal === null ? null : normalizeSignal(signal);
  }

  /** The last subscriber left. */
  cancel(): void {
    this.#abort(undefined, this.#cancelSignal());
  }

  abort(error: unknown): void {
    this.#abort(error instanceof Error ? error : new Error(String(error)), this.#cancelSignal());
  }

  signal(name: string): boolean {
    const signal = normalizeSignal(name);
    return this.state === 'open' && this.chan !== undefined && sendSignal(this.chan, signal);
  }

  /** Stops reading the channel (ref-counted): ssh2 then stops opening the SSH window. */
  pause(): void {
    if (this.#pauses++ === 0 && this.state === 'open') {
      this.chan?.pause();
      this.chan?.stderr.pause();
    }
  }

  /** Undoes one `pause()`. */
  resume(): void {
    if (this.#pauses === 0) return;
    if (--this.#pauses === 0 && this.chan) {
      this.chan.resume();
      this.chan.stderr.resume();
    }
  }

  resize(rows: number, cols: number): void {
    if (this.state === 'open') this.chan?.setWindow(rows, cols, 0, 0);
  }
}

/** A terminal's size in character cells. */
export interface TerminalSize {
  /** Lines. */
  readonly rows: number;
  /** Columns. */
  readonly cols: number;
}

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
      const waiting = new Set<NodeJS.WritableStream>();
      const onDrain = (target: NodeJS.WritableStream) => (): void => {
        if (waiting.delete(target)) runs.current?.resume();
      };
      const drains = new Map([stdout, ...(stderr ? [stderr] : [])].map((w) => [w, onDrain(w)] as const));
      const subscription = this.subscribe({
        next: ({ stream, data }) => {
          const target = stream === 'stdout' ? stdout : stderr;
          if (!target) return;
          if (!target.write(data) && !waiting.has(target)) {
            waiting.add(target);
            runs.current?.pause();
            target.once('drain', drains.get(target) ?? noop);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      runs.current = this.#run;
      return () => {
        for (const [target, listener] of drains) target.removeListener('drain', listener);
        for (let i = waiting.size; i > 0; i--) runs.current?.resume();
        waiting.clear();
        subscription.unsubscribe();
      };
    });
  }
}
