/**
 * The first two stages of a connection: the host-key offer (the transport is waiting for a
 * verdict) and the verified transport (waiting for credentials).
 *
 * @module
 */
import type { Observable } from 'rxjs';
import type { AuthEvent } from './auth.js';
import type { HostKeyInfo } from './host-key.js';

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
