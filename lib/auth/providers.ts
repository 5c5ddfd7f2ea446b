/**
 * Credential providers: what `authenticate` asks for a credential (`AuthProvider`), and the
 * password and keyboard-interactive ones.
 */
import { defer, from, map, type Observable, of, type ObservableInput } from 'rxjs';
import { type AnyAuthMethod } from '../ssh2/index.js';
import type { AuthEvent, KeyboardInteractiveChallenge } from '../transport/transport.js';

/** What a provider may use to build its credential. @internal */
export interface AuthContext {
  readonly username: string;
  readonly host: string;
  readonly port: number;
  /** Reports an event on `auth$`. */
  readonly report: (event: AuthEvent) => void;
  /**
   * Aborted when authentication is over (accepted, failed, past its deadline, or unsubscribed):
   * a provider ends whatever it still has open for the attempt (an agent request) on it.
   */
  readonly signal?: AbortSignal;
  /** Runs `then` if the server accepts the credential the provider gives now (a key added to an agent). */
  readonly whenAccepted?: (then: () => void) => void;
}

/**
 * A source of one credential, tried in the order given to {@link authenticate}.
 *
 * @remarks
 * Create providers with {@link password}, {@link privateKey}, {@link agent} and
 * {@link keyboardInteractive}. A provider whose source completes without a value is skipped; one
 * whose source errors fails authentication with `AuthenticationError` (the error as `cause`).
 *
 * @example
 * ```ts
 * import { authenticate, agent, privateKey, password } from 'rxssh';
 *
 * authenticate(agent(), privateKey(pem), password(() => ask('Password: ')));
 * ```
 */
export interface AuthProvider {
  /** The SSH method it uses: `password`, `publickey`, `keyboard-interactive` or `none`. */
  readonly method: 'password' | 'publickey' | 'keyboard-interactive' | 'none';
  /** A label for reports: the provider's name. */
  readonly label: string;
  /** Builds the ssh2 auth method. @internal */
  readonly credential: (context: AuthContext) => Observable<AnyAuthMethod>;
}

/**
 * A value, or a function producing it lazily (sync, Promise or Observable), like Conch's `getPassword`.
 *
 * @example
 * ```ts
 * import { password, type Lazy } from 'rxssh';
 *
 * const secret: Lazy<string> = () => readSecret('ssh-password'); // a Promise, asked only when needed
 * password(secret);
 * ```
 */
export type Lazy<T> = T | (() => ObservableInput<T> | T);

export function resolve<T>(value: Lazy<T>): Observable<T> {
  if (typeof value !== 'function') return of(value);
  return defer(() => {
    const out = (value as () => ObservableInput<T> | T)();
    if (out !== null && typeof out === 'object' && !Buffer.isBuffer(out) && !Array.isArray(out)) {
      return from(out as ObservableInput<T>);
    }
    return of(out as T);
  });
}

/**
 * Password authentication.
 *
 * @remarks
 * The password is asked for only when the server reaches this provider, so a prompting function
 * runs only if needed. A function may return a string, a Promise or an Observable; completing
 * without a value skips the provider.
 *
 * @param value - the password, or a function producing it.
 * @example
 * ```ts
 * import { password } from 'rxssh';
 *
 * password('correct horse');
 * password(() => readPasswordFromTty('Password: ')); // Promise<string>
 * ```
 */
export function password(value: Lazy<string>): AuthProvider {
  if (typeof value !== 'string' && typeof value !== 'function') {
    throw new TypeError('password() takes a string or a function returning one');
  }
  return {
    method: 'password',
    label: 'password',
    credential: ({ username }) =>
      resolve(value).pipe(
        map((pw) => {
          if (typeof pw !== 'string') throw new TypeError('password(): the function did not produce a string');
          return { type: 'password' as const, username, password: pw };
        }),
      ),
  };
}

/**
 * Keyboard-interactive authentication: each challenge is reported on `auth$` as a `prompt`
 * event and answered by the function given.
 *
 * @param answer - receives the challenge, returns the answers (array, Promise or Observable).
 * @example
 * ```ts
 * import { keyboardInteractive } from 'rxssh';
 *
 * keyboardInteractive(({ prompts }) => prompts.map(() => process.env.PASSWORD ?? ''));
 * ```
 */
export function keyboardInteractive(
  answer: (challenge: KeyboardInteractiveChallenge) => ObservableInput<readonly string[]> | readonly string[],
): AuthProvider {
  if (typeof answer !== 'function') throw new TypeError('keyboardInteractive() takes an answer function');
  return {
    method: 'keyboard-interactive',
    label: 'keyboardInteractive',
    credential: ({ username, report }) =>
      of({
        type: 'keyboard-interactive' as const,
        username,
        prompt: (name, instructions, _lang, prompts, finish) => {
          const challenge: KeyboardInteractiveChallenge = {
            name,
            instructions,
            prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
          };
          report({ type: 'prompt', ...challenge });
          let answered = false;
          const reply = (answers: readonly string[]): void => {
            if (answered) return;
            answered = true;
            finish([...answers]);
          };
          resolve<readonly string[]>(() => answer(challenge)).subscribe({
            next: (answers) => reply(Array.isArray(answers) ? answers : []),
            error: () => reply([]),
            complete: () => reply([]),
          });
        },
      }),
  };
}
