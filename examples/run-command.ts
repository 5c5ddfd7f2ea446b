/**
 * Run one command and print its result.
 *
 *   npx tsx examples/run-command.ts [--host … ] [-- COMMAND]
 *
 * With no host, the embedded server runs the command for real on this machine (loopback only).
 */
import type { Observable } from 'rxjs';
import { run, type ExecResult } from 'rxssh';
import { connectTo, isMain, withTarget } from './target.js';

export function main(argv: readonly string[], command = 'uname -sr'): Observable<ExecResult> {
  return withTarget(argv, (target) => connectTo(target).pipe(run(command)), { commands: 'local' });
}

if (isMain(import.meta.url)) {
  const dashes = process.argv.indexOf('--');
  const argv = dashes === -1 ? process.argv.slice(2) : process.argv.slice(2, dashes);
  const command = dashes === -1 ? undefined : process.argv.slice(dashes + 1).join(' ');
  main(argv, command).subscribe({
    next: (r) => {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      console.log(`exit status: ${r.exitCode ?? `signal ${r.signal ?? 'unknown'}`}`);
    },
    error: (err: unknown) => {
      console.error(String(err));
      process.exitCode = 1;
    },
  });
}
