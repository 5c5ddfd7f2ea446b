/** The host-key gate on its own: the first key waits for the verify stage; a re-key must bring it again. */
import { describe, expect, it } from 'vitest';
import { HostKeyGate, type HostKeyGateHost } from '../../lib/transport/host-key-gate.js';
import { HostKeyRejectedError, ProtocolError, type HostKeyInfo, type SshError, type SshPhase } from '../../lib/index.js';
import { utils } from '../../lib/ssh2/index.js';
import { wireString } from '../../lib/auth/certificate.js';
import { keyPair } from '../helpers/keys.js';

function publicKey(): Buffer {
  const pair = keyPair('ed25519');
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  return (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
}

function host(requiredRsaSize = 1024): HostKeyGateHost & { finished: boolean; offered: HostKeyInfo[]; failed: SshError[]; phases: SshPhase[] } {
  const h = {
    host: 'h',
    port: 2222,
    client: {},
    requiredRsaSize,
    finished: false,
    isFinished: () => h.finished,
    offered: [] as HostKeyInfo[],
    failed: [] as SshError[],
    phases: [] as SshPhase[],
    setPhase: (p: SshPhase) => void h.phases.push(p),
    offer: (k: HostKeyInfo) => void h.offered.push(k),
    address: () => '192.0.2.7',
    fail: (e: SshError) => {
      h.failed.push(e);
      h.finished = true;
    },
  };
  return h;
}

/** An RSA public key blob with a modulus of `bits` bits (e = 65537). */
function rsaBlob(bits: number): Buffer {
  const n = Buffer.alloc(bits / 8 + 1);
  n[1] = 0x80; // the top bit set: exactly `bits` bits, with the sign byte in front
  n[n.length - 1] = 1;
  return Buffer.concat([wireString(Buffer.from('ssh-rsa')), wireString(Buffer.from([1, 0, 1])), wireString(n)]);
}

describe('RequiredRSASize', () => {
  it('an RSA host key below the size is rejected before the verify stage; at the size it is offered', () => {
    const small = host();
    const answers: boolean[] = [];
    new HostKeyGate(small).onKey(rsaBlob(768), (ok) => answers.push(ok));
    expect(answers).toEqual([false]);
    expect(small.offered).toEqual([]);
    expect(small.failed[0]).toBeInstanceOf(HostKeyRejectedError);
    expect(small.failed[0]?.message).toMatch(/RSA host key of 768 bits is below RequiredRSASize 1024/);
    const strict = host(3072);
    new HostKeyGate(strict).onKey(rsaBlob(2048), () => undefined);
    expect(strict.failed[0]?.message).toMatch(/2048 bits is below RequiredRSASize 3072/);
    const fine = host(2048);
    new HostKeyGate(fine).onKey(rsaBlob(2048), () => undefined);
    expect(fine.offered).toHaveLength(1);
    expect(fine.failed).toEqual([]);
  });
});

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
    expect(h.offered[0]?.address).toBe('192.0.2.7'); // CheckHostIP's address travels with the key
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
