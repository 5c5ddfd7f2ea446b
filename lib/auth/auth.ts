/**
 * User authentication: credential providers (`password`, `privateKey`, `agent`,
 * `keyboardInteractive`), the `authenticate` operator and the events reported on `auth$`.
 *
 * @module
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { Connection } from '../connection/connection.js';
import type { Transport } from '../transport/transport.js';
import { register, sessionOf } from '../transport/registry.js';
import { type AuthProvider } from './providers.js';

export type { AuthPrompt, KeyboardInteractiveChallenge, AuthAttemptEvent, AuthBannerEvent, AuthPromptEvent, AuthSkippedEvent, AuthEvent, CertificateSummary } from '../transport/transport.js';
export { password, keyboardInteractive, type AuthProvider, type Lazy } from './providers.js';
export { privateKey, type PrivateKeyConfig, type AddToAgentConfig } from './keys.js';
export type { AgentKeyConstraints } from './agent-add.js';
export { agent, agentCertificate } from './agent.js';

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
