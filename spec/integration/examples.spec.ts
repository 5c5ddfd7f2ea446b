/** Every example that takes `--host …` runs against the real sshd too. */
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { main as sftpSync } from '../../examples/sftp-sync.js';
import { exampleSpecs } from '../helpers/examples.js';
import { sshd } from '../helpers/index.js';

function sshdArgs(): string[] {
  const s = sshd();
  return ['--host', s.host, '--port', String(s.port), '--user', s.username, '--key', s.keys['ed25519'] ?? '', '--fingerprint', s.hostFingerprints['ed25519'] ?? ''];
}

describe('examples on real sshd', () => {
  exampleSpecs(sshdArgs);

  it('sftp-sync.ts uploads, lists, downloads byte-exact and removes (real sshd)', async () => {
    const lines = await lastValueFrom(sftpSync(sshdArgs()).pipe(toArray()));
    expect(lines[0]).toMatch(/^uploaded \d+ bytes$/);
    expect(lines[1]).toMatch(/^listed rxssh-sync-\d+-sftp-sync\.ts \(\d+ bytes\)$/);
    expect(lines[2]).toMatch(/^downloaded \d+ bytes$/);
    expect(lines.slice(3)).toEqual(['byte-exact: yes', 'removed']);
  });
});
