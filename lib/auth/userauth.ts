/**
 * The user-auth service (RFC 4252) as rxssh runs it on ssh2's `authHandler`: the credential
 * providers in order, each asked only when the server still allows its method; every attempt,
 * banner, prompt and skip reported as an `AuthEvent`; "none" asked first when nothing was
 * offered, so a failure can say what the server allows; one typed `AuthenticationError` that
 * says what was tried and what was passed over.
 */
import { ReplaySubject, take, type Observable, type Subscription } from 'rxjs';
import { AuthenticationError, type SshError } from '../errors.js';
import type { AnyAuthMethod, AuthenticationType } from '../ssh2/index.js';
import type { AuthEvent, CertificateSummary } from '../transport/transport.js';
import { certificateOf } from './certificate.js';

/** What the loop needs of a credential provider (an `AuthProvider` fits). */
export interface CredentialSource {
  readonly method: string;
  readonly label: string;
  readonly credential: (context: {
    readonly username: string;
    readonly host: string;
    readonly port: number;
    readonly report: (event: AuthEvent) => void;
    readonly signal: AbortSignal;
    readonly whenAccepted: (then: () => void) => void;
  }) => Observable<AnyAuthMethod>;
}

/** ssh2's answer callback: the next method to try, or false to give up. */
export type NextAuth = (method: AuthenticationType | AnyAuthMethod | false) => void;

/** What the loop needs of its connection. */
export interface UserAuthHost {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** True once the connection ended or failed: nothing more is asked. */
  isFinished(): boolean;
  /** The server asked for the first credential: the auth phase (and its deadline) begins. */
  enterAuth(): void;
  /** Ends the connection with this error. */
  fail(error: SshError): void;
  /** The credential as it may be offered (an agent's keys screened), or why it may not be. */
  screen?(method: AnyAuthMethod): AnyAuthMethod | string;
}

/** One connection's user authentication. */
export class UserAuth {
  /** Every event so far (a `Connection` keeps them). */
  readonly events: AuthEvent[] = [];
  /** The methods offered so far, in order. */
  readonly methodsTried: string[] = [];
  /** What the server said it still allows (null until it said). */
  methodsLeft: string[] | null = null;
  /** Why authentication failed, once it did (ssh2's own error then says less). */
  failure: SshError | undefined;

  readonly #host: UserAuthHost;
  readonly #events$ = new ReplaySubject<AuthEvent>();
  /** Aborted when authentication is over: ends every request a credential still has open (an agent's). */
  readonly #over = new AbortController();
  #providers: readonly CredentialSource[] | undefined;
  #index = 0;
  #pending: NextAuth | undefined;
  #current: { method: string; provider: string; certificate?: CertificateSummary } | undefined;
  /** What the provider of the current attempt asked to run if the server accepts it. */
  #onAccepted: (() => void) | undefined;
  #credential: Subscription | undefined;
  #askedNone = false;

  constructor(host: UserAuthHost) {
    this.#host = host;
  }

  /** Authentication events as they happen, replayed to late subscribers. */
  get events$(): Observable<AuthEvent> {
    return this.#events$.asObservable();
  }

  /** Reports one event. */
  report(event: AuthEvent): void {
    this.events.push(event);
    this.#events$.next(event);
  }

  /** Installs the credential providers; ssh2 may already be waiting for the first one. */
  start(providers: readonly CredentialSource[]): void {
    if (this.#providers) return;
    this.#providers = providers;
    const pending = this.#pending;
    if (pending) {
      this.#pending = undefined;
      this.#next(pending);
    }
  }

  /** ssh2's `authHandler`: the previous attempt's answer, then the next credential. */
  onServerAsks(methodsLeft: string[] | null, partialSuccess: boolean, next: NextAuth): void {
    if (this.#host.isFinished()) return;
    this.#host.enterAuth();
    if (methodsLeft) this.methodsLeft = [...methodsLeft];
    if (this.#current) {
      this.report({ type: 'attempt', ...this.#current, accepted: false, partialSuccess, methodsLeft: this.methodsLeft ? [...this.methodsLeft] : null });
      this.#current = undefined;
    }
    this.#onAccepted = undefined;
    if (!this.#providers) {
      this.#pending = next;
      return;
    }
    this.#next(next);
  }

  /** The server accepted the last attempt: reports it and completes the events. */
  accepted(): void {
    this.#over.abort();
    if (this.#current) {
      this.report({ type: 'attempt', ...this.#current, accepted: true, partialSuccess: false, methodsLeft: null });
      this.#current = undefined;
    }
    const then = this.#onAccepted;
    this.#onAccepted = undefined;
    then?.();
    this.#events$.complete();
  }

  /** Stops asking (the connection ends): with `error`, the events fail with it; without, they complete. */
  stop(error?: SshError): void {
    this.#credential?.unsubscribe();
    this.#over.abort();
    if (error) this.#events$.error(error);
    else this.#events$.complete();
  }

  #next(next: NextAuth): void {
    const providers = this.#providers ?? [];
    while (this.#index < providers.length) {
      const provider = providers[this.#index++];
      if (!provider) continue;
      if (this.methodsLeft && !this.methodsLeft.includes(provider.method)) continue;
      this.#ask(provider, next);
      return;
    }
    if (this.methodsTried.length === 0 && !this.#askedNone) {
      // Nothing was offered: ask with "none" (as OpenSSH does first) so that the failure can say
      // which methods the server allows — or get in, if the server asks for nothing.
      this.#askedNone = true;
      next({ type: 'none', username: this.#host.username });
      return;
    }
    this.failure = this.#refused();
    next(false);
  }

  /** Asks one provider for its credential: it gives one (offered), none (the next is asked) or fails (the connection fails). */
  #ask(provider: CredentialSource, next: NextAuth): void {
    const { host, port, username } = this.#host;
    let delivered = false;
    let onAccepted: (() => void) | undefined;
    const whenAccepted = (then: () => void): void => void (onAccepted = then);
    this.#credential = provider
      .credential({ username, host, port, report: (e) => this.report(e), signal: this.#over.signal, whenAccepted })
      .pipe(take(1))
      .subscribe({
        next: (offered) => {
          delivered = true;
          const method = this.#host.screen ? this.#host.screen(offered) : offered;
          const certificate = certificateOf(offered);
          if (typeof method === 'string') {
            // Not signable as PubkeyAcceptedAlgorithms and the server allow: the next is asked.
            this.report({ type: 'skipped', provider: provider.label, reason: 'algorithm', detail: `${provider.label}: ${method}`, ...(certificate ? { certificate } : {}) });
            this.#next(next);
            return;
          }
          this.#current = { method: provider.method, provider: provider.label, ...(certificate ? { certificate } : {}) };
          this.#onAccepted = onAccepted;
          this.methodsTried.push(provider.method);
          next(method);
        },
        error: (err: unknown) => {
          this.failure = new AuthenticationError(`Credential provider ${provider.label} failed`, [...this.methodsTried], this.methodsLeft, { host, port, phase: 'auth', cause: err });
          this.#host.fail(this.failure);
        },
        complete: () => {
          if (!delivered && !this.#host.isFinished()) this.#next(next);
        },
      });
  }

  /** Everything was tried: what was passed over says why a key the user has was not offered (a passphrase that stayed wrong, an expired certificate), never only "no credentials". */
  #refused(): AuthenticationError {
    const skipped = this.events.flatMap((e) => (e.type === 'skipped' ? [e.detail ?? `${e.provider}: certificate ${e.reason}${e.certificate ? ` (key ID ${JSON.stringify(e.certificate.keyId)})` : ''}`] : []));
    return new AuthenticationError(
      this.methodsTried.length === 0 ? 'No credentials to offer: none of the credential providers had one' : 'All credentials were refused',
      [...this.methodsTried],
      this.methodsLeft,
      { host: this.#host.host, port: this.#host.port, phase: 'auth' },
      [...new Set(skipped)],
    );
  }
}
