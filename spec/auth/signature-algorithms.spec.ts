/**
 * PubkeyAcceptedAlgorithms as OpenSSH's key_sig_algorithm chooses: which keys are offered and
 * which signature an RSA key makes, for servers that announced server-sig-algs and ones that did
 * not. Against a real sshd: spec/integration/ssh-config-keywords.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PUBKEY_ALGORITHMS, SignatureChoice, screenMethod } from '../../lib/auth/signature-algorithms.js';
import { CERTIFICATE } from '../../lib/auth/certificate.js';

const announced = (accepted: readonly string[] | undefined, server: readonly string[] | null): SignatureChoice => {
  const choice = new SignatureChoice(accepted);
  choice.serverAlgorithms = server;
  return choice;
};

describe('SignatureChoice', () => {
  it('by default signs RSA with rsa-sha2-512 when announced (OpenSSH\'s order), else rsa-sha2-256, never SHA-1', () => {
    expect(announced(undefined, ['rsa-sha2-256', 'rsa-sha2-512', 'ssh-ed25519']).algorithmFor('ssh-rsa', false)).toBe('rsa-sha2-512');
    expect(announced(undefined, ['rsa-sha2-256', 'ssh-rsa']).algorithmFor('ssh-rsa', false)).toBe('rsa-sha2-256');
    expect(announced(undefined, ['ssh-rsa']).algorithmFor('ssh-rsa', false)).toBeUndefined();
    expect(announced(undefined, null).algorithmFor('ssh-rsa', false)).toBeUndefined();
    expect(announced(undefined, null).refusal('ssh-rsa', false)).toMatch(/did not announce rsa-sha2-256\/512.*ssh-rsa \(SHA-1\)/);
    expect(new SignatureChoice().accepted).toEqual(DEFAULT_PUBKEY_ALGORITHMS);
  });

  it('follows the list\'s order and leaves out what it does not name', () => {
    const choice = announced(['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512'], ['rsa-sha2-512', 'rsa-sha2-256']);
    expect(choice.algorithmFor('ssh-rsa', false)).toBe('rsa-sha2-256');
    expect(choice.algorithmFor('ssh-ed25519', false)).toBe('ssh-ed25519');
    expect(choice.algorithmFor('ecdsa-sha2-nistp256', false)).toBeUndefined();
    expect(choice.refusal('ecdsa-sha2-nistp256', false)).toMatch(/not in PubkeyAcceptedAlgorithms/);
    // Certificates need their own entries.
    expect(choice.algorithmFor('ssh-ed25519', true)).toBeUndefined();
    const certs = announced(['rsa-sha2-256-cert-v01@openssh.com', 'rsa-sha2-512'], ['rsa-sha2-512', 'rsa-sha2-256']);
    expect(certs.algorithmFor('ssh-rsa', true)).toBe('rsa-sha2-256-cert-v01@openssh.com');
    expect(certs.algorithmFor('ssh-rsa', false)).toBe('rsa-sha2-512');
  });

  it('SHA-1 ssh-rsa only when listed and the server announced nothing, or announced it', () => {
    expect(announced(['ssh-rsa', 'rsa-sha2-512'], null).algorithmFor('ssh-rsa', false)).toBe('ssh-rsa');
    expect(announced(['ssh-rsa', 'rsa-sha2-512'], ['rsa-sha2-512', 'ssh-rsa']).algorithmFor('ssh-rsa', false)).toBe('ssh-rsa');
    expect(announced(['rsa-sha2-512', 'ssh-rsa'], ['rsa-sha2-512', 'ssh-rsa']).algorithmFor('ssh-rsa', false)).toBe('rsa-sha2-512');
  });

  it('shows ssh2 only the chosen RSA algorithm (none when none), the server\'s other names kept', () => {
    expect(announced(undefined, ['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa']).ssh2View()).toEqual(['ssh-ed25519', 'rsa-sha2-512']);
    expect(announced(undefined, null).ssh2View()).toEqual([]);
    expect(announced(['ssh-rsa'], null).ssh2View()).toEqual(['ssh-rsa']);
  });

  it('screens credentials: a refused key gives the reason, an agent comes back with its refused keys left out', () => {
    const choice = announced(['ssh-ed25519'], ['rsa-sha2-512']);
    expect(screenMethod({ type: 'publickey', key: { type: 'ssh-rsa' } }, choice)).toMatch(/key of type ssh-rsa not offered/);
    const ed = { type: 'publickey', key: { type: 'ssh-ed25519' } };
    expect(screenMethod(ed, choice)).toBe(ed);
    expect(screenMethod({ type: 'publickey', key: { type: 'ssh-ed25519', [CERTIFICATE]: { keyType: 'ssh-ed25519' } } }, choice)).toMatch(/certificate of type ssh-ed25519/);
    const agent = { getIdentities: (cb: (e: Error | null, keys: Array<{ type: string }>) => void) => cb(null, [{ type: 'ssh-rsa' }, { type: 'ssh-ed25519' }]) };
    const screened = screenMethod({ type: 'agent', agent }, choice);
    expect(typeof screened).toBe('object');
    let keys: Array<{ type?: unknown }> | undefined;
    (screened as { agent: typeof agent }).agent.getIdentities((_e, k) => (keys = k));
    expect(keys).toEqual([{ type: 'ssh-ed25519' }]);
  });
});
