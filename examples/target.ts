/**
 * Shared by the examples: where to connect. With no arguments, an embedded in-process SSH
 * server (from rxssh/testing) runs for as long as the example does; with
 * `--host H [--port P] --user U --key FILE --fingerprint SHA256:…` a real server is used.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EMPTY, type Observable } from 'rxjs';
import { authenticate, connect, pinned, privateKey, verifyHostKey, type Connection } from 'rxssh';
import { withTestServer, type TestServerConfig } from 'rxssh/testing';

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly key: string | Buffer;
  readonly fingerprint: string;
}

/** Runs `use` against the target named by argv, or against an embedded server. */
export function withTarget<R>(argv: readonly string[], use: (target: Target) => Observable<R>, embedded: TestServerConfig = {}): Observable<R> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      host: { type: 'string' },
      port: { type: 'string', default: '22' },
      user: { type: 'string' },
      key: { type: 'string' },
      fingerprint: { type: 'string' },
    },
  });
  if (values.host === undefined) {
    return withTestServer(embedded, (s) =>
      use({ host: s.host, port: s.port, username: s.username, key: s.privateKey, fingerprint: s.hostKey.fingerprint }),
    );
  }
  if (!values.user || !values.key || !values.fingerprint) {
    console.error('usage: [--host H --port P --user U --key FILE --fingerprint SHA256:…]');
    process.exitCode = 2;
    return EMPTY;
  }
  return use({ host: values.host, port: Number(values.port), username: values.user, key: readFileSync(values.key), fingerprint: values.fingerprint });
}

/** connect → verify the pinned key → authenticate with the private key. */
export function connectTo(target: Target): Observable<Connection> {
  return connect({ host: target.host, port: target.port, username: target.username }).pipe(
    verifyHostKey(pinned(target.fingerprint)),
    authenticate(privateKey(target.key)),
  );
}

/** True when the module is the program being run (not imported by a spec). */
export function isMain(url: string): boolean {
  return url === `file://${process.argv[1]}`;
}
