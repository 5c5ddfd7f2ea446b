// The per-host pipeline of the "rxssh (2 worker threads)" fan-out client: loaded by each worker.
import { readFileSync } from 'node:fs';
import { authenticate, connect, insecureAcceptAnyHostKey, privateKey, run, verifyHostKey } from '../dist/index.js';

const keys = new Map();

export function exec(t, a) {
  let key = keys.get(a.keyFile);
  if (!key) keys.set(a.keyFile, (key = readFileSync(a.keyFile)));
  return connect({ host: t.host, port: t.port ?? 22, username: a.user }).pipe(
    verifyHostKey(insecureAcceptAnyHostKey()), // the other clients do not verify either
    authenticate(privateKey(key)),
    run('true'),
  );
}
