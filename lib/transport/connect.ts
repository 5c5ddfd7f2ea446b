/**
 * The transport stage: `connect(config)` opens one TCP connection and one ssh2 Client per
 * subscription and emits the server's host-key offer.
 *
 * @module
 */
import { Observable } from 'rxjs';
import { warnIfNoNativeCrypto } from '../ssh2/index.js';
import { Session } from './session.js';
import { HostKeyOffer } from './transport.js';
import { ConnectError } from '../errors.js';
import { register, registerRetry } from './registry.js';
import { settingsOf } from './connect-settings.js';
import { checkNumber, POSITIVE_INTEGER } from '../util/check.js';
import type { ConnectConfig } from './connect-config.js';

export type { AlgorithmListEdit, AlgorithmsConfig, ConnectConfig, KeepaliveConfig, RekeyLimitConfig, TimeoutsConfig } from './connect-config.js';

/**
 * Connects to an SSH server and emits its host-key offer: the `hostKey$` that a verify
 * operator must accept before anything else happens.
 *
 * @remarks
 * Lazy: nothing touches the network until subscribed; each subscription has its own TCP
 * connection (with TCP_NODELAY) and ssh2 Client. Unsubscribing ends it. Emits one
 * {@link HostKeyOffer}; completes when the server closes an established connection; errors with
 * `ConnectError` (refused, DNS), `TimeoutError` (with the phase), `ConnectionLostError`,
 * `ProtocolError`, or whatever the later stages report. Bad config throws `TypeError` at call
 * time.
 *
 * ```text
 * connect: --offer--(verify)--(auth)--ready-----------|   server closed ⇒ complete
 *          unsubscribe ⇒ DISCONNECT, socket closed
 * ```
 *
 * @param config - host, port, username, deadlines, keepalive and channel limit.
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, privateKey, run } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:Ct3Ij8HhQd1J3Zk2qvKfVYw0LQKc5L4b8xZB7f2Uq4E')),
 *   authenticate(privateKey(pem)),
 *   run('uname -a'),
 * ).subscribe((result) => console.log(result.stdout)); // Linux example 6.1.0 …
 * ```
 */
export function connect(config: ConnectConfig): Observable<HostKeyOffer> {
  const settings = settingsOf(config);
  const attempts = checkNumber('connect(): connectionAttempts', config.connectionAttempts ?? 1, POSITIVE_INTEGER);
  warnIfNoNativeCrypto();
  const preferred = config.preferredHostKeyTypes;
  return new Observable<HostKeyOffer>((subscriber) => {
    let session: Session | undefined;
    let retried = false;
    let attemptsLeft = attempts - 1;
    let again: NodeJS.Timeout | undefined;
    // One session, or a second one when the verify stage asks for other key types first (the
    // host is known only by those): the offer carries that request, so nothing between
    // connect and verifyHostKey can lose it.
    const open = (knownTypes: Promise<readonly string[]> | undefined): void => {
      const current: Session = new Session(settings, {
        hostKey: (key) => {
          const offer = HostKeyOffer.create(key);
          register(offer, current);
          if (!retried) {
            registerRetry(offer, (types) => {
              if (retried || session !== current) return;
              retried = true;
              current.end();
              open(Promise.resolve(types));
            });
          }
          subscriber.next(offer);
        },
        error: (err) => {
          if (session !== current) return;
          if (attemptsLeft > 0 && err instanceof ConnectError) {
            attemptsLeft--;
            again = setTimeout(() => open(knownTypes), 1000);
            return;
          }
          subscriber.error(err);
        },
        close: () => {
          if (session === current) subscriber.complete();
        },
      });
      session = current;
      current.start(knownTypes);
    };
    open(preferred === undefined ? undefined : Promise.resolve(typeof preferred === 'function' ? preferred(settings.host, settings.port) : preferred));
    return () => {
      clearTimeout(again);
      session?.end();
    };
  });
}
