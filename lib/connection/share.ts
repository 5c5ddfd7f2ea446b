/** `shareConnection`: one connection for several pipelines, ref-counted. */
import { ReplaySubject, share, type MonoTypeOperatorFunction } from 'rxjs';
import type { Connection } from './connection.js';

/**
 * Shares one connection between several pipelines, ref-counted: it is opened by the first
 * subscriber, replayed to later ones, and closed when the last one leaves.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, password, shareConnection, run } from 'rxssh';
 * import { forkJoin } from 'rxjs';
 *
 * const connection$ = connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:…')),
 *   authenticate(password('secret')),
 *   shareConnection(),
 * );
 * forkJoin([connection$.pipe(run('uname')), connection$.pipe(run('uptime'))])
 *   .subscribe(([a, b]) => console.log(a.stdout, b.stdout)); // one connection, two channels
 * ```
 */
export function shareConnection(): MonoTypeOperatorFunction<Connection> {
  return share<Connection>({
    connector: () => new ReplaySubject<Connection>(1),
    resetOnError: true,
    resetOnComplete: true,
    resetOnRefCountZero: true,
  });
}
