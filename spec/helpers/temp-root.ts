/**
 * vitest globalSetup: one temporary directory for the whole run, as TMPDIR for the specs, the
 * processes they start (the CLI, sshd, npm) and everything under os.tmpdir(); removed with
 * everything in it when the run ends. A spec that forgets its own temporary files (a 557 MB
 * SFTP tree, one directory per key file) then leaves nothing behind on the machine, and two
 * runs at once never share a directory. Mode 1777 like /tmp: the throwaway accounts that sshd
 * logs in as must reach files the specs make for them.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  // One root for the run, however many projects set up: a root inside a root would lengthen
  // every path (a Unix socket path over 108 bytes cannot be bound).
  if (process.env['RXSSH_RUN_ROOT'] !== undefined) return () => undefined;
  const before = process.env['TMPDIR'];
  const root = mkdtempSync(join(tmpdir(), 'rxssh-run-'));
  chmodSync(root, 0o1777);
  process.env['TMPDIR'] = root;
  process.env['RXSSH_RUN_ROOT'] = root;
  return () => {
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
    delete process.env['RXSSH_RUN_ROOT'];
    rmSync(root, { recursive: true, force: true });
  };
}
