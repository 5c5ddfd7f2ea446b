/**
 * The first two stages of a connection: the host-key offer (the transport is waiting for a
 * verdict) and the verified transport (waiting for credentials).
 *
 * @module
 */
import type { Observable } from 'rxjs';

/**
 * The server's host key as offered during the key exchange. Plain readonly data.
 *
 * @example
 * ```ts
 * import { connect } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).subscribe((offer) => {
 *   console.log(offer.hostKey.type, offer.hostKey.fingerprint);
 *   // ssh-ed25519 SHA256:Ct3Ij8HhQd1J3Zk2qvKfVYw0LQKc5L4b8xZB7f2Uq4E
 * });
 * ```
 */
export interface HostKeyInfo {
  /** The key type named inside the key blob: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, … */
  readonly type: string;
  /** OpenSSH's SHA256 fingerprint, `SHA256:` + unpadded base64, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** The legacy MD5 fingerprint as colon-separated hex (what Conch's tutorial prints). */
  readonly md5: string;
  /** The raw public key blob (SSH wire format). */
  readonly key: Buffer;
  /** The key as an OpenSSH public-key line body: `TYPE BASE64`. */
  readonly openssh: string;
  /** The host as given to `connect`. */
  readonly host: string;
  /** The port as given to `connect`. */
  readonly port: number;
  /**
   * The server's IP address as connected to, when rxssh made the TCP connection itself
   * (undefined through a jump host or a ProxyCommand): what ssh_config `CheckHostIP` checks.
   */
  readonly address?: string;
}

/**
 * One prompt of a keyboard-interactive challenge.
 *
 * @example
 * ```ts
 * keyboardInteractive((challenge) => challenge.prompts.map((p) => (p.echo ? 'me' : secret)));
 * ```
 */
export interface AuthPrompt {
  /** The text to show, e.g. `Password: `. */
  readonly prompt: string;
  /** Whether the answer may be echoed while typed. */
  readonly echo: boolean;
}

/**
 * A keyboard-interactive challenge from the server.
 *
 * @example
 * ```ts
 * import { keyboardInteractive } from 'rxssh';
 *
 * keyboardInteractive((c) => { console.log(c.name, c.instructions); return c.prompts.map(() => otp()); });
 * ```
 */
export interface KeyboardInteractiveChallenge {
  /** The challenge name (often empty). */
  readonly name: string;
  /** Instructions to show (often empty). */
  readonly instructions: string;
  /** The prompts; answer them in order. May be empty (answer with `[]`). */
  readonly prompts: readonly AuthPrompt[];
}

/**
 * A credential was tried.
 *
 * @example
 * ```ts
 * transport.auth$.subscribe((e) => e.type === 'attempt' && console.log(e.method, e.accepted ? 'accepted' : 'refused'));
 * ```
 */
export interface AuthAttemptEvent {
  /** Discriminator. */
  readonly type: 'attempt';
  /** The SSH method: `password`, `publickey`, `keyboard-interactive` or `none`. */
  readonly method: string;
  /** The provider's label: `password`, `privateKey`, `agent`, `keyboardInteractive`. */
  readonly provider: string;
  /** Whether the server accepted it. */
  readonly accepted: boolean;
  /** Accepted, but the server requires more methods (sshd `AuthenticationMethods`). */
  readonly partialSuccess: boolean;
  /** What the server said could still continue, or `null` when it did not say. */
  readonly methodsLeft: readonly string[] | null;
  /** Set when the attempt offered an OpenSSH certificate: what it says. */
  readonly certificate?: CertificateSummary;
}

/**
 * What an OpenSSH certificate says, as auth events report it.
 *
 * @example
 * ```ts
 * transport.auth$.subscribe((e) => e.type === 'attempt' && e.certificate && console.log(e.certificate.keyId, e.certificate.principals));
 * ```
 */
export interface CertificateSummary {
  /** The certificate type, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: string;
  /** The key id the CA gave it (`ssh-keygen -I`). */
  readonly keyId: string;
  /** The serial number, as a decimal string. */
  readonly serial: string;
  /** The principals it is valid for (empty: any). */
  readonly principals: readonly string[];
  /** Valid from (inclusive). */
  readonly validAfter: Date;
  /** Valid until (exclusive); `null` = forever. */
  readonly validBefore: Date | null;
}

/**
 * A credential skipped before it was offered, with the reason (an expired or not yet valid
 * certificate, a certificate that does not match its key).
 *
 * @example
 * ```ts
 * transport.auth$.subscribe((e) => e.type === 'skipped' && console.warn(`${e.provider}: ${e.reason}`));
 * ```
 */
export interface AuthSkippedEvent {
  /** Discriminator. */
  readonly type: 'skipped';
  /** The provider's label. */
  readonly provider: string;
  /**
   * Why it was not offered: `expired`, `not-yet-valid`, `wrong-key` (certificates),
   * `agent-error` (the agent failed or answered out of bounds), `bad-passphrase` (a key whose
   * passphrase stayed wrong) or `algorithm` (PubkeyAcceptedAlgorithms and the server's
   * `server-sig-algs` leave no signature algorithm for it); `detail` says more.
   */
  readonly reason: 'expired' | 'not-yet-valid' | 'wrong-key' | 'agent-error' | 'bad-passphrase' | 'algorithm';
  /** The certificate it concerned. */
  readonly certificate?: CertificateSummary;
  /** What went wrong, for `agent-error` and `bad-passphrase`. */
  readonly detail?: string;
}

/**
 * The server's pre-authentication banner (sshd `Banner`).
 *
 * @example
 * ```ts
 * transport.auth$.subscribe((e) => e.type === 'banner' && console.log(e.message));
 * ```
 */
export interface AuthBannerEvent {
  /** Discriminator. */
  readonly type: 'banner';
  /** The banner text. */
  readonly message: string;
}

/**
 * A keyboard-interactive challenge, reported before it is answered.
 *
 * @example
 * ```ts
 * transport.auth$.subscribe((e) => e.type === 'prompt' && console.log(e.prompts.map((p) => p.prompt)));
 * ```
 */
export interface AuthPromptEvent extends KeyboardInteractiveChallenge {
  /** Discriminator. */
  readonly type: 'prompt';
}

/**
 * What `auth$` reports: attempts, the banner and keyboard-interactive prompts.
 *
 * @example
 * ```ts
 * import type { AuthEvent } from 'rxssh';
 *
 * const show = (event: AuthEvent) =>
 *   event.type === 'attempt' ? `${event.method}: ${event.accepted ? 'ok' : 'no'}` : event.type;
 * ```
 */
export type AuthEvent = AuthAttemptEvent | AuthBannerEvent | AuthPromptEvent | AuthSkippedEvent;

/**
 * Stage 1, emitted by `connect()`: the server has offered its host key and the key exchange is
 * paused until a verify operator answers. Only `verifyHostKey` can advance it.
 *
 * @example
 * ```ts
 * import { connect } from 'rxssh';
 *
 * const hostKey$ = connect({ host: 'example.org', username: 'me' });
 * hostKey$.subscribe((offer) => console.log(offer.hostKey.fingerprint)); // SHA256:…
 * ```
 */
export class HostKeyOffer {
  /** Makes the type nominal: only `connect()` makes one, and a Transport is not one. */
  readonly #stage = 'host-key-offer' as const;

  private constructor(
    /** The key the server offered. */
    readonly hostKey: HostKeyInfo,
  ) {}

  /** @internal */
  static create(hostKey: HostKeyInfo): HostKeyOffer {
    return new HostKeyOffer(hostKey);
  }

  /** @internal */
  get stage(): 'host-key-offer' {
    return this.#stage;
  }
}

/**
 * Stage 2, emitted by `verifyHostKey`: the host key was accepted; the server now waits for user
 * authentication. Only `authenticate` can advance it.
 *
 * @remarks
 * `auth$` replays every authentication event (attempts, banners, prompts) to each subscriber,
 * completes when authentication succeeds and errors with `AuthenticationError` when it fails.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password } from 'rxssh';
 * import { tap } from 'rxjs';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   tap((transport) => transport.auth$.subscribe((event) => console.log(event))),
 *   authenticate(password('secret')),
 * );
 * // { type: 'attempt', method: 'password', provider: 'password', accepted: true, … }
 * ```
 */
export class Transport {
  /** Makes the type nominal: only `verifyHostKey` makes one, and it is not a HostKeyOffer. */
  readonly #stage = 'transport' as const;

  private constructor(
    /** The verified host key. */
    readonly hostKey: HostKeyInfo,
    /** Authentication events: attempts, banners, keyboard-interactive prompts. */
    readonly auth$: Observable<AuthEvent>,
  ) {}

  /** @internal */
  static create(hostKey: HostKeyInfo, auth$: Observable<AuthEvent>): Transport {
    return new Transport(hostKey, auth$);
  }

  /** @internal */
  get stage(): 'transport' {
    return this.#stage;
  }
}
