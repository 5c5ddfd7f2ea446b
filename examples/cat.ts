/**
 * Twisted Conch's classic client, in rxssh: verify the server's key by fingerprint,
 * authenticate with a public key, run `cat` in an exec channel, write one line, send EOF and
 * print what came back.
 *
 *   npx tsx examples/cat.ts                      # against the embedded test server
 *   npx tsx examples/cat.ts --host h --port 22 --user me --key ~/.ssh/id_ed25519 \
 *       --fingerprint SHA256:…                   # against a real server
 */
import { reduce, type Observable } from 'rxjs';
import { authenticate, connect, decodeText, exec, pinned, privateKey, selectStream, verifyHostKey } from 'rxssh';
import { isMain, withTarget, type Target } from './target.js';

const LINE = 'This data will be echoed back to us by "cat."\r\n';

/** The tutorial's program as one pipeline: transport, auth, connection, channel. */
export function echo(target: Target): Observable<string> {
  return connect({ host: target.host, port: target.port, username: target.username }).pipe(
    verifyHostKey(pinned(target.fingerprint)), // transport: fail closed, nothing proceeds without this
    authenticate(privateKey(target.key)), //      user auth
    exec('cat', { stdin: [LINE] }), //            connection + channel: stdin, then EOF
    selectStream('stdout'),
    decodeText(),
    reduce((all, text) => all + text, ''),
  );
}

/** The example's whole run, as one Observable (driven by spec/examples.spec.ts). */
export function main(argv: readonly string[]): Observable<string> {
  return withTarget(argv, echo);
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).subscribe({
    next: (text) => console.log(`We got this from "cat": ${text.trimEnd()}`),
    error: (err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    },
  });
}
