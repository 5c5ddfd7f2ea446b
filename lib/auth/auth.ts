/**
 * User authentication: credential providers (`password`, `privateKey`, `agent`,
 * `keyboardInteractive`), the `authenticate` operator and the events reported on `auth$`.
 *
 * @module
 */
import { defer, EMPTY, from, map, Observable, of, switchMap, type ObservableInput, type OperatorFunction } from 'rxjs';
import { utils, type AnyAuthMethod, type ParsedKey } from '../ssh2/index.js';
import { AGENT_SIGNER, CERTIFICATE, certificateValidity, parseCertificate, summarize, type AgentSigner } from './certificate.js';
import { AGENT_RSA_SHA2_256, AGENT_RSA_SHA2_512, agentIdentities, agentSign, socketAgent } from './agent-client.js';
import { keyTypeOf } from '../util/key-blob.js';
import { Connection } from '../connection/connection.js';
import type { AuthEvent, KeyboardInteractiveChallenge, Transport } from '../transport/transport.js';
import { register, sessionOf } from '../transport/registry.js';

export type { AuthPrompt, KeyboardInteractiveChallenge, AuthAttemptEvent, AuthBannerEvent, AuthPromptEvent, AuthSkippedEvent, AuthEvent, CertificateSummary } from '../transport/transport.js';

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

function resolve<T>(value: Lazy<T>): Observable<T> {
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
 * Options of {@link privateKey}.
 *
 * @example
 * ```ts
 * import { privateKey } from 'rxssh';
 *
 * privateKey(readFileSync('id_ed25519'), { passphrase: () => ask('Passphrase: ') });
 * ```
 */
export interface PrivateKeyConfig {
  /**
   * The passphrase of an encrypted key, or a function producing it (given the attempt number,
   * 1, 2, …, when {@link PrivateKeyConfig.passphraseAttempts} allows asking again).
   */
  readonly passphrase?: string | Buffer | ((attempt: number) => ObservableInput<string | Buffer> | string | Buffer);
  /**
   * An OpenSSH certificate for this key (the `-cert.pub` text, or a function producing it):
   * offered instead of the plain key (`ssh-ed25519-cert-v01@openssh.com`, …, RSA as
   * `rsa-sha2-256/512-cert-v01`). A certificate that is expired, not yet valid or for another
   * key is skipped before it is offered (an `auth$` event says why).
   */
  readonly certificate?: Lazy<string | Buffer>;
  /**
   * How often a passphrase given as a function is asked for when it is wrong (default 1; `ssh`
   * asks 3 times on a terminal). The function gets the attempt number (1, 2, …). A key whose
   * passphrase stays wrong is skipped with a `skipped` event (`bad-passphrase`) and the next
   * credential is tried, as `ssh` does.
   */
  readonly passphraseAttempts?: number;
  /** The key's name in messages and events (its file, say). */
  readonly name?: string;
}

/** Whether a key failed to parse because of its passphrase (ssh2's messages for it). */
function badPassphrase(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause ?? err;
  return /passphrase|decrypt|bad key|integrity|checkint/i.test(String((cause as Error)?.message ?? cause));
}

/**
 * Public-key authentication with a private key (OpenSSH or PEM format; ed25519, ecdsa, rsa —
 * signed with rsa-sha2-256/512 when the server announces them).
 *
 * @remarks
 * A key given as a value is parsed at call time: a corrupt key, or an encrypted one without a
 * passphrase, throws `TypeError` there. A key given as a function is parsed when used.
 *
 * @param key - the key text or bytes, or a function producing them.
 * @param config - the passphrase, for encrypted keys.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { privateKey } from 'rxssh';
 *
 * privateKey(readFileSync(`${process.env.HOME}/.ssh/id_ed25519`));
 * privateKey(readFileSync('deploy_key'), { passphrase: () => ask('Passphrase: ') });
 * ```
 */
export function privateKey(key: Lazy<string | Buffer>, config: PrivateKeyConfig = {}): AuthProvider {
  const parse = (text: string | Buffer, passphrase: string | Buffer | undefined): ParsedKey => {
    const parsed = utils.parseKey(text, passphrase);
    if (parsed instanceof Error) throw new TypeError(`privateKey(): ${parsed.message}`, { cause: parsed });
    const first = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (!first || !first.isPrivateKey()) throw new TypeError('privateKey(): not a private key');
    return first;
  };
  let eager: ParsedKey | undefined;
  if (typeof key === 'string' || Buffer.isBuffer(key)) {
    const pass = config.passphrase;
    if (pass === undefined || typeof pass === 'string' || Buffer.isBuffer(pass)) eager = parse(key, pass);
  } else if (typeof key !== 'function') {
    throw new TypeError('privateKey() takes key text, a Buffer or a function returning one');
  }
  const certificate = config.certificate;
  /** The key as offered: with its certificate attached when there is one and it may be offered. */
  const withCertificate = (parsed: ParsedKey, report: AuthContext['report']): Observable<ParsedKey> => {
    if (certificate === undefined) return of(parsed);
    return resolve(certificate).pipe(
      switchMap((text) => {
        const cert = parseCertificate(text);
        const summary = summarize(cert);
        const reason = !cert.publicKey.equals(parsed.getPublicSSH()) ? 'wrong-key' : certificateValidity(cert);
        if (reason !== 'valid') {
          report({ type: 'skipped', provider: 'privateKey', reason, certificate: summary });
          return EMPTY;
        }
        // A copy per offer: the same parsed key may also be offered without the certificate.
        return of(Object.assign(Object.create(parsed) as ParsedKey, { [CERTIFICATE]: cert }));
      }),
    );
  };
  return {
    method: 'publickey',
    label: certificate === undefined ? 'privateKey' : 'privateKey (certificate)',
    credential: ({ username, report }) => {
      const attempts = Math.max(1, config.passphraseAttempts ?? 1);
      const name = config.name ?? 'the key';
      /** Asks for the passphrase (again, when it was wrong) up to `attempts` times, then skips the key. */
      const unlock = (text: string | Buffer, attempt: number): Observable<ParsedKey> => {
        const passphrase = config.passphrase;
        const asked = typeof passphrase === 'function' ? resolve(() => passphrase(attempt)) : resolve(passphrase as string | Buffer);
        return asked.pipe(
          switchMap((pass) => {
            try {
              return of(parse(text, pass));
            } catch (err) {
              if (!badPassphrase(err)) throw err;
              if (attempt < attempts && typeof passphrase === 'function') return unlock(text, attempt + 1);
              report({ type: 'skipped', provider: 'privateKey', reason: 'bad-passphrase', detail: `bad passphrase for ${name}` });
              return EMPTY;
            }
          }),
        );
      };
      const parsed$ = eager
        ? of(eager)
        : resolve(key).pipe(switchMap((text) => (config.passphrase === undefined ? of(parse(text, undefined)) : unlock(text, 1))));
      return parsed$.pipe(
        switchMap((parsed) => withCertificate(parsed, report)),
        map((parsed) => ({ type: 'publickey' as const, username, key: parsed })),
      );
    },
  };
}

/**
 * Authentication with an OpenSSH certificate held by an SSH agent (`ssh-add` of a key with its
 * `-cert.pub` beside it): offers the agent's first certificate that is valid now, signed by the
 * agent. ssh2's own agent support cannot list certificates; put this provider before
 * {@link agent}, which offers the agent's plain keys.
 *
 * @remarks
 * Certificates that are expired or not yet valid are skipped with a `skipped` event on `auth$`.
 * With no agent socket, or no certificate in the agent, the provider is skipped.
 *
 * @param socketPath - the agent's Unix socket (default `process.env.SSH_AUTH_SOCK`).
 * @example
 * ```ts
 * import { authenticate, agent, agentCertificate } from 'rxssh';
 *
 * authenticate(agentCertificate(), agent());
 * ```
 */
export function agentCertificate(socketPath?: string): AuthProvider {
  checkSocketPath('agentCertificate', socketPath);
  return {
    method: 'publickey',
    label: 'agent (certificate)',
    credential: ({ username, report, signal }) =>
      defer(async () => {
        const path = socketPath ?? process.env['SSH_AUTH_SOCK'];
        if (!path) return undefined;
        let identities: Awaited<ReturnType<typeof agentIdentities>>;
        try {
          identities = await agentIdentities(path, signal ? { signal } : {});
        } catch {
          return undefined; // no usable agent: skipped, as agent() skips
        }
        for (const { blob } of identities) {
          if (!/-cert-v01@openssh\.com$/.test(keyTypeOf(blob) ?? '')) continue;
          let cert: ReturnType<typeof parseCertificate>;
          try {
            cert = parseCertificate(blob);
          } catch {
            continue;
          }
          const validity = certificateValidity(cert);
          if (validity !== 'valid') {
            report({ type: 'skipped', provider: 'agent (certificate)', reason: validity, certificate: summarize(cert) });
            continue;
          }
          const sign: AgentSigner = (data, algorithm) =>
            agentSign(path, blob, data, algorithm === 'rsa-sha2-512' ? AGENT_RSA_SHA2_512 : algorithm === 'rsa-sha2-256' ? AGENT_RSA_SHA2_256 : 0, signal ? { signal } : {});
          // The certified public key, parsed by ssh2 (so ssh2 takes it as a key), standing in
          // for the private key the agent holds: rxssh's certificate request signs through the agent.
          const base = utils.parseKey(`${cert.keyType} ${cert.publicKey.toString('base64')}`);
          const parsed = Array.isArray(base) ? base[0] : base;
          if (!parsed || parsed instanceof Error) continue;
          const key = Object.assign(Object.create(parsed) as ParsedKey, { isPrivateKey: () => true, [CERTIFICATE]: cert, [AGENT_SIGNER]: sign });
          return { type: 'publickey' as const, username, key };
        }
        return undefined;
      }).pipe(switchMap((credential) => (credential ? of(credential) : EMPTY))),
  };
}

/** An agent socket path given to `name()`: a non-empty string, or nothing (then SSH_AUTH_SOCK). */
function checkSocketPath(name: string, socketPath: string | undefined): void {
  if (socketPath !== undefined && (typeof socketPath !== 'string' || socketPath === '')) throw new TypeError(`${name}() takes a socket path`);
}

/**
 * Public-key authentication through an SSH agent (every key the agent holds, in order).
 *
 * @remarks
 * Uses `SSH_AUTH_SOCK` unless a socket path is given. With no agent socket at all the provider
 * is skipped, so `authenticate(agent(), privateKey(…))` works on machines without an agent.
 *
 * @param socketPath - the agent's Unix socket (default `process.env.SSH_AUTH_SOCK`).
 * @example
 * ```ts
 * import { agent } from 'rxssh';
 *
 * agent();                        // $SSH_AUTH_SOCK
 * agent('/run/user/1000/agent');  // a given socket
 * ```
 */
export function agent(socketPath?: string): AuthProvider {
  checkSocketPath('agent', socketPath);
  return {
    method: 'publickey',
    label: 'agent',
    credential: ({ username, signal }) =>
      defer(() => {
        const path = socketPath ?? process.env['SSH_AUTH_SOCK'];
        // rxssh's own agent client: replies capped at 256 KiB, requests ended with the attempt.
        return path ? of({ type: 'agent' as const, username, agent: socketAgent(path, signal ?? new AbortController().signal) }) : EMPTY;
      }),
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

/**
 * The user-auth stage: tries the providers in order until the server accepts, then emits the
 * {@link Connection}.
 *
 * @remarks
 * A provider whose method the server no longer allows is skipped. Every attempt, banner and
 * prompt is reported on the transport's `auth$`. When no provider is left the pipeline errors
 * with `AuthenticationError` (methods tried and left); a stalled server is cut off by the `auth`
 * deadline (`TimeoutError`, phase `auth`). Throws `TypeError` at call time with no providers.
 *
 * ```text
 * Transport ──password✕──privateKey✓──▶ Connection ------------|  (server closed: complete)
 * ```
 *
 * @param providers - credential providers, tried in order.
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, privateKey, password, run } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   authenticate(privateKey(pem), password(() => ask())),
 *   run('hostname'),
 * ).subscribe((r) => console.log(r.stdout)); // example.org
 * ```
 */
export function authenticate(...providers: AuthProvider[]): OperatorFunction<Transport, Connection> {
  if (providers.length === 0) throw new TypeError('authenticate() needs at least one credential provider');
  for (const p of providers) {
    if (typeof p !== 'object' || p === null || typeof p.credential !== 'function') {
      throw new TypeError('authenticate() takes providers made by password(), privateKey(), agent() or keyboardInteractive()');
    }
  }
  return (source) =>
    new Observable<Connection>((subscriber) => {
      let ready: { unsubscribe(): void } | undefined;
      const upstream = source.subscribe({
        next: (transport) => {
          const session = sessionOf(transport);
          if (!session) {
            subscriber.error(new TypeError('authenticate() expects the Transport emitted by verifyHostKey()'));
            return;
          }
          // The engine says when authentication succeeded; the Connection stage is made here.
          ready = session.ready$.subscribe(() => {
            const connection = Connection.create(session, transport.hostKey, [...session.authEvents]);
            register(connection, session);
            subscriber.next(connection);
          });
          session.startAuth(providers);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        ready?.unsubscribe();
        upstream.unsubscribe();
      };
    });
}
