/** A command on a real pseudo-terminal (`script` from util-linux), for the CLI's terminal specs. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs a shell command line on a pty, typing `input`; resolves with the bytes the terminal got
 * (`script`'s log, its header and footer included) and the command's exit code.
 */
export function onTerminal(command: string, input = '', env: Record<string, string> = {}): { raw: string; code: number | undefined } {
  const dir = mkdtempSync(join(tmpdir(), 'rxssh-pty-'));
  try {
    const log = join(dir, 'typescript');
    spawnSync('script', ['-qfec', command, log], { input, timeout: 90_000, stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, TERM: 'xterm', ...env } });
    const raw = readFileSync(log, 'utf8');
    const code = /COMMAND_EXIT_CODE="(\d+)"/.exec(raw)?.[1];
    return { raw, code: code === undefined ? undefined : Number(code) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
