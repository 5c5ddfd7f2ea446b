/**
 * RevokedHostKeys: KRLs made by `ssh-keygen -k` (every section kind) and plain key lists, with
 * `ssh-keygen -Q` — OpenSSH's own KRL check — as the oracle for every key and certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKrl, revokedBy } from '../../lib/transport/revoked-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-krl-'));
const keygen = (...args: string[]) => execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'pipe' });
const blobOf = (file: string): Buffer => Buffer.from(readFileSync(file, 'utf8').split(' ')[1] ?? '', 'base64');

/** A key pair; its public file. */
function key(name: string, type = 'ed25519'): string {
  keygen('-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', join(dir, name));
  return join(dir, `${name}.pub`);
}
/** A host certificate for `name`'s key, by `ca`, with serial and key ID. */
function cert(name: string, ca: string, serial: number, id: string): string {
  const pub = key(name);
  keygen('-s', join(dir, ca), '-h', '-I', id, '-z', String(serial), '-n', 'web1', '-V', '-5m:+1h', pub);
  return join(dir, `${name}-cert.pub`);
}
/** `ssh-keygen -Q`: whether OpenSSH finds `file` revoked by `krl`. */
function opensshSays(krl: string, file: string): boolean {
  try {
    execFileSync('ssh-keygen', ['-Q', '-f', krl, file], { stdio: 'pipe' });
    return false;
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    if (/REVOKED/.test(out)) return true;
    throw err;
  }
}

key('ca');
key('ca2');
const subjects = {
  plainListed: key('plain-listed'),
  bySha1: key('by-sha1', 'rsa'),
  bySha256: key('by-sha256', 'ecdsa'),
  byHash: key('by-hash'),
  clean: key('clean'),
  serial7: cert('serial7', 'ca', 7, 'seven'),
  serial8: cert('serial8', 'ca', 8, 'eight'),
  inRange: cert('in-range', 'ca', 150, 'ranged'),
  pastRange: cert('past-range', 'ca', 301, 'ranged-out'),
  byId: cert('by-id', 'ca', 9, 'revoked-id'),
  otherCa: cert('other-ca', 'ca2', 7, 'seven'),
  bitmap: cert('bitmap', 'ca', 1003, 'bits'),
};
const fingerprint = (file: string): string => (execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' }).split(' ')[1] ?? '');

describe('RevokedHostKeys', () => {
  it('a KRL with every section kind: rxssh agrees with ssh-keygen -Q on every key and certificate', () => {
    const spec = join(dir, 'krl.spec');
    writeFileSync(
      spec,
      [
        `key: ${readFileSync(subjects.plainListed, 'utf8').trim()}`,
        `sha1: ${readFileSync(subjects.bySha1, 'utf8').trim()}`,
        `sha256: ${readFileSync(subjects.bySha256, 'utf8').trim()}`,
        `hash: ${fingerprint(subjects.byHash)}`,
        '',
      ].join('\n'),
    );
    const krl = join(dir, 'revoked.krl');
    keygen('-k', '-f', krl, spec);
    const certSpec = join(dir, 'certs.spec');
    // Serials 1000-1010 with gaps make ssh-keygen choose a bitmap; 7 a list; 100-300 a range.
    writeFileSync(certSpec, ['serial: 7', 'serial: 100-300', 'serial: 1000', 'serial: 1003', 'serial: 1005', 'serial: 1010', 'id: revoked-id', ''].join('\n'));
    keygen('-k', '-u', '-s', join(dir, 'ca.pub'), '-f', krl, certSpec);
    const parsed = parseKrl(readFileSync(krl));
    expect(parsed.keys.length + parsed.sha1.size + parsed.sha256.size).toBeGreaterThanOrEqual(4);
    expect(parsed.certificates.length).toBe(1);
    const verdicts = Object.fromEntries(Object.entries(subjects).map(([name, file]) => [name, [revokedBy(krl, blobOf(file)) !== undefined, opensshSays(krl, file)]]));
    for (const [name, [ours, theirs]] of Object.entries(verdicts)) expect(ours, name).toBe(theirs);
    expect(Object.entries(verdicts).filter(([, [r]]) => r).map(([n]) => n).sort()).toEqual(
      ['bitmap', 'byHash', 'bySha1', 'bySha256', 'byId', 'inRange', 'plainListed', 'serial7'].sort(),
    );
  });

  it('a revoked CA key revokes its certificates; a certificate is revoked by its own key', () => {
    const krl = join(dir, 'ca.krl');
    keygen('-k', '-f', krl, join(dir, 'ca2.pub'));
    expect(revokedBy(krl, blobOf(subjects.otherCa))?.why).toMatch(/CA is revoked/);
    expect(opensshSays(krl, subjects.otherCa)).toBe(true);
    const own = join(dir, 'own.krl');
    keygen('-k', '-f', own, join(dir, 'serial8.pub'));
    expect(revokedBy(own, blobOf(subjects.serial8))).toBeDefined();
    expect(opensshSays(own, subjects.serial8)).toBe(true);
  });

  it('a plain list of public keys: a listed key, and a certificate of a listed key or CA, with FILE:LINE', () => {
    const list = join(dir, 'revoked.pub');
    writeFileSync(list, `# revoked\n${readFileSync(subjects.clean, 'utf8')}${readFileSync(join(dir, 'ca2.pub'), 'utf8')}`);
    expect(revokedBy(list, blobOf(subjects.clean))).toEqual({ where: `${list}:2`, why: 'its key is listed' });
    expect(revokedBy(list, blobOf(subjects.otherCa))?.where).toBe(`${list}:3`);
    expect(revokedBy(list, blobOf(subjects.plainListed))).toBeUndefined();
  });

  it('a missing or malformed file throws (the policy then fails closed)', () => {
    expect(() => revokedBy(join(dir, 'missing'), blobOf(subjects.clean))).toThrow();
    const bad = join(dir, 'bad.krl');
    writeFileSync(bad, Buffer.concat([Buffer.from('SSHKRL\n\0', 'latin1'), Buffer.from([0, 0, 0, 1, 0, 0])]));
    expect(() => revokedBy(bad, blobOf(subjects.clean))).toThrow(/truncated/);
  });
});
