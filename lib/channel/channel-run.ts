/**
 * One opening of a channel (behind `ChannelSubject`): the open, stdin with demand, output to
 * the subscribers (paused when they are slow), the exit, and the close or cancel.
 */
import { noop, Subject, type Subscription } from 'rxjs';
import { closeOnlyWhenServerCloses, sendSignal, serverEnded, type ClientChannel, type PseudoTtyOptions } from '../ssh2/index.js';
import { ChannelClosedError, ExitStatusError, Ssh2CompatibilityError, type SshError, StdinOverflowError, TimeoutError, type SshPhase } from '../errors.js';
import { ChannelStdin, StreamTail } from './stdin.js';
import { channelOpenFailure, connectionClosed, connectionLost } from '../ssh2/errors-map.js';
import { closeQuietly, openChannel, type ChannelPort } from '../connection/channel-open.js';
import type { Release } from '../util/semaphore.js';
import { type ExecChunk, type ExitInfo, type ChannelInfo, type ChannelConfig, type ChannelRequest, normalizeSignal } from './types.js';

export const DEFAULT_STDIN_LIMIT = 16 * 1024 * 1024;
export const STDERR_TAIL = 4096;
export const ITERATOR_HIGH_WATER = 1024 * 1024;
export const ITERATOR_LOW_WATER = 256 * 1024;

/** One opening of the channel: created on first subscribe, done when it closes. */
export class ChannelRun {
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
    if (this.config.flow) this.#detach.push(this.config.flow.attach(this));
    const { kind, command } = this.request;
    const { pty } = this.config;
    // The connection's environment (ssh_config SetEnv/SendEnv) first, the channel's own over it.
    const env = this.session.env || this.config.env ? { ...this.session.env, ...this.config.env } : undefined;
    const ptyOptions: PseudoTtyOptions | undefined =
      // Pixel sizes 0 (unknown), as ssh sends them for a terminal that does not report its own (ssh2's default is 640x480).
      pty === true ? { width: 0, height: 0 } : pty ? { width: 0, height: 0, ...(pty.rows !== undefined ? { rows: pty.rows } : {}), ...(pty.cols !== undefined ? { cols: pty.cols } : {}), ...(pty.term !== undefined ? { term: pty.term } : {}) } : undefined;
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

  // eslint-disable-next-line max-lines-per-function -- Long by design: every listener of one channel (output, exit, EOF, close, errors), each a few lines, added in one place.
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
      this.output.next({ type: 'chunk', stream: 'stdout', data });
    };
    const onStderr = (data: Buffer): void => {
      idle?.refresh();
      this.#stderrTail.keep(data);
      this.output.next({ type: 'chunk', stream: 'stderr', data });
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
      this.output.error(connectionLost(failure, `Connection lost while ${JSON.stringify(this.request.command)} ran`, this.#context('exec', failure), this.session.route));
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
