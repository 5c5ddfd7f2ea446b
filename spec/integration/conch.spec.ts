/**
 * Against Twisted Conch (Debian's python3-twisted), the seed's own server: it sends a command's
 * EOF before its exit status. rxssh used to send CHANNEL_CLOSE as soon as both sides had sent
 * EOF (Node's autoDestroy calling ssh2's destroy()), so under load Conch dropped the status and
 * a command that exited 0 was reported failed. Run in a loop with busy processes beside it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { from, lastValueFrom, mergeMap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, connect, exec, insecureAcceptAnyHostKey, password, run, verifyHostKey } from '../../lib/index.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../helpers/conch-server.py', import.meta.url).pathname;
const secret = 'conch-pw';

let server: ChildProcess | undefined;
let port = 0;
let dir = '';
const busy: ChildProcess[] = [];

beforeAll(async () => {
  // Fails loudly when Twisted is missing (.ci/run installs python3-twisted).
  execFileSync(PYTHON, ['-c', 'import twisted.conch.ssh'], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'rxssh-conch-'));
  const key = join(dir, 'host_rsa');
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', key]);
  server = spawn(PYTHON, ['-W', 'ignore', SCRIPT, key, secret], { stdio: ['pipe', 'pipe', 'ignore'] });
  const stdout = server.stdout;
  if (!stdout) throw new Error('no stdout');
  port = await new Promise<number>((resolve, reject) => {
    server?.once('exit', (code) => reject(new Error(`conch server exited with ${code}`)));
    createInterface({ input: stdout }).once('line', (line) => resolve(Number(line)));
  });
}, 30_000);

/** Stops the busy loops: SIGTERM, which `timeout` passes on to its loop (SIGKILL would orphan it). */
function unload(): void {
  for (const b of busy.splice(0)) b.kill('SIGTERM');
}

afterAll(() => {
  unload();
  server?.stdin?.end();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const login = () => connect({ host: '127.0.0.1', port, username: 'me' }).pipe(verifyHostKey(insecureAcceptAnyHostKey()), authenticate(password(secret)));
/** Busy loops beside the client, each ended by `timeout` after 60 s at the latest, as a loaded machine. */
function load(n: number): void {
  for (let i = 0; i < n; i++) busy.push(spawn('timeout', ['60', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' }));
}

/** `count` runs of `command` two at a time, each as its own connection; what each ended with. */
function runs(count: number, command: string): Promise<string[]> {
  return lastValueFrom(
    from(Array.from({ length: count }, (_, i) => i)).pipe(
      mergeMap(
        (i) =>
          lastValueFrom(login().pipe(run(command))).then(
            (r) => `exit ${r.exitCode}`,
            (err: unknown) => `run ${i}: ${(err as Error).message}`,
          ),
        2,
      ),
      toArray(),
    ),
  );
}

describe('Twisted Conch: every exit status the server sends is kept', () => {
  it('under load: 80 runs of "exit 0" and 80 of "exit 3" each report their status', async () => {
    load(6);
    try {
      const zero = await runs(80, 'exit 0');
      const three = await runs(80, 'exit 3');
      expect(zero.filter((o) => o !== 'exit 0')).toEqual([]);
      expect(three.filter((o) => o !== 'exit 3')).toEqual([]);
    } finally {
      unload();
    }
    // exec's completion is the same verdict: exit 0 completes.
    await lastValueFrom(login().pipe(exec('exit 0')), { defaultValue: undefined });
  }, 120_000);

  it('a command that closes its output and exits later: the later status is kept (as ssh waits for it)', async () => {
    const r = await lastValueFrom(login().pipe(run('echo early; exec >&- 2>&-; sleep 1; exit 7')));
    expect(r).toMatchObject({ stdout: 'early\n', exitCode: 7 });
  });
});
