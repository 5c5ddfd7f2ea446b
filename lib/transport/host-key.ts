/**
 * The transport's host-key check: what the server offers (`HostKeyInfo`), the policies that
 * judge it, and the `verifyHostKey` operator that gates everything after the key exchange.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { from, Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import { HostKeyRejectedError, SshError } from '../errors.js';
import { Transport, type HostKeyInfo, type HostKeyOffer } from './transport.js';

export type { HostKeyInfo } from './transport.js';
import { hostKeyLearnerOf, register, retryOf, sessionOf } from './registry.js';
import type { Session } from './session.js';
import { fingerprintOf } from './fingerprint.js';


/**
 * A host-key policy: a function that judges a {@link HostKeyInfo}.
 *
 * @remarks
 * It may answer synchronously, with a Promise or with an Observable (its first value counts).
 * Only the literal `true` accepts; `false`, any other value, no value, a thrown error or an
 * error notification rejects. To reject with a specific error (as `knownHosts` does), throw or
 * emit an {@link SshError}; other errors are wrapped in {@link HostKeyRejectedError}.
 *
 * @example
 * ```ts
 * import type { HostKeyPolicy } from 'rxssh';
 *
 * const askUser: HostKeyPolicy = async (key) => confirm(`Trust ${key.fingerprint}?`);
 * ```
 */
export type HostKeyPolicy = (
  key: HostKeyInfo,
) => boolean | PromiseLike<boolean> | ObservableInput<boolean>;


/**
 * OpenSSH's SHA256 fingerprint of a raw public key blob.
 *
 * @example
 * ```ts
 * import { sha256Fingerprint } from 'rxssh';
 *
 * sha256Fingerprint(Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAI…', 'base64')); // 'SHA256:…'
 * ```
 */
export function sha256Fingerprint(key: Buffer): string {
  return fingerprintOf(key);
}

/**
 * Accepts only keys whose fingerprint is one of those given.
 *
 * @remarks
 * Accepts `SHA256:…` fingerprints (as `ssh-keygen -lf` prints them) and MD5 hex-colon
 * fingerprints (optionally prefixed `MD5:`). Comparison is constant-time per candidate.
 * Throws a `TypeError` at call time when no fingerprint or a malformed one is given.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:Ct3Ij8HhQd1J3Zk2qvKfVYw0LQKc5L4b8xZB7f2Uq4E')),
 * );
 * ```
 */
export function pinned(...fingerprints: string[]): HostKeyPolicy {
  if (fingerprints.length === 0) throw new TypeError('pinned() needs at least one fingerprint');
  const sha: string[] = [];
  const md5: string[] = [];
  for (const raw of fingerprints) {
    if (typeof raw !== 'string') throw new TypeError('pinned() takes fingerprint strings');
    const fp = raw.trim();
    if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(fp)) sha.push(fp.replace(/=$/, ''));
    else if (/^(MD5:)?([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(fp)) md5.push(fp.replace(/^MD5:/, '').toLowerCase());
    else throw new TypeError(`pinned(): not a SHA256:... or MD5 hex fingerprint: ${JSON.stringify(raw)}`);
  }
  return (key) =>
    sha.some((fp) => sameText(fp, key.fingerprint)) || md5.some((fp) => sameText(fp, key.md5));
}

/**
 * Accepts every host key. **Insecure**: it gives up the protection against a man in the
 * middle. Named loudly so that it stands out in review; meant for tests and throwaway hosts.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, insecureAcceptAnyHostKey } from 'rxssh';
 *
 * connect({ host: '127.0.0.1', port: 2222, username: 'me' }).pipe(
 *   verifyHostKey(insecureAcceptAnyHostKey()),
 * );
 * ```
 */
export function insecureAcceptAnyHostKey(): HostKeyPolicy {
  return () => true;
}

/** The one Transport of a session: made by the first verify stage, passed on by any later one. */
const transports = new WeakMap<Session, Transport>();

function transportOf(stage: HostKeyOffer | Transport, session: Session): Transport {
  if (stage instanceof Transport) return stage;
  let transport = transports.get(session);
  if (!transport) {
    transport = Transport.create(stage.hostKey, session.auth$);
    transports.set(session, transport);
    register(transport, session);
  }
  return transport;
}

/**
 * The host-key gate: answers ssh2's host verifier with the policy's verdict and, on accept,
 * emits the {@link Transport} that `authenticate` continues from.
 *
 * @remarks
 * Emits once, when the policy accepts; ssh2 then proceeds to user authentication. On reject,
 * errors with {@link HostKeyRejectedError} (or the {@link SshError} the policy raised) and no
 * credentials are ever sent. A policy that never answers is cut off by the handshake deadline
 * (`TimeoutError`, phase `host-key`). On re-keys ssh2 asks again: the same key is accepted,
 * a different key tears the connection down with {@link HostKeyRejectedError}.
 *
 * ```text
 * offer ──policy──▶ true  ─▶ Transport
 *                 ▶ false ─▶ ✕ HostKeyRejectedError   (ssh2 is answered `false`)
 * ```
 *
 * @param policy - the policy to apply; required (there is no default that accepts).
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password, run } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:Ct3Ij8HhQd1J3Zk2qvKfVYw0LQKc5L4b8xZB7f2Uq4E')),
 *   authenticate(password('secret')),
 *   run('uname -a'),
 * ).subscribe((result) => console.log(result.stdout));
 * ```
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: one operator: the offer, the policy's answer and the re-key check share its closure and teardown.
export function verifyHostKey(policy: HostKeyPolicy): OperatorFunction<HostKeyOffer, Transport> {
  if (typeof policy !== 'function') {
    throw new TypeError('verifyHostKey() needs a policy such as pinned(...), knownHosts() or a predicate');
  }
  // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
  return (source) =>
    // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
    new Observable<Transport>((subscriber) => {
      let verdict: { unsubscribe(): void } | undefined;
      const upstream = source.subscribe({
        next: (offer) => {
          const session = sessionOf(offer);
          if (!session) {
            subscriber.error(new TypeError('verifyHostKey() expects the HostKeyOffer emitted by connect()'));
            return;
          }
          const info = offer.hostKey;
          verdict?.unsubscribe(); // a new offer (the connection started over) replaces the last
          const reject = (cause: unknown): void => {
            // The policy knows the host by key types other than the one offered first: start
            // over asking for them first (once), as OpenSSH orders its host-key algorithms by
            // known_hosts (a CA's certificates, then the plain types known).
            const retry = retryOf(offer);
            if (retry && cause instanceof HostKeyRejectedError && cause.knownTypes.length > 0 && cause.knownTypes[0] !== info.type) {
              retry(cause.knownTypes);
              return;
            }
            const error =
              cause instanceof SshError
                ? cause
                : new HostKeyRejectedError(
                    cause === undefined ? 'Host key rejected by the verify policy' : 'Host key verify policy failed',
                    info.fingerprint,
                    { host: info.host, port: info.port, phase: 'host-key', cause },
                  );
            session.answerHostKey(false, error);
          };
          let answered = false;
          verdict = evaluate(policy, info).subscribe({
            next: (value) => {
              if (answered) return;
              answered = true;
              if (value === true) {
                // Hand the Transport downstream first so `authenticate` is attached before
                // ssh2 asks for credentials; then let ssh2 proceed.
                subscriber.next(transportOf(offer, session));
                const learn = hostKeyLearnerOf(info);
                if (learn) session.learnHostKeys = learn;
                session.answerHostKey(true);
              } else {
                reject(undefined);
              }
            },
            error: (err: unknown) => {
              if (answered) return;
              answered = true;
              reject(err);
            },
            complete: () => {
              if (answered) return;
              answered = true;
              reject(undefined);
            },
          });
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        verdict?.unsubscribe();
        upstream.unsubscribe();
      };
    });
}

function evaluate(policy: HostKeyPolicy, info: HostKeyInfo): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    let answer: ReturnType<HostKeyPolicy>;
    try {
      answer = policy(info);
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    if (answer === null || (typeof answer !== 'object' && typeof answer !== 'function')) {
      // A plain value (a boolean, or anything else, which then rejects).
      subscriber.next(answer);
      subscriber.complete();
      return undefined;
    }
    return from(answer as ObservableInput<boolean>).subscribe(subscriber);
  });
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
