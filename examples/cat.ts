/**
 * Twisted Conch's classic client, in rxssh: verify the server's key by fingerprint,
 * authenticate with a public key, run `cat` in an exec channel, write one line, send EOF and
 * print what came back.
 *
 *   npx tsx examples/cat.ts                      # against the embedded test server
 *   npx tsx examples/cat.ts --host h --port 22 --user me --key ~/.ssh/id_ed25519 \
 *       --fingerprint SHA256:…                   # against a real server
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EMPTY, reduce, type Observable } from 'rxjs';
import { authenticate, connect, decodeText, exec, pinned, privateKey, selectStream, verifyHostKey } from '../lib/index.js';
import { withTestServer } from '../lib/testing/index.js';

const LINE = 'This data will be echoed back to us by "cat."\r\n';

interface Target {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly key: string | Buffer;
  readonly fingerprint: string;
}

/** The tutorial's program as one pipeline: transport, auth, connection, channel. */
export function echo(target: Target): Observable<string> {
  return connect({ host: target.host, port: target.port, username: target.username }).pipe(
    verifyHostKey(pinned(target.fingerprint)), // fail closed: nothing proceeds without this
    authenticate(privateKey(target.key)),
    exec('cat', { stdin: [LINE] }),
    selectStream('stdout'),
    decodeText(),
    reduce((all, text) => all + text, ''),
  );
}

function withTarget(argv: string[], use: (target: Target) => Observable<string>): Observable<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string', default: '22' },
      user: { type: 'string' },
      key: { type: 'string' },
      fingerprint: { type: 'string' },
    },
  });
  if (values.host === undefined) {
    // No server given: use the embedded one, for as long as the pipeline runs.
    return withTestServer({}, (s) =>
      use({ host: s.host, port: s.port, username: s.username, key: s.privateKey, fingerprint: s.hostKey.fingerprint }),
    );
  }
  if (!values.user || !values.key || !values.fingerprint) {
    console.error('usage: cat.ts [--host H --port P --user U --key FILE --fingerprint SHA256:…]');
    process.exitCode = 2;
    return EMPTY;
  }
  return use({
    host: values.host,
    port: Number(values.port),
    username: values.user,
    key: readFileSync(values.key),
    fingerprint: values.fingerprint,
  });
}

/** The example's whole run, as one Observable (driven by spec/examples.spec.ts). */
export function main(argv: string[]): Observable<string> {
  return withTarget(argv, echo);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).subscribe({
    next: (text) => console.log(`We got this from "cat": ${text.trimEnd()}`),
    error: (err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    },
  });
}
