/**
 * Trust on first use with an OpenSSH known_hosts file: the first connection learns the host's
 * key (accept-new, hashed), the next ones verify it strictly, and a changed key is refused with
 * a typed error naming the file and line.
 *
 *   npx tsx examples/known-hosts.ts    # an embedded server and a throwaway known_hosts file
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catchError, concat, defer, map, of, type Observable } from 'rxjs';
import {
  HostKeyMismatchError,
  acceptNew,
  authenticate,
  connect,
  knownHosts,
  knownHostsName,
  privateKey,
  run,
  verifyHostKey,
  type HostKeyPolicy,
} from 'rxssh';
import { generateEd25519, withTestServer } from 'rxssh/testing';
import { isMain } from './target.js';

export function main(): Observable<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'rxssh-example-')), 'known_hosts');
  return withTestServer({}, (s) => {
    const attempt = (policy: HostKeyPolicy) =>
      connect({ host: s.host, port: s.port, username: s.username }).pipe(verifyHostKey(policy), authenticate(privateKey(s.privateKey)), run('echo ok'));
    return concat(
      attempt(acceptNew({ files: [file] })).pipe(map(() => `first connection: learned the key → ${readFileSync(file, 'utf8').trim().slice(0, 40)}…`)),
      attempt(knownHosts({ files: [file] })).pipe(map(() => 'second connection: verified against known_hosts')),
      defer(() => {
        // Somebody else's key recorded for this host: the real one is now a mismatch.
        writeFileSync(file, `${knownHostsName(s.host, s.port)} ${generateEd25519().public}\n`);
        return attempt(knownHosts({ files: [file] }));
      }).pipe(
        map(() => 'third connection: accepted?!'),
        catchError((err: unknown) =>
          of(err instanceof HostKeyMismatchError ? `changed key refused: ${err.code} at line ${err.line}, offered ${err.fingerprint}` : String(err)),
        ),
      ),
    );
  });
}

if (isMain(import.meta.url)) {
  main().subscribe({ next: (line) => console.log(line), error: (err: unknown) => console.error(String(err)) });
}
