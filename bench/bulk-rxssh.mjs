// One bulk-exec run through rxssh, in its own process, on the compiled library (dist/, as
// users run it). Arguments: see bulk-common.mjs. The baseline is bulk-ssh2.mjs.
import { lastValueFrom, tap } from 'rxjs';
import { authenticate, connect, pinned, privateKey, verifyHostKey, withConnection } from '../dist/index.js';
import { args, blocks, COMMAND, report } from './bulk-common.mjs';

const { mode, host, port, user, key, fingerprint, algorithms } = args;

await report(async () => {
  let received = 0;
  await lastValueFrom(
    connect({ host, port, username: user, ...(algorithms ? { algorithms } : {}) }).pipe(
      verifyHostKey(pinned(fingerprint)),
      authenticate(privateKey(key)),
      withConnection((c) => c.exec(COMMAND, { stdin: mode === 'download' ? [] : blocks() }).pipe(tap((chunk) => (received += chunk.data.length)))),
    ),
    { defaultValue: undefined },
  );
  return received;
});
