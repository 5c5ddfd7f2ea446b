/** Parsing OpenSSH certificates made by ssh-keygen, and the validity window at its edges. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateAlgorithm, certificateValidity, parseCertificate } from '../../lib/auth/certificate.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-cert-unit-'));
const keygen = (...args: string[]) => execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'pipe' });
keygen('-t', 'ed25519', '-N', '', '-f', join(dir, 'ca'));

function signed(type: string, extra: string[]): { cert: string; pub: string } {
  const file = join(dir, `${type}-${extra.join('').replace(/\W/g, '')}`);
  keygen('-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file);
  keygen('-s', join(dir, 'ca'), '-I', 'the key id', '-z', '7', ...extra, `${file}.pub`);
  return { cert: readFileSync(`${file}-cert.pub`, 'utf8'), pub: readFileSync(`${file}.pub`, 'utf8') };
}

describe('parseCertificate', () => {
  it.each([['ed25519'], ['ecdsa'], ['rsa']])('reads every field of an %s user certificate and the key it certifies', (type) => {
    const { cert, pub } = signed(type, ['-n', 'alice,deploy', '-V', '20300101:20300201', '-O', 'force-command=/bin/true']);
    const c = parseCertificate(cert);
    expect(c.type).toMatch(/-cert-v01@openssh\.com$/);
    expect(c.keyId).toBe('the key id');
    expect(c.serial).toBe(7n);
    expect(c.certType).toBe(1);
    expect(c.principals).toEqual(['alice', 'deploy']);
    expect(c.criticalOptions).toEqual(['force-command']);
    expect(c.extensions).toContain('permit-pty');
    expect(c.publicKey.equals(Buffer.from(pub.split(' ')[1] ?? '', 'base64'))).toBe(true);
    expect(c.signatureKey.equals(Buffer.from(readFileSync(join(dir, 'ca.pub'), 'utf8').split(' ')[1] ?? '', 'base64'))).toBe(true);
    expect(certificateValidity(c, c.validAfter - 1n)).toBe('not-yet-valid');
    expect(certificateValidity(c, c.validAfter)).toBe('valid');
    expect(certificateValidity(c, c.validBefore - 1n)).toBe('valid');
    expect(certificateValidity(c, c.validBefore)).toBe('expired'); // OpenSSH: valid before, exclusive
  });

  it('names RSA requests rsa-sha2-256/512-cert-v01, never ssh-rsa-cert (SHA-1)', () => {
    const c = parseCertificate(signed('rsa', ['-n', 'alice']).cert);
    expect(c.type).toBe('ssh-rsa-cert-v01@openssh.com');
    expect(certificateAlgorithm(c, 'rsa-sha2-512')).toBe('rsa-sha2-512-cert-v01@openssh.com');
    expect(certificateAlgorithm(c, 'rsa-sha2-256')).toBe('rsa-sha2-256-cert-v01@openssh.com');
  });

  it('refuses what is not a certificate, and a truncated one', () => {
    expect(() => parseCertificate('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==')).toThrow(TypeError);
    const { cert } = signed('ed25519', ['-n', 'alice']);
    const [type, b64] = cert.split(' ');
    const cut = Buffer.from(b64 ?? '', 'base64').subarray(0, 60).toString('base64');
    expect(() => parseCertificate(`${type} ${cut}`)).toThrow(/truncated/);
  });
});

describe('host certificates: the CA signature and the checks', () => {
  it.each([['ed25519'], ['ecdsa'], ['rsa']])('a %s CA signature verifies; one flipped byte does not; each check has its reason', async (caType) => {
    const { checkHostCertificate } = await import('../../lib/auth/certificate.js');
    const { verifySshSignature } = await import('../../lib/ssh2/index.js');
    const { utils } = await import('../../lib/ssh2/index.js');
    const ca = join(dir, `hostca_${caType}`);
    keygen('-t', caType, ...(caType === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', ca);
    const host = join(dir, `host_${caType}`);
    keygen('-t', 'ed25519', '-N', '', '-f', host);
    keygen('-s', ca, '-h', '-I', 'web1-host', '-n', 'web1.example,10.0.0.5', '-V', '-5m:+1h', `${host}.pub`);
    const cert = parseCertificate(readFileSync(`${host}-cert.pub`, 'utf8'));
    const caKey = Buffer.from(readFileSync(`${ca}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
    const verify = (k: Buffer, data: Buffer, sig: Buffer) => verifySshSignature(k, data, sig, (t) => utils.parseKey(t));
    const base = { caKeys: [caKey], revoked: [] as Buffer[], hostName: 'WEB1.example', verify };
    expect(checkHostCertificate(cert, base)).toBeUndefined();
    const flipped = Buffer.from(cert.signed);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(checkHostCertificate({ ...cert, signed: flipped }, base)).toBe('bad-signature');
    expect(checkHostCertificate(cert, { ...base, caKeys: [] })).toBe('unknown-ca');
    expect(checkHostCertificate(cert, { ...base, revoked: [caKey] })).toBe('revoked');
    expect(checkHostCertificate(cert, { ...base, revoked: [cert.publicKey] })).toBe('revoked');
    expect(checkHostCertificate(cert, { ...base, hostName: 'web2.example' })).toBe('wrong-principal');
    expect(checkHostCertificate(cert, { ...base, now: cert.validBefore + 61n })).toBe('expired');
    expect(checkHostCertificate(cert, { ...base, now: cert.validBefore + 30n })).toBeUndefined(); // 60 s allowance for clock skew
    expect(checkHostCertificate(cert, { ...base, now: cert.validAfter - 61n })).toBe('not-yet-valid');
    expect(checkHostCertificate({ ...cert, certType: 1 }, base)).toBe('not-a-host-cert');
    expect(checkHostCertificate({ ...cert, criticalOptions: ['force-command'] }, base)).toBe('unknown-critical-option');
    // CASignatureAlgorithms: a list without the CA's algorithm refuses it.
    const used = cert.signature.subarray(4, 4 + cert.signature.readUInt32BE(0)).toString();
    expect(checkHostCertificate(cert, { ...base, signatureAlgorithms: ['ssh-ed25519', 'rsa-sha2-512', 'ecdsa-sha2-nistp256'].filter((a) => a !== used) })).toBe('signature-algorithm');
  });
});

describe('the CA signature algorithm is checked against the CA key type (issue 21 #8)', () => {
  /** A certificate whose signature is re-labelled `name` (the label is not covered by the signature). */
  function relabel(certText: string, name: string): string {
    const [type, b64] = certText.split(' ');
    const blob = Buffer.from(b64 ?? '', 'base64');
    const cert = parseCertificate(certText);
    const sigAt = blob.length - (4 + cert.signature.length);
    const algoLength = cert.signature.readUInt32BE(0);
    const inner = cert.signature.subarray(4 + algoLength);
    const label = Buffer.from(name);
    const len = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const signature = Buffer.concat([len(label.length), label, inner]);
    return `${type} ${Buffer.concat([blob.subarray(0, sigAt), len(signature.length), signature]).toString('base64')}`;
  }

  it('a SHA-1 RSA CA signature is refused under any name (ssh-rsa, or renamed ssh-ed25519, rsa-sha2-256, x)', async () => {
    const { checkHostCertificate } = await import('../../lib/auth/certificate.js');
    const { verifySshSignature } = await import('../../lib/ssh2/index.js');
    const { utils } = await import('../../lib/ssh2/index.js');
    const ca = join(dir, 'sha1ca');
    keygen('-t', 'rsa', '-b', '2048', '-N', '', '-f', ca);
    const host = join(dir, 'sha1host');
    keygen('-t', 'ed25519', '-N', '', '-f', host);
    keygen('-s', ca, '-t', 'ssh-rsa', '-h', '-I', 'h', '-n', 'web1', '-V', '-5m:+1h', `${host}.pub`);
    const text = readFileSync(`${host}-cert.pub`, 'utf8');
    const caKey = Buffer.from(readFileSync(`${ca}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
    const verify = (k: Buffer, data: Buffer, sig: Buffer) => verifySshSignature(k, data, sig, (t) => utils.parseKey(t));
    const check = (t: string, signatureAlgorithms?: string[]) => checkHostCertificate(parseCertificate(t), { caKeys: [caKey], revoked: [], hostName: 'web1', verify, ...(signatureAlgorithms ? { signatureAlgorithms } : {}) });
    expect(parseCertificate(text).signature.subarray(4, 11).toString()).toBe('ssh-rsa');
    // OpenSSH's default CASignatureAlgorithms names no SHA-1 algorithm; a label it names fails the signature.
    for (const name of ['ssh-rsa', 'x', 'ssh-dss']) expect(check(relabel(text, name)), name).toBe('signature-algorithm');
    for (const name of ['ssh-ed25519', 'rsa-sha2-256']) expect(check(relabel(text, name)), name).toBe('bad-signature');
    // Even a list that allows ssh-rsa does not make a SHA-1 signature pass.
    for (const name of ['ssh-rsa', 'x', 'ssh-dss']) expect(check(relabel(text, name), ['ssh-rsa', 'x', 'ssh-dss']), name).toBe('bad-signature');
    // The same CA signing with SHA-2 is accepted.
    keygen('-s', ca, '-t', 'rsa-sha2-512', '-h', '-I', 'h', '-n', 'web1', '-V', '-5m:+1h', `${host}.pub`);
    expect(check(readFileSync(`${host}-cert.pub`, 'utf8'))).toBeUndefined();
  });

  it('an ed25519 CA signature relabelled as another algorithm is refused', async () => {
    const { caSignatureAllowed } = await import('../../lib/ssh2/index.js');
    expect(caSignatureAllowed('ssh-ed25519', 'ssh-ed25519')).toBe(true);
    expect(caSignatureAllowed('ssh-ed25519', 'rsa-sha2-256')).toBe(false);
    expect(caSignatureAllowed('ssh-rsa', 'ssh-rsa')).toBe(false);
    expect(caSignatureAllowed('ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384')).toBe(false);
  });
});
