/**
 * Against AsyncSSH (Debian's python3-asyncssh, an independent implementation): a server that
 * does not do strict key exchange but names "strict KEX mode enabled" in its own identification
 * string must not pass `requireStrictKex` (rxssh decided it from ssh2's debug text, which
 * includes the server's ident).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError, authenticate, connect, insecureAcceptAnyHostKey, password, run, verifyHostKey } from '../../lib/index.js';
import { errorOf } from '../helpers/index.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../helpers/asyncssh-server.py', import.meta.url).pathname;

let child: ChildProcess | undefined;
let port = 0;
const secret = 'asyncssh-pw';

beforeAll(async () => {
  // Fails loudly when AsyncSSH is missing (.ci/run installs python3-asyncssh).
  execFileSync(PYTHON, ['-c', 'import asyncssh'], { stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'rxssh-asyncssh-'));
  const key = join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  if (!existsSync(key)) throw new Error('no host key');
  child = spawn(PYTHON, [SCRIPT, 'X strict KEX mode enabled', key, secret, '--no-strict-kex'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stdout = child.stdout;
  if (!stdout) throw new Error('no stdout');
  port = await new Promise<number>((resolve, reject) => {
    child?.once('exit', (code) => reject(new Error(`asyncssh server exited with ${code}`)));
    createInterface({ input: stdout }).once('line', (line) => resolve(Number(line)));
  });
}, 30_000);

afterAll(() => {
  child?.stdin?.end();
  child?.kill();
});

const login = (requireStrictKex: boolean) =>
  connect({ host: '127.0.0.1', port, username: 'me', requireStrictKex }).pipe(verifyHostKey(insecureAcceptAnyHostKey()), authenticate(password(secret)));

describe('AsyncSSH without strict key exchange (as before 2.14.2) and "strict KEX mode enabled" in its ident', () => {
  it('works without requireStrictKex', async () => {
    const r = await lastValueFrom(login(false).pipe(run('anything')));
    expect(r.stdout).toBe('asyncssh says hi\n');
  });

  it('requireStrictKex refuses it with ProtocolError (kex), decided from protocol state, not from text the server chose', async () => {
    const err = await errorOf(login(true).pipe(run('anything')));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).phase).toBe('kex');
    expect((err as ProtocolError).message).toMatch(/strict key exchange/);
  });
});
