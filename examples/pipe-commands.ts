/**
 * Pipe two remote commands: the stdout of the first becomes the stdin of the second, on one
 * connection, with backpressure end to end (like `ssh host 'seq 1 1000' | ssh host 'wc -l'`
 * without the local round trip).
 *
 *   npx tsx examples/pipe-commands.ts [--host …]
 */
import { reduce, type Observable } from 'rxjs';
import { decodeText, selectStream, withConnection } from 'rxssh';
import { connectTo, isMain, withTarget } from './target.js';

export function main(argv: readonly string[]): Observable<string> {
  return withTarget(
    argv,
    (target) =>
      connectTo(target).pipe(
        withConnection((c) => {
          const numbers = c.exec('seq 1 100000', { stdin: [] }).pipe(selectStream('stdout'));
          return c.exec('wc -l', { stdin: numbers });
        }),
        selectStream('stdout'),
        decodeText(),
        reduce((all, text) => all + text, ''),
      ),
    { commands: 'local' },
  );
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).subscribe({
    next: (count) => console.log(`seq 1 100000 | wc -l → ${count.trim()}`),
    error: (err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    },
  });
}
