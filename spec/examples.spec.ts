/** Every example runs on its embedded default (against real sshd: integration/examples.spec.ts). */
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { main as jumpHost } from '../examples/jump-host.js';
import { main as knownHostsExample } from '../examples/known-hosts.js';
import { exampleSpecs } from './helpers/examples.js';

describe('examples on the embedded server', () => exampleSpecs(() => []));

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
