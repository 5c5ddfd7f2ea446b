/**
 * A local port forward (`ssh -L`): a web server reachable only from the SSH server's side is
 * fetched through the tunnel. With no arguments the SSH server is embedded and the "remote"
 * web server runs on this machine's loopback.
 *
 *   npx tsx examples/tunnel.ts [--host … --port … --user … --key … --fingerprint …]
 */
import { createServer } from 'node:http';
import { filter, finalize, from, switchMap, take, type Observable } from 'rxjs';
import { withConnection } from 'rxssh';
import { connectTo, isMain, withTarget } from './target.js';

export function main(argv: readonly string[]): Observable<string> {
  const web = createServer((req, res) => res.end(`hello through the tunnel (${req.url})`));
  return from(new Promise<number>((resolve) => web.listen(0, '127.0.0.1', () => resolve((web.address() as { port: number }).port)))).pipe(
    switchMap((webPort) =>
      withTarget(argv, (target) =>
        connectTo(target).pipe(
          withConnection((c) =>
            c.forwardLocal({ remoteHost: '127.0.0.1', remotePort: webPort }).pipe(
              filter((e) => e.type === 'listening'),
              switchMap(async (e) => (await fetch(`http://127.0.0.1:${e.port}/index.html`)).text()),
              take(1), // one request, then the tunnel and the connection close
            ),
          ),
        ),
      ),
    ),
    finalize(() => web.close()),
  );
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).subscribe({ next: (body) => console.log(body), error: (err: unknown) => console.error(String(err)) });
}
