/**
 * The engine below the public stages: one Session per subscription of `connect()`, bridging one
 * ssh2 Client through the connection's lifecycle — the stream (`socket.ts`), the host-key gate
 * (`host-key-gate.ts`), user auth (`auth/userauth.ts`), then the established connection with
 * its channel books — with one deadline per phase and one way to fail. It reports plain data (a
 * host key, auth events, readiness, channel events) and imports no public stage: the operators
 * build `HostKeyOffer`, `Transport` and `Connection` around it.
 *
 * ```text
 * dns ─ tcp ─ banner ─ kex ─ host-key ─ kex ─ auth ─ connection ──── (end | lost)
 *  connect deadline │ handshake deadline │        │ auth deadline │  no deadline
 * ```
 */
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { noop, ReplaySubject, Subject, type Observable, type Subscription } from 'rxjs';
import { ssh2Incompatibility, strictKexNegotiated, Client, type Ssh2ConnectConfig } from '../ssh2/index.js';
import { clientConfig, installGuards, listenToClient } from './ssh2-client.js';
import { ConnectionLostError, ProtocolError, Ssh2CompatibilityError, SshError, TimeoutError, type SshPhase } from '../errors.js';
import type { AuthEvent, HostKeyInfo } from './transport.js';
import { fromSsh2Error } from '../ssh2/errors-map.js';
import { Semaphore } from '../util/semaphore.js';
import { UserAuth, type CredentialSource } from '../auth/userauth.js';
import { SignatureChoice, screenMethod } from '../auth/signature-algorithms.js';
import { HostKeyGate } from './host-key-gate.js';
import { watchRekeyLimit } from './rekey-limit.js';
import { guardBanner, type Hop, type StreamPlan } from './socket.js';
import { openStream } from './stream.js';
import { proxyCommandFailure, type ProxyExit } from './proxy-command.js';
import { endGracefully } from './session-end.js';
import { PhaseDeadline } from './phase-deadline.js';
import type { ChannelEventData, SessionSettings, SessionSink } from './session-settings.js';

export type { CredentialSource, Hop };
export type { ChannelEventData, SessionSettings, SessionSink } from './session-settings.js';

export class Session {
  phase: SshPhase;
  readonly client = new Client();
  readonly limiter: Semaphore;
  readonly channelEvents = new Subject<ChannelEventData>();
  /** Emits once authentication succeeded. */
  readonly ready$ = new ReplaySubject<true>(1);
  /** Where a channel's run hears of a protocol fault on its channel. */
  readonly channelFaults = new WeakMap<object, (error: SshError) => void>();
  /** When a channel of this connection last closed (ms since the epoch). */
  lastChannelClosedAt = 0;
  /** True once the socket closed (the connection is gone). */
  lost = false;
  /** Why the connection was ended, when rxssh ended it (a rejected re-key, a dead peer, …). */
  failure: SshError | undefined;
  /** How the server is reached when not directly (`jump host HOST:PORT`), named in loss errors. */
  route: string | undefined;
  /** Set by the verify stage when the accepted key may bring the host's other keys (`UpdateHostKeys`). */
  learnHostKeys: ((keys: Buffer[]) => void) | undefined;

  readonly #settings: SessionSettings;
  readonly #sink: SessionSink;
  readonly #auth: UserAuth;
  readonly #signatures: SignatureChoice;
  readonly #gate: HostKeyGate;
  readonly #lostListeners = new Set<() => void>();
  #socket: Duplex | undefined;
  #via: Subscription | undefined;
  readonly #deadline = new PhaseDeadline((ms) => this.#fail(new TimeoutError(ms, { host: this.host, port: this.port, phase: this.phase })));
  #established = false;
  #finished = false;
  #channelSeq = 0;
  #knownHostKeyTypes: readonly string[] = [];

  constructor(settings: SessionSettings, sink: SessionSink) {
    this.#settings = settings;
    this.#sink = sink;
    this.phase = isIP(settings.host) === 0 ? 'dns' : 'tcp';
    this.limiter = new Semaphore(settings.maxChannels);
    // What the user-auth loop and the host-key gate see of the session.
    const common = { host: settings.host, port: settings.port, isFinished: (): boolean => this.#finished, fail: (error: SshError): void => this.#fail(error) };
    const signatures = (this.#signatures = new SignatureChoice(settings.pubkeyAlgorithms));
    this.#auth = new UserAuth({
      ...common,
      username: settings.username,
      screen: (method) => screenMethod(method, signatures),
      enterAuth: () => {
        if (this.phase === 'auth') return;
        this.phase = 'auth';
        this.#deadline.arm(settings.timeouts.auth);
      },
    });
    this.#gate = new HostKeyGate({
      ...common,
      client: this.client,
      setPhase: (phase) => void (this.phase = phase),
      offer: (key) => this.#sink.hostKey(key),
      requiredRsaSize: settings.requiredRsaSize,
      address: () => (this.route === undefined /* no jump host, no ProxyCommand */ ? (this.#socket as { remoteAddress?: string } | undefined)?.remoteAddress : undefined),
    });
  }

  get host(): string {
    return this.#settings.host;
  }

  get port(): number {
    return this.#settings.port;
  }

  get username(): string {
    return this.#settings.username;
  }

  get channelOpenTimeout(): number {
    return this.#settings.timeouts.channelOpen;
  }

  /** Environment variables for every session channel, before the channel's own. */
  get env(): Readonly<Record<string, string>> | undefined {
    return this.#settings.env;
  }

  get sftpRequestTimeout(): number {
    return this.#settings.timeouts.sftpRequest;
  }

  /** The key the server offered (what the verify stage judges). */
  get hostKey(): HostKeyInfo | undefined {
    return this.#gate.hostKey;
  }

  /** Authentication events as they happen, replayed to late subscribers. */
  get auth$(): Observable<AuthEvent> {
    return this.#auth.events$;
  }

  /** Every authentication event so far. */
  get authEvents(): readonly AuthEvent[] {
    return this.#auth.events;
  }

  /** True once the connection is gone or being ended: no new channels. */
  get closed(): boolean {
    return this.lost || (this.#finished && this.#established);
  }

  nextChannelId(): number {
    return ++this.#channelSeq;
  }

  /** Calls `listener` once when the connection is lost; returns a function that unregisters it. */
  onLost(listener: () => void): () => void {
    if (this.lost) {
      listener();
      return noop;
    }
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /**
   * Starts the connection. `knownTypes` (from a known_hosts policy) are the host-key types
   * already known for the host: the key exchange asks for them first, as OpenSSH does.
   */
  start(knownTypes?: Promise<readonly string[]>): void {
    this.#deadline.arm(this.#settings.timeouts.connect);
    if (!knownTypes) {
      this.#begin();
      return;
    }
    const go = (types: readonly string[]): void => {
      if (this.#finished) return;
      this.#knownHostKeyTypes = types;
      this.#begin();
    };
    knownTypes.then(go, () => go([]));
  }

  /** Answers ssh2's host verifier. `error` is what the pipeline fails with on reject. */
  answerHostKey(ok: boolean, error?: SshError): void {
    this.#gate.answer(ok, error);
  }

  /** Installs the credential providers; ssh2 may already be waiting for the first one. */
  startAuth(providers: readonly CredentialSource[]): void {
    this.#auth.start(providers);
  }

  /** Ends the connection: graceful when established, abrupt otherwise. Idempotent. */
  end(): void {
    const wasFinished = this.#finished;
    this.#finished = true;
    this.#deadline.clear();
    this.#gate.stop();
    if (!wasFinished) this.#auth.stop();
    this.ready$.complete();
    this.channelEvents.complete();
    const socket = this.#socket;
    const dropVia = (): void => this.#via?.unsubscribe();
    if (!socket || socket.destroyed) return dropVia();
    if (!this.#established || this.lost) {
      socket.destroy();
      socket.once('close', dropVia);
      return;
    }
    endGracefully({ client: this.client, socket, limiter: this.limiter, throughHop: this.#via !== undefined && !this.#settings.proxy, dropVia });
  }

  /** The stream: a TCP socket, a jump host's channel or a ProxyCommand's stdio. */
  #begin(): void {
    const s = this.#settings;
    const plan: StreamPlan = {
      host: s.host,
      port: s.port,
      localAddress: s.localAddress,
      family: s.family,
      tcpKeepAlive: s.tcpKeepAlive,
      onLookup: () => {
        if (this.phase === 'dns') this.phase = 'tcp';
      },
      onConnected: () => {
        this.phase = 'banner';
        this.#deadline.arm(s.timeouts.handshake);
      },
    };
    this.#via = openStream(s, plan, {
      route: (route) => {
        this.route = route;
      },
      stream: (stream, detach) => this.#startSsh(stream, detach),
      error: (err) => this.#fail(err instanceof SshError ? err : fromSsh2Error(err, this.#errorState())),
      hopClosed: (which) => {
        if (!this.lost) this.#fail(new ConnectionLostError(`The connection to jump host${which} closed`, { host: s.host, port: s.port, phase: this.phase }));
      },
      proxyEnded: (command, exit) => this.#proxyEnded(command, exit),
    });
    // A hop or command that failed while it was being subscribed to ended the session before #via was set.
    if (this.#finished) this.#via?.unsubscribe();
  }

  /** The ProxyCommand ended by itself: the connection's failure, unless it was a clean end. */
  #proxyEnded(command: string, exit: ProxyExit): void {
    if (this.#finished) return;
    const error = proxyCommandFailure(command, exit, this.phase, { host: this.host, port: this.port });
    if (error) this.#fail(error);
  }

  /** ssh2's client config: our deadlines, our host verifier and auth handler, known host-key types first. */
  #clientConfig(socket: Duplex): Ssh2ConnectConfig {
    return clientConfig(socket, this.#settings, this.#knownHostKeyTypes, {
      hostKey: (key, verify) => this.#gate.onKey(key, verify),
      authAsks: (methodsLeft, partialSuccess, next) => this.#auth.onServerAsks(methodsLeft, partialSuccess, next),
    });
  }

  /** The client's events, as this session's calls; returns the detach. */
  #listenToClient(): () => void {
    return listenToClient(this.client, {
      error: (err) => this.#onSsh2Error(err),
      close: () => this.#onClose(),
      ready: () => this.#onReady(),
      banner: (message) => this.#auth.report({ type: 'banner', message }),
      handshake: () => {
        // Decided from the protocol state, never from text: ssh2's debug output also carries the
        // server's own identification string, which a server chooses freely.
        if (this.#settings.requireStrictKex && strictKexNegotiated(this.client) !== true) {
          this.#fail(new ProtocolError('The server does not support strict key exchange (required: Terrapin, CVE-2023-48795)', { host: this.host, port: this.port, phase: 'kex' }));
        }
      },
      hostKeys: (keys) => this.learnHostKeys?.(keys),
    });
  }

  /** The guards of lib/ssh2/ on this client: all in place, or false (nothing may run then). */
  #guard(): boolean {
    return installGuards(this.client, {
      knownHostKeyTypes: this.#knownHostKeyTypes,
      learning: () => this.learnHostKeys !== undefined,
      signatures: this.#signatures,
      channelFault: (channel, what) => {
        const error = new ProtocolError(`The server sent ${what}`, { host: this.host, port: this.port, phase: 'exec' });
        const fault = this.channelFaults.get(channel);
        if (fault) fault(error);
        else this.#fail(error);
      },
    });
  }

  /** Runs ssh2 over a connected (or connecting) stream. */
  #startSsh(socket: Duplex, detachExtra: () => void): void {
    this.#socket = socket;
    // A persistent listener: ssh2 adds its own, but a late error after ssh2 let go of the
    // socket must never become an unhandled 'error' event.
    socket.on('error', noop);
    const incompatible = ssh2Incompatibility();
    if (incompatible !== undefined) return this.#fail(new Ssh2CompatibilityError(incompatible, { host: this.host, port: this.port, phase: this.phase }));
    const detachClient = this.#listenToClient();
    try {
      this.client.connect(this.#clientConfig(socket));
    } catch (err) {
      this.#fail(fromSsh2Error(err, this.#errorState()));
      return;
    }
    if (!this.#guard()) {
      this.#fail(new Ssh2CompatibilityError("ssh2's internals are not shaped as rxssh expects (a live client lacks the handlers its guards wrap)", { host: this.host, port: this.port, phase: this.phase }));
      return;
    }
    const limit = this.#settings.rekeyLimit;
    const detachRekey = limit ? watchRekeyLimit(socket, this.client, limit, () => this.#fail(new Ssh2CompatibilityError('ssh2 cannot be asked for a key exchange (RekeyLimit)', { host: this.host, port: this.port, phase: this.phase }))) : noop;
    // Attached after ssh2 paused the socket, so it does not switch it to flowing mode early.
    const detachBanner = guardBanner(
      socket,
      () => {
        if (this.phase === 'banner') this.phase = 'kex';
      },
      (message) => this.#fail(new ProtocolError(message, { host: this.host, port: this.port, phase: 'banner' })),
    );
    // Once the socket is gone, remove what we added (registered after ssh2's own socket
    // 'close' listener, which emits the client's 'close' first).
    socket.once('close', () => {
      detachExtra();
      detachBanner();
      detachRekey();
      detachClient();
    });
  }

  #errorState() {
    return {
      host: this.host,
      port: this.port,
      phase: this.phase,
      methodsTried: [...this.#auth.methodsTried],
      methodsLeft: this.#auth.methodsLeft ? [...this.#auth.methodsLeft] : null,
      keepaliveMs: this.#settings.keepaliveInterval * (this.#settings.keepaliveCountMax + 1),
    };
  }

  #fail(error: SshError): void {
    if (this.#finished) return;
    this.#finished = true;
    this.failure = error;
    this.#deadline.clear();
    this.#auth.stop(error);
    this.#socket?.destroy();
    this.#via?.unsubscribe();
    this.#sink.error(error);
  }

  #onSsh2Error(err: unknown): void {
    if (this.#finished) return; // late errors after the end are expected and ignored
    if ((err as { level?: unknown }).level === 'agent') {
      // ssh2 goes on with the next key or method by itself, as ssh does when its agent fails.
      this.#auth.report({ type: 'skipped', provider: 'agent', reason: 'agent-error', detail: (err as Error).message });
      return;
    }
    this.#fail(this.#gate.rejection ?? this.#auth.failure ?? fromSsh2Error(err, this.#errorState()));
  }

  #onReady(): void {
    if (this.#finished) return;
    this.#deadline.clear();
    this.phase = 'connection';
    this.#auth.accepted();
    this.#established = true;
    this.ready$.next(true);
  }

  #onClose(): void {
    this.lost = true;
    this.#deadline.clear();
    for (const listener of [...this.#lostListeners]) listener();
    this.#lostListeners.clear();
    if (this.#finished) return;
    if (this.#established) {
      this.#finished = true;
      this.#sink.close();
      return;
    }
    this.#fail(this.#gate.rejection ?? this.#auth.failure ?? new ConnectionLostError('Connection closed before the handshake completed', { host: this.host, port: this.port, phase: this.phase }));
  }
}
