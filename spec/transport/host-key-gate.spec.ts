/** The host-key gate on its own: the first key waits for the verify stage; a re-key must bring it again. */
import { describe, expect, it } from 'vitest';
import { HostKeyGate, type HostKeyGateHost } from '../../lib/transport/host-key-gate.js';
import { HostKeyRejectedError, ProtocolError, type HostKeyInfo, type SshError, type SshPhase } from '../../lib/index.js';
import { utils } from '../../lib/ssh2/index.js';
import { wireString } from '../../lib/auth/certificate.js';

function publicKey(): Buffer {
  const pair = utils.generateKeyPairSync('ed25519');
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  return (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
}

function host(): HostKeyGateHost & { finished: boolean; offered: HostKeyInfo[]; failed: SshError[]; phases: SshPhase[] } {
  const h = {
    host: 'h',
    port: 2222,
    client: {},
    finished: false,
    isFinished: () => h.finished,
    offered: [] as HostKeyInfo[],
    failed: [] as SshError[],
    phases: [] as SshPhase[],
    setPhase: (p: SshPhase) => void h.phases.push(p),
    offer: (k: HostKeyInfo) => void h.offered.push(k),
    fail: (e: SshError) => {
      h.failed.push(e);
      h.finished = true;
    },
  };
  return h;
}

describe('HostKeyGate', () => {
  it('holds the first key until the verify stage answers; yes lets ssh2 go on', () => {
    const h = host();
    const gate = new HostKeyGate(h);
    const key = publicKey();
    const answers: boolean[] = [];
    gate.onKey(key, (ok) => answers.push(ok));
    expect(answers).toEqual([]);
    expect(h.offered).toHaveLength(1);
    expect(h.offered[0]?.key.equals(key)).toBe(true);
    expect(h.offered[0]?.fingerprint).toMatch(/^SHA256:/);
    gate.answer(true);
    expect(answers).toEqual([true]);
    expect(h.phases).toEqual(['host-key', 'kex']);
  });

  it('no: ssh2 is told no and the connection fails with the verify stage\'s error (or HostKeyRejectedError)', () => {
    const h = host();
    const gate = new HostKeyGate(h);
    const answers: boolean[] = [];
    gate.onKey(publicKey(), (ok) => answers.push(ok));
    gate.answer(false);
    expect(answers).toEqual([false]);
    expect(h.failed[0]).toBeInstanceOf(HostKeyRejectedError);
    expect(gate.rejection).toBe(h.failed[0]);
  });

  it('a re-key with the same key passes without asking again; another key is refused', () => {
    const h = host();
    const gate = new HostKeyGate(h);
    const key = publicKey();
    const answers: boolean[] = [];
    gate.onKey(key, (ok) => answers.push(ok));
    gate.answer(true);
    gate.onKey(Buffer.from(key), (ok) => answers.push(ok));
    expect(answers).toEqual([true, true]);
    expect(h.offered).toHaveLength(1);
    gate.onKey(publicKey(), (ok) => answers.push(ok));
    expect(answers).toEqual([true, true, false]);
    expect(h.failed[0]).toBeInstanceOf(HostKeyRejectedError);
    expect(h.failed[0]?.message).toContain('Host key changed during re-key');
  });

  it('a later verify stage that rejects an accepted key still ends the connection', () => {
    const h = host();
    const gate = new HostKeyGate(h);
    gate.onKey(publicKey(), () => undefined);
    gate.answer(true);
    gate.answer(false);
    expect(h.failed[0]).toBeInstanceOf(HostKeyRejectedError);
  });

  it('a host certificate it cannot parse is a ProtocolError, never a pass', () => {
    const h = host();
    const gate = new HostKeyGate(h);
    const answers: boolean[] = [];
    gate.onKey(Buffer.concat([wireString('ssh-ed25519-cert-v01@openssh.com'), wireString(Buffer.alloc(3))]), (ok) => answers.push(ok));
    expect(answers).toEqual([false]);
    expect(h.failed[0]).toBeInstanceOf(ProtocolError);
    expect(h.offered).toEqual([]);
  });

  it('after the end, every key is refused', () => {
    const h = host();
    h.finished = true;
    const answers: boolean[] = [];
    new HostKeyGate(h).onKey(publicKey(), (ok) => answers.push(ok));
    expect(answers).toEqual([false]);
  });
});
