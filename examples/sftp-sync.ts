/**
 * Upload a local file over SFTP, list the remote directory, download the file again and check
 * it is byte-exact — with progress. Needs a server with SFTP (the embedded test server has no
 * SFTP subsystem):
 *
 *   npx tsx examples/sftp-sync.ts --host H --port P --user U --key FILE --fingerprint SHA256:… [--file PATH]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { concat, defer, EMPTY, filter, map, type Observable } from 'rxjs';
import { withConnection } from 'rxssh';
import { connectTo, isMain, withTarget } from './target.js';

export function main(argv: readonly string[], file = new URL(import.meta.url).pathname): Observable<string> {
  const { values } = parseArgs({ args: [...argv], options: { host: { type: 'string' }, port: { type: 'string' }, user: { type: 'string' }, key: { type: 'string' }, fingerprint: { type: 'string' }, file: { type: 'string' } } });
  if (!values.host) {
    console.error('sftp-sync needs a server with SFTP: --host H --port P --user U --key FILE --fingerprint SHA256:…');
    process.exitCode = 2;
    return EMPTY;
  }
  const local = values.file ?? file;
  const rest = argv.filter((a, i) => a !== '--file' && argv[i - 1] !== '--file');
  const remote = `rxssh-sync-${process.pid}-${basename(local)}`;
  const back = join(tmpdir(), `${remote}.back`);
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  return withTarget(rest, (target) =>
    connectTo(target).pipe(
      withConnection((c) =>
        c.withSftp((sftp) =>
          concat(
            sftp.upload(local, remote).pipe(filter((p) => p.bytes === p.total), map((p) => `uploaded ${p.bytes} bytes`)),
            sftp.readdir('.').pipe(filter((e) => e.name === remote), map((e) => `listed ${e.name} (${e.stats.size} bytes)`)),
            sftp.download(remote, back).pipe(filter((p) => p.bytes === p.total), map((p) => `downloaded ${p.bytes} bytes`)),
            defer(() => [sha(back) === sha(local) ? 'byte-exact: yes' : 'byte-exact: NO']),
            sftp.rm(remote).pipe(map(() => 'removed')),
          ),
        ),
      ),
    ),
  );
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).subscribe({ next: (line) => console.log(line), error: (err: unknown) => console.error(String(err)) });
}
