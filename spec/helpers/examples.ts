/** The examples' shared suite: each example run against one server (embedded or real sshd). */
import { lastValueFrom, toArray } from 'rxjs';
import { expect, it } from 'vitest';
import { main as cat } from '../../examples/cat.js';
import { main as exitStatus } from '../../examples/exit-status.js';
import { main as pipeCommands } from '../../examples/pipe-commands.js';
import { main as runCommand } from '../../examples/run-command.js';
import { main as tunnel } from '../../examples/tunnel.js';

/** Registers the specs of the examples that take `--host …` arguments (none: their embedded default). */
export function exampleSpecs(args: () => string[]): void {
  it('cat.ts: the Conch tutorial', async () => {
    expect(await lastValueFrom(cat(args()))).toBe('This data will be echoed back to us by "cat."\r\n');
  });

  it('run-command.ts', async () => {
    const r = await lastValueFrom(runCommand(args(), 'echo $((6 * 7))'));
    expect([r.stdout, r.exitCode]).toEqual(['42\n', 0]);
  });

  it('pipe-commands.ts', async () => {
    expect((await lastValueFrom(pipeCommands(args()))).trim()).toBe('100000');
  });

  it('exit-status.ts', async () => {
    expect(await lastValueFrom(exitStatus(args()).pipe(toArray()))).toEqual([
      "run('test -d /') → exit 0",
      "run('exit 3') → exit 3 (a result, not an error)",
      'exec(…) → ExitStatusError: exit 2, stderr "no such thing"',
    ]);
  });

  it('tunnel.ts fetches a page through a local forward', async () => {
    expect(await lastValueFrom(tunnel(args()))).toBe('hello through the tunnel (/index.html)');
  });
}
