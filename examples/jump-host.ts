/**
 * Reach a host through a jump host (like `ssh -J bastion target`): the target's connection
 * runs inside a direct-tcpip channel of the bastion's, each hop with its own host-key check
 * and credentials. Unsubscribing (or completion) tears down both.
 *
 *   npx tsx examples/jump-host.ts      # a bastion and a target, both embedded servers
 */
import type { Observable } from 'rxjs';
import { authenticate, connect, pinned, privateKey, run, verifyHostKey, type ExecResult } from 'rxssh';
import { withTestServer } from 'rxssh/testing';
import { isMain } from './target.js';

export function main(): Observable<ExecResult> {
  // Two embedded servers, held open while the pipeline runs and closed after it.
  return withTestServer({ username: 'bastion' }, (bastion) =>
    withTestServer({ commands: 'local', username: 'app' }, (target) => {
      const bastion$ = connect({ host: bastion.host, port: bastion.port, username: bastion.username }).pipe(
        verifyHostKey(pinned(bastion.hostKey.fingerprint)),
        authenticate(privateKey(bastion.privateKey)),
      );
      return connect({ host: target.host, port: target.port, username: target.username, via: bastion$ }).pipe(
        verifyHostKey(pinned(target.hostKey.fingerprint)),
        authenticate(privateKey(target.privateKey)),
        run('echo "hello from the target, reached through the bastion"'),
      );
    }),
  );
}

if (isMain(import.meta.url)) {
  main().subscribe({
    next: (r) => process.stdout.write(r.stdout),
    error: (err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    },
  });
}
