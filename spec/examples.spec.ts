/** Every example runs, both on its embedded default and against the real sshd. */
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { main as cat } from '../examples/cat.js';
import { main as exitStatus } from '../examples/exit-status.js';
import { main as jumpHost } from '../examples/jump-host.js';
import { main as knownHostsExample } from '../examples/known-hosts.js';
import { main as pipeCommands } from '../examples/pipe-commands.js';
import { main as runCommand } from '../examples/run-command.js';
import { main as sftpSync } from '../examples/sftp-sync.js';
import { main as tunnel } from '../examples/tunnel.js';
import { sshd } from './helpers/index.js';

function sshdArgs(): string[] {
  const s = sshd();
  return ['--host', s.host, '--port', String(s.port), '--user', s.username, '--key', s.keys['ed25519'] ?? '', '--fingerprint', s.hostFingerprints['ed25519'] ?? ''];
}

describe.each([
  ['the embedded server', () => []],
  ['real sshd', sshdArgs],
])('examples on %s', (_name, args) => {
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
});

describe('examples on embedded servers only (their real-sshd counterparts are in integration/trust.spec.ts)', () => {
  it('jump-host.ts reaches the target through the bastion', async () => {
    const r = await lastValueFrom(jumpHost());
    expect(r.stdout).toBe('hello from the target, reached through the bastion\n');
  });

  it('known-hosts.ts learns, verifies, and refuses a changed key', async () => {
    const lines = await lastValueFrom(knownHostsExample().pipe(toArray()));
    expect(lines[0]).toMatch(/^first connection: learned the key → \|1\|/);
    expect(lines[1]).toBe('second connection: verified against known_hosts');
    expect(lines[2]).toMatch(/^changed key refused: ERR_SSH_HOST_KEY_MISMATCH at line 1/);
  });
});

describe('tunnel.ts and sftp-sync.ts', () => {
  it.each([
    ['the embedded server', () => []],
    ['real sshd', sshdArgs],
  ])('tunnel.ts fetches a page through a local forward (%s)', async (_name, args) => {
    expect(await lastValueFrom(tunnel(args()))).toBe('hello through the tunnel (/index.html)');
  });

  it('sftp-sync.ts uploads, lists, downloads byte-exact and removes (real sshd)', async () => {
    const lines = await lastValueFrom(sftpSync(sshdArgs()).pipe(toArray()));
    expect(lines[0]).toMatch(/^uploaded \d+ bytes$/);
    expect(lines[1]).toMatch(/^listed rxssh-sync-\d+-sftp-sync\.ts \(\d+ bytes\)$/);
    expect(lines[2]).toMatch(/^downloaded \d+ bytes$/);
    expect(lines.slice(3)).toEqual(['byte-exact: yes', 'removed']);
  });
});
