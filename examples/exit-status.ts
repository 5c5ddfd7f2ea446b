/**
 * Check exit status, two ways: as data with `run()`, and as an error with `exec()` (then
 * handled with catchError, like any RxJS error).
 *
 *   npx tsx examples/exit-status.ts [--host …]
 */
import { catchError, concat, ignoreElements, map, of, type Observable } from 'rxjs';
import { ExitStatusError, exec, run } from 'rxssh';
import { connectTo, isMain, withTarget } from './target.js';

export function main(argv: readonly string[]): Observable<string> {
  return withTarget(
    argv,
    (target) => {
      const connection$ = connectTo(target); // each step opens its own connection
      return concat(
        connection$.pipe(
          run('test -d /'),
          map((r) => `run('test -d /') → exit ${r.exitCode}`),
        ),
        connection$.pipe(
          run('exit 3'),
          map((r) => `run('exit 3') → exit ${r.exitCode} (a result, not an error)`),
        ),
        connection$.pipe(
          exec('echo "no such thing" >&2; exit 2'),
          ignoreElements(),
          catchError((err: unknown) =>
            of(
              err instanceof ExitStatusError
                ? `exec(…) → ExitStatusError: exit ${err.exitCode}, stderr ${JSON.stringify(err.stderrTail.trim())}`
                : `exec(…) → ${String(err)}`,
            ),
          ),
        ),
      );
    },
    { commands: 'local' },
  );
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).subscribe({
    next: (line) => console.log(line),
    error: (err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    },
  });
}
