/**
 * The engine below the public stages: one Session per subscription of `connect()`, bridging one
 * ssh2 Client. It owns the socket, the phase deadlines, the host-key answer, the auth handler
 * and the per-connection channel limiter; everything ssh2 emits goes through here. It reports
 * plain data (a host key, auth events, readiness, channel events) and imports no public stage:
 * the operators build `HostKeyOffer`, `Transport` and `Connection` around it.
 */
import { isIP, Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { noop, ReplaySubject, Subject, take, type Observable, type Subscription } from 'rxjs';
import { acceptCertificateSignature, guardChannelOpens, offerHostCertificates, orderHostKeyAlgorithms, policeChannels, signalsReachable, signPublicKeyAtOnce, skipHostKeyProofs, ssh2Incompatibility, strictKexNegotiated, Client, type AnyAuthMethod, type AuthenticationType, type Ssh2ConnectConfig } from '../ssh2/index.js';
import { slabReads } from './socket-reads.js';
import { AuthenticationError, ConnectError, ConnectionLostError, HostKeyRejectedError, ProtocolError, Ssh2CompatibilityError, SshError, TimeoutError, type SshPhase } from '../errors.js';
import { describeHostKey } from './host-key-info.js';
import type { AuthEvent, CertificateSummary, HostKeyInfo } from './transport.js';
import { certificateOf, parseCertificate, type ParsedCertificate } from '../auth/certificate.js';
import { keyTypeOf } from '../util/key-blob.js';
import { fromSsh2Error } from '../ssh2/errors-map.js';
import { Semaphore } from '../util/semaphore.js';

/** What the session needs of a credential provider (an `AuthProvider` fits). */
export interface CredentialSource {
  readonly method: string;
  readonly label: string;
  readonly credential: (context: {
    readonly username: string;
    readonly host: string;
    readonly port: number;
    readonly report: (event: AuthEvent) => void;
    readonly signal: AbortSignal;
  }) => Observable<AnyAuthMethod>;
}

/** A jump host as the session uses it (a `Connection` fits): where it is, and a channel through it. */
export interface Hop {
  readonly host: string;
  readonly port: number;
  forwardOut(host: string, port: number): Observable<Duplex>;
}

/** A channel event as the session relays it (the public `ChannelEvent` has this shape). */
export type ChannelEventData =
  | { readonly type: 'open'; readonly id: number; readonly kind: 'exec' | 'shell' | 'subsystem'; readonly command: string }
  | { readonly type: 'close'; readonly id: number; readonly kind: 'exec' | 'shell' | 'subsystem'; readonly command: string; readonly exitCode: number | null; readonly signal: string | null };

/** Resolved, validated settings of one connection. */
export interface SessionSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly localAddress: string | undefined;
  readonly timeouts: {
    readonly connect: number;
    readonly handshake: number;
    readonly auth: number;
    readonly channelOpen: number;
    readonly sftpRequest: number;
  };
  readonly keepaliveInterval: number;
  readonly keepaliveCountMax: number;
  readonly maxChannels: number;
  readonly algorithms: Ssh2ConnectConfig['algorithms'] | undefined;
  /** A jump host's connection to tunnel through (ProxyJump). */
  readonly via: Observable<Hop> | undefined;
  /** The agent socket to forward, if any. */
  readonly forwardAgent: string | undefined;
  /** Environment variables sent on every session channel (ssh_config SetEnv/SendEnv). */
  readonly env: Readonly<Record<string, string>> | undefined;
  /** Fail unless the server does strict key exchange. */
  readonly requireStrictKex: boolean;
}

/** How the session reports to the `connect()` subscriber. */
export interface SessionSink {
  /** The server offered its host key (the session waits for `answerHostKey`). */
  hostKey(key: HostKeyInfo): void;
  error(err: SshError): void;
  /** The server closed an established connection cleanly. */
  close(): void;
}

type NextAuth = (method: AuthenticationType | AnyAuthMethod | false) => void;

const MAX_PRE_BANNER_LINES = 1024;
const MAX_BANNER_LINE = 8192;

/** How long ending a connection waits for cancelled channels to be signalled and closed. */
const CANCEL_GRACE_MS = 1500;

export class Session {
  phase: SshPhase;
  readonly client = new Client();
  readonly limiter: Semaphore;
  readonly channelEvents = new Subject<ChannelEventData>();
  /** Emits once authentication succeeded. */
  readonly ready$ = new ReplaySubject<true>(1);
  readonly authEvents: AuthEvent[] = [];
  readonly methodsTried: string[] = [];
  methodsLeft: string[] | null = null;
  hostKey: HostKeyInfo | undefined;
  /** Where a channel's run hears of a protocol fault on its channel. */
  readonly channelFaults = new WeakMap<object, (error: SshError) => void>();
  /** When a channel of this connection last closed (ms since the epoch). */
  lastChannelClosedAt = 0;
  /** True once the socket closed (the connection is gone). */
  lost = false;
  /** Why the connection was ended, when rxssh ended it (a rejected re-key, a dead peer, …). */
  failure: SshError | undefined;

  readonly #settings: SessionSettings;
  readonly #sink: SessionSink;
  readonly #authEvents$ = new ReplaySubject<AuthEvent>();
  readonly #lostListeners = new Set<() => void>();
  #socket: Duplex | undefined;
  #via: Subscription | undefined;
  #viaForward: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #verify: ((ok: boolean) => void) | undefined;
  #acceptedKey: Buffer | undefined;
  #rejection: SshError | undefined;
  #authFailure: SshError | undefined;
  #established = false;
  #providers: readonly CredentialSource[] | undefined;
  #providerIndex = 0;
  #pendingAuth: NextAuth | undefined;
  #current: { method: string; provider: string; certificate?: CertificateSummary } | undefined;
  #credential: Subscription | undefined;
  #finished = false;
  #channelSeq = 0;
  #knownHostKeyTypes: readonly string[] = [];
  #askedNone = false;
  /** Aborted when authentication is over (accepted, failed, timed out or torn down): ends every request a credential still has open (an agent's). */
  readonly #authOver = new AbortController();

  constructor(settings: SessionSettings, sink: SessionSink) {
    this.#settings = settings;
    this.#sink = sink;
    this.phase = isIP(settings.host) === 0 ? 'dns' : 'tcp';
    this.limiter = new Semaphore(settings.maxChannels);
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

  /** Authentication events as they happen, replayed to late subscribers. */
  get auth$(): Observable<AuthEvent> {
    return this.#authEvents$.asObservable();
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
    this.#arm(this.#settings.timeouts.connect);
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

  #begin(): void {
    const s = this.#settings;
    if (s.via) {
      this.#startVia(s.via);
      return;
    }
    // Reads land in slabs of the connection's own and reach ssh2 as ordinary 'data' events.
    // (Node's Socket constructor takes `onread` as net.connect() does; @types/node lists it for connect only.)
    const options: SocketConstructorOpts & { onread: OnReadOpts } = { onread: slabReads((chunk) => socket.emit('data', chunk)) };
    const socket = new Socket(options);
    const onLookup = (): void => {
      if (this.phase === 'dns') this.phase = 'tcp';
    };
    const onConnect = (): void => {
      socket.setNoDelay(true); // ssh2 leaves Nagle on: ~40 ms per round trip against sshd
      this.phase = 'banner';
      this.#arm(s.timeouts.handshake);
    };
    socket.once('lookup', onLookup);
    socket.once('connect', onConnect);
    socket.connect({ host: s.host, port: s.port, ...(s.localAddress ? { localAddress: s.localAddress } : {}) });
    this.#startSsh(socket, () => {
      socket.off('lookup', onLookup);
      socket.off('connect', onConnect);
    });
  }

  /** Reaches the target through a jump host's `direct-tcpip` channel (ProxyJump). */
  #startVia(via: Observable<Hop>): void {
    const s = this.#settings;
    let started = false;
    this.#via = via.subscribe({
      next: (hop) => {
        if (started) return;
        started = true;
        this.#viaForward = hop.forwardOut(s.host, s.port).subscribe({
          next: (stream) => {
            this.phase = 'banner';
            this.#arm(s.timeouts.handshake);
            this.#startSsh(stream, noop);
          },
          error: (err: unknown) =>
            this.#fail(
              // A hostile hop (a refused channel) is a protocol fault of the hop, reported as such.
              err instanceof ProtocolError
                ? err
                : new ConnectError(`Cannot reach ${s.host}:${s.port} through jump host ${hop.host}:${hop.port}`, {
                host: s.host,
                port: s.port,
                phase: 'tcp',
                cause: err,
              }),
            ),
        });
      },
      // A failure at the jump host is reported as it is: its host and port name the hop.
      error: (err: unknown) => this.#fail(err instanceof SshError ? err : fromSsh2Error(err, this.#errorState())),
      complete: () => {
        if (!this.lost) {
          this.#fail(new ConnectionLostError('The jump host connection closed', { host: s.host, port: s.port, phase: this.phase }));
        }
      },
    });
  }

  /** ssh2's algorithms option: the settings', with host-key algorithms of known key types first. */
  #algorithms(): { algorithms: NonNullable<Ssh2ConnectConfig['algorithms']> } | undefined {
    const s = this.#settings;
    const ordered = orderHostKeyAlgorithms(s.algorithms?.serverHostKey, this.#knownHostKeyTypes);
    if (ordered) return { algorithms: { ...s.algorithms, serverHostKey: ordered as NonNullable<NonNullable<Ssh2ConnectConfig['algorithms']>['serverHostKey']> } };
    return s.algorithms ? { algorithms: s.algorithms } : undefined;
  }

  /** Runs ssh2 over a connected (or connecting) stream. */
  #startSsh(socket: Duplex & { setNoDelay?: unknown }, detachExtra: () => void): void {
    const s = this.#settings;
    this.#socket = socket;
    // A persistent listener: ssh2 adds its own, but a late error after ssh2 let go of the
    // socket must never become an unhandled 'error' event.
    socket.on('error', noop);
    // Watches the bytes before the server's identification line: ssh2 counts pre-banner lines
    // and line length per received chunk only, so a slow flood is never cut off and its buffer
    // grows; OpenSSH's limits (1,024 lines, 8 KiB a line) are enforced here across chunks.
    const banner = { lines: 0, lineLen: 0, lineStart: Buffer.alloc(0) };
    const onData = (chunk: Buffer): void => {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i] as number;
        if (banner.lineStart.length < 4) banner.lineStart = Buffer.concat([banner.lineStart, Buffer.from([byte])]);
        if (byte === 10) {
          if (banner.lineStart.toString('latin1').startsWith('SSH-')) {
            socket.off('data', onData);
            if (this.phase === 'banner') this.phase = 'kex';
            return;
          }
          banner.lineStart = Buffer.alloc(0);
          banner.lineLen = 0;
          if (++banner.lines > MAX_PRE_BANNER_LINES) return this.#protocolFault('More than 1,024 lines before the SSH banner');
        } else if (++banner.lineLen > MAX_BANNER_LINE) {
          return this.#protocolFault('A line longer than 8 KiB before the end of the SSH banner');
        }
      }
    };
    const onError = (err: unknown): void => this.#onSsh2Error(err);
    const onClose = (): void => this.#onClose();
    const onReady = (): void => this.#onReady();
    const onBanner = (message: string): void => this.#report({ type: 'banner', message });
    const onHandshake = (): void => {
      // Decided from the protocol state, never from text: ssh2's debug output also carries the
      // server's own identification string, which a server chooses freely.
      if (s.requireStrictKex && strictKexNegotiated(this.client) !== true) {
        this.#fail(
          new ProtocolError('The server does not support strict key exchange (required: Terrapin, CVE-2023-48795)', {
            host: this.host,
            port: this.port,
            phase: 'kex',
          }),
        );
      }
    };
    this.client.on('handshake', onHandshake);
    this.client.on('error', onError);
    this.client.on('close', onClose);
    this.client.on('ready', onReady);
    this.client.on('banner', onBanner);
    const config: Ssh2ConnectConfig = {
      sock: socket as unknown as NonNullable<Ssh2ConnectConfig['sock']>,
      username: s.username,
      readyTimeout: 0, // our own per-phase deadlines replace ssh2's single one
      keepaliveInterval: s.keepaliveInterval,
      keepaliveCountMax: s.keepaliveCountMax,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => this.#onHostKey(key, verify),
      authHandler: ((methodsLeft: AuthenticationType[] | null, partialSuccess: boolean | null, next: NextAuth) =>
        this.#onAuth(methodsLeft, partialSuccess === true, next)) as unknown as NonNullable<Ssh2ConnectConfig['authHandler']>,
      ...(this.#algorithms() ?? {}),
      ...(s.forwardAgent ? { agent: s.forwardAgent, agentForward: true } : {}),
    };
    const incompatible = ssh2Incompatibility();
    if (incompatible !== undefined) {
      this.#fail(new Ssh2CompatibilityError(incompatible, { host: this.host, port: this.port, phase: this.phase }));
      return;
    }
    try {
      this.client.connect(config);
    } catch (err) {
      this.#fail(fromSsh2Error(err, this.#errorState()));
      return;
    }
    const certificateAlgorithms = this.#knownHostKeyTypes.filter((t) => t.endsWith('-cert-v01@openssh.com'));
    const reached =
      (certificateAlgorithms.length === 0 || offerHostCertificates(this.client, certificateAlgorithms)) &&
      guardChannelOpens(this.client) &&
      skipHostKeyProofs(this.client) &&
      signPublicKeyAtOnce(this.client) &&
      signalsReachable(this.client) &&
      policeChannels(this.client, (channel, what) => {
        const error = new ProtocolError(`The server sent ${what}`, { host: this.host, port: this.port, phase: 'exec' });
        const fault = this.channelFaults.get(channel);
        if (fault) fault(error);
        else this.#fail(error);
      });
    if (!reached) {
      this.#fail(new Ssh2CompatibilityError("ssh2's internals are not shaped as rxssh expects (a live client lacks the handlers its guards wrap)", { host: this.host, port: this.port, phase: this.phase }));
      return;
    }
    // Attached after ssh2 paused the socket, so it does not switch it to flowing mode early.
    socket.on('data', onData);
    // Once the socket is gone, remove what we added (registered after ssh2's own socket
    // 'close' listener, which emits the client's 'close' first) — except a no-op 'error'
    // listener on the client and the socket, kept for their whole life: ssh2 may still emit a
    // late error.
    socket.once('close', () => {
      detachExtra();
      socket.off('data', onData);
      this.client.on('error', noop);
      this.client.off('error', onError);
      this.client.off('ready', onReady);
      this.client.off('banner', onBanner);
      this.client.off('close', onClose);
      this.client.off('handshake', onHandshake);
    });
  }

  #protocolFault(message: string): void {
    this.#fail(new ProtocolError(message, { host: this.host, port: this.port, phase: 'banner' }));
  }

  /** Answers ssh2's host verifier. `error` is what the pipeline fails with on reject. */
  answerHostKey(ok: boolean, error?: SshError): void {
    if (this.#finished) return;
    const verify = this.#verify;
    if (!verify) {
      // A later verify stage of a key an earlier stage already accepted: ssh2 has its answer,
      // but a rejection still ends the connection at once (no credential has been sent: the
      // authenticate stage only starts once every verify stage has passed the Transport on).
      if (!ok && this.#acceptedKey) {
        this.#rejection =
          error ?? new HostKeyRejectedError('Host key rejected', this.hostKey?.fingerprint, { host: this.host, port: this.port, phase: 'host-key' });
        this.#fail(this.#rejection);
      }
      return;
    }
    this.#verify = undefined;
    if (ok && this.hostKey) {
      this.#acceptedKey = this.hostKey.key;
      this.phase = 'kex';
      verify(true);
      return;
    }
    this.#rejection =
      error ??
      new HostKeyRejectedError('Host key rejected', this.hostKey?.fingerprint, {
        host: this.host,
        port: this.port,
        phase: 'host-key',
      });
    try {
      verify(false);
    } finally {
      this.#fail(this.#rejection);
    }
  }

  /** Installs the credential providers; ssh2 may already be waiting for the first one. */
  startAuth(providers: readonly CredentialSource[]): void {
    if (this.#providers) return;
    this.#providers = providers;
    const pending = this.#pendingAuth;
    if (pending) {
      this.#pendingAuth = undefined;
      this.#nextCredential(pending);
    }
  }

  /** Ends the connection: graceful when established, abrupt otherwise. Idempotent. */
  end(): void {
    const wasFinished = this.#finished;
    this.#finished = true;
    this.#clearTimer();
    this.#credential?.unsubscribe();
    this.#authOver.abort();
    this.#verify = undefined;
    if (!wasFinished) this.#authEvents$.complete();
    this.ready$.complete();
    this.channelEvents.complete();
    const socket = this.#socket;
    const dropVia = (): void => this.#dropVia();
    if (!socket || socket.destroyed) return dropVia();
    if (!this.#established || this.lost) {
      socket.destroy();
      socket.once('close', dropVia);
      return;
    }
    // Channels cancelled while their open or request was in flight still need their signal
    // and close, which go out when the server answers: wait for them (briefly), then end.
    let ended = false;
    const waiting: { timer?: NodeJS.Timeout; stop?: () => void } = {};
    const finish = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(waiting.timer);
      waiting.stop?.();
      this.client.end();
      // Give the server a moment to see our DISCONNECT, then make sure the socket is gone.
      this.#graceTimer = setTimeout(() => {
        socket.destroy();
        dropVia();
      }, 1000);
      this.#graceTimer.unref();
      socket.once('close', () => {
        clearTimeout(this.#graceTimer);
        dropVia();
      });
    };
    if (this.limiter.inUse === 0) return finish();
    waiting.timer = setTimeout(finish, CANCEL_GRACE_MS);
    waiting.stop = this.limiter.whenIdle(finish);
  }

  /** Lets go of the jump host (its forwarded channel, then its connection). */
  #dropVia(): void {
    this.#viaForward?.unsubscribe();
    this.#via?.unsubscribe();
  }

  #errorState() {
    return {
      host: this.host,
      port: this.port,
      phase: this.phase,
      methodsTried: [...this.methodsTried],
      methodsLeft: this.methodsLeft ? [...this.methodsLeft] : null,
      keepaliveMs: this.#settings.keepaliveInterval * (this.#settings.keepaliveCountMax + 1),
    };
  }

  #arm(ms: number): void {
    this.#clearTimer();
    if (ms <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fail(new TimeoutError(ms, { host: this.host, port: this.port, phase: this.phase }));
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fail(error: SshError): void {
    if (this.#finished) return;
    this.#finished = true;
    this.failure = error;
    this.#clearTimer();
    this.#credential?.unsubscribe();
    this.#authOver.abort();
    this.#authEvents$.error(error);
    this.#socket?.destroy();
    this.#dropVia();
    this.#sink.error(error);
  }

  #report(event: AuthEvent): void {
    this.authEvents.push(event);
    this.#authEvents$.next(event);
  }

  #onSsh2Error(err: unknown): void {
    if (this.#finished) return; // late errors after the end are expected and ignored
    if ((err as { level?: unknown }).level === 'agent') {
      // ssh2 goes on with the next key or method by itself, as ssh does when its agent fails.
      this.#report({ type: 'skipped', provider: 'agent', reason: 'agent-error', detail: (err as Error).message });
      return;
    }
    if (this.#rejection) return this.#fail(this.#rejection);
    if (this.#authFailure) return this.#fail(this.#authFailure);
    this.#fail(fromSsh2Error(err, this.#errorState()));
  }

  #onHostKey(key: Buffer, verify: (ok: boolean) => void): void {
    if (this.#finished) return verify(false);
    if (keyTypeOf(key)?.endsWith('-cert-v01@openssh.com')) {
      // A host certificate: ssh2 must check the exchange signature with the certified key.
      let cert: ParsedCertificate | undefined;
      try {
        cert = parseCertificate(key);
      } catch {
        cert = undefined;
      }
      if (!cert || !acceptCertificateSignature(this.client, key, cert.publicKey, cert.keyType)) {
        this.#rejection = new ProtocolError('The server sent a host certificate rxssh cannot check', { host: this.host, port: this.port, phase: 'kex' });
        verify(false);
        this.#fail(this.#rejection);
        return;
      }
    }
    if (this.#acceptedKey) {
      // A re-key: the key must not change under an established connection.
      if (key.equals(this.#acceptedKey)) return verify(true);
      // Recorded first: ssh2 reports the refusal as an 'error' at once, which must not win.
      this.#rejection = new HostKeyRejectedError('Host key changed during re-key', describeHostKey(key, this.host, this.port).fingerprint, {
        host: this.host,
        port: this.port,
        phase: 'kex',
      });
      verify(false);
      this.#fail(this.#rejection);
      return;
    }
    if (this.#verify) return verify(false);
    this.phase = 'host-key';
    this.hostKey = describeHostKey(key, this.host, this.port);
    this.#verify = verify;
    this.#sink.hostKey(this.hostKey);
  }

  #onAuth(methodsLeft: string[] | null, partialSuccess: boolean, next: NextAuth): void {
    if (this.#finished) return;
    if (this.phase !== 'auth') {
      this.phase = 'auth';
      this.#arm(this.#settings.timeouts.auth);
    }
    if (methodsLeft) this.methodsLeft = [...methodsLeft];
    if (this.#current) {
      this.#report({
        type: 'attempt',
        ...this.#current,
        accepted: false,
        partialSuccess,
        methodsLeft: this.methodsLeft ? [...this.methodsLeft] : null,
      });
      this.#current = undefined;
    }
    if (!this.#providers) {
      this.#pendingAuth = next;
      return;
    }
    this.#nextCredential(next);
  }

  #nextCredential(next: NextAuth): void {
    const providers = this.#providers ?? [];
    while (this.#providerIndex < providers.length) {
      const provider = providers[this.#providerIndex++];
      if (!provider) continue;
      const allowed = this.methodsLeft;
      if (allowed && !allowed.includes(provider.method)) continue;
      let delivered = false;
      this.#credential = provider
        .credential({ username: this.username, host: this.host, port: this.port, report: (e) => this.#report(e), signal: this.#authOver.signal })
        .pipe(take(1))
        .subscribe({
          next: (method) => {
            delivered = true;
            const certificate = certificateOf(method);
            this.#current = { method: provider.method, provider: provider.label, ...(certificate ? { certificate } : {}) };
            this.methodsTried.push(provider.method);
            next(method);
          },
          error: (err: unknown) => {
            this.#authFailure = new AuthenticationError(
              `Credential provider ${provider.label} failed`,
              [...this.methodsTried],
              this.methodsLeft,
              { host: this.host, port: this.port, phase: 'auth', cause: err },
            );
            this.#fail(this.#authFailure);
          },
          complete: () => {
            if (!delivered && !this.#finished) this.#nextCredential(next);
          },
        });
      return;
    }
    if (this.methodsTried.length === 0 && !this.#askedNone) {
      // Nothing was offered: ask with "none" (as OpenSSH does first) so that the failure can say
      // which methods the server allows — or get in, if the server asks for nothing.
      this.#askedNone = true;
      next({ type: 'none', username: this.username });
      return;
    }
    // What was passed over says why a key the user has was not offered (a passphrase that
    // stayed wrong, an expired certificate): never only "no credentials".
    const skipped = this.authEvents.flatMap((e) => (e.type === 'skipped' ? [e.detail ?? `${e.provider}: certificate ${e.reason}${e.certificate ? ` (key ID ${JSON.stringify(e.certificate.keyId)})` : ''}`] : []));
    this.#authFailure = new AuthenticationError(
      this.methodsTried.length === 0 ? 'No credentials to offer: none of the credential providers had one' : 'All credentials were refused',
      [...this.methodsTried],
      this.methodsLeft,
      { host: this.host, port: this.port, phase: 'auth' },
      [...new Set(skipped)],
    );
    next(false);
  }

  #onReady(): void {
    if (this.#finished) return;
    this.#clearTimer();
    this.#authOver.abort();
    this.phase = 'connection';
    if (this.#current) {
      this.#report({ type: 'attempt', ...this.#current, accepted: true, partialSuccess: false, methodsLeft: null });
      this.#current = undefined;
    }
    this.#authEvents$.complete();
    this.#established = true;
    this.ready$.next(true);
  }

  #onClose(): void {
    this.lost = true;
    this.#clearTimer();
    for (const listener of [...this.#lostListeners]) listener();
    this.#lostListeners.clear();
    if (this.#finished) return;
    if (this.#established) {
      this.#finished = true;
      this.#sink.close();
      return;
    }
    this.#fail(
      this.#rejection ??
        this.#authFailure ??
        new ConnectionLostError('Connection closed before the handshake completed', {
          host: this.host,
          port: this.port,
          phase: this.phase,
        }),
    );
  }
}
