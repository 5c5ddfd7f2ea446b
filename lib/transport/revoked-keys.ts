/**
 * `RevokedHostKeys` as OpenSSH reads it (sshkey_check_revoked): a Key Revocation List in the
 * binary format of OpenSSH's PROTOCOL.krl (made by `ssh-keygen -k`), or else a plain list of
 * public keys. A certificate is revoked by its CA's certificate sections (serials, serial
 * ranges and bitmaps, key IDs), by its CA key, or by its own key; a plain key by the explicit
 * key, SHA-1 and SHA-256 sections. A file that cannot be read revokes everything (fail closed,
 * as ssh does).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyTypeOf } from '../util/key-blob.js';
import { parseCertificate, type ParsedCertificate } from '../auth/certificate.js';

/** Why a key is revoked, and where (`FILE` or `FILE:LINE`). */
export interface Revocation {
  readonly where: string;
  readonly why: string;
}

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
const SECTION_CERTIFICATES = 1;
const SECTION_EXPLICIT_KEY = 2;
const SECTION_FINGERPRINT_SHA1 = 3;
const SECTION_SIGNATURE = 4;
const SECTION_FINGERPRINT_SHA256 = 5;
const CERT_SERIAL_LIST = 0x20;
const CERT_SERIAL_RANGE = 0x21;
const CERT_SERIAL_BITMAP = 0x22;
const CERT_KEY_ID = 0x23;

/** What one CA's certificate sections revoke (an empty CA key: key IDs of any CA). */
interface CaRevocations {
  readonly ca: Buffer;
  readonly serials: Set<bigint>;
  readonly ranges: Array<readonly [bigint, bigint]>;
  readonly keyIds: Set<string>;
}

/** A parsed KRL: what it revokes. */
export interface Krl {
  readonly keys: readonly Buffer[];
  readonly sha1: ReadonlySet<string>;
  readonly sha256: ReadonlySet<string>;
  readonly certificates: readonly CaRevocations[];
}

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.at >= this.buf.length;
  }
  need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error('truncated KRL');
  }
  byte(): number {
    this.need(1);
    return this.buf[this.at++] as number;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): Buffer {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

/** Parses a KRL (PROTOCOL.krl); throws for a malformed one. */
export function parseKrl(data: Buffer): Krl {
  if (data.length < 8 || !data.subarray(0, 8).equals(KRL_MAGIC)) throw new Error('not a KRL');
  const r = new Reader(data);
  r.at = 8;
  const version = r.u32();
  if (version !== 1) throw new Error(`unsupported KRL format version ${version}`);
  r.u64(); // krl_version
  r.u64(); // generated_date
  r.u64(); // flags
  r.string(); // reserved
  r.string(); // comment
  const keys: Buffer[] = [];
  const sha1 = new Set<string>();
  const sha256 = new Set<string>();
  const certificates: CaRevocations[] = [];
  while (!r.done) {
    const type = r.byte();
    const section = new Reader(r.string());
    switch (type) {
      case SECTION_CERTIFICATES:
        certificates.push(certificateSection(section));
        break;
      case SECTION_EXPLICIT_KEY:
        while (!section.done) keys.push(Buffer.from(section.string()));
        break;
      case SECTION_FINGERPRINT_SHA1:
        while (!section.done) sha1.add(section.string().toString('hex'));
        break;
      case SECTION_FINGERPRINT_SHA256:
        while (!section.done) sha256.add(section.string().toString('hex'));
        break;
      case SECTION_SIGNATURE:
        break; // a signature over the KRL so far; ssh does not require one for RevokedHostKeys
      default:
        throw new Error(`unknown KRL section ${type}`);
    }
  }
  return { keys, sha1, sha256, certificates };
}

function certificateSection(section: Reader): CaRevocations {
  const ca = Buffer.from(section.string());
  section.string(); // reserved
  const found: CaRevocations = { ca, serials: new Set(), ranges: [], keyIds: new Set() };
  while (!section.done) {
    const type = section.byte();
    const data = new Reader(section.string());
    switch (type) {
      case CERT_SERIAL_LIST:
        while (!data.done) found.serials.add(data.u64());
        break;
      case CERT_SERIAL_RANGE:
        while (!data.done) found.ranges.push([data.u64(), data.u64()]);
        break;
      case CERT_SERIAL_BITMAP: {
        while (!data.done) {
          const offset = data.u64();
          const bitmap = data.string();
          // An mpint, big-endian: bit i (from the least significant) revokes serial offset + i.
          for (let byte = 0; byte < bitmap.length; byte++) {
            const value = bitmap[bitmap.length - 1 - byte] as number;
            for (let bit = 0; bit < 8; bit++) if (value & (1 << bit)) found.serials.add(offset + BigInt(byte * 8 + bit));
          }
        }
        break;
      }
      case CERT_KEY_ID:
        while (!data.done) found.keyIds.add(data.string().toString('utf8'));
        break;
      default:
        throw new Error(`unknown KRL certificate section ${type}`);
    }
  }
  return found;
}

const sha = (algorithm: 'sha1' | 'sha256', blob: Buffer): string => createHash(algorithm).update(blob).digest('hex');

/** Why `blob` (a plain key) is revoked by `krl`, or undefined. */
function plainRevoked(krl: Krl, blob: Buffer): string | undefined {
  if (krl.keys.some((k) => k.equals(blob))) return 'its key is listed';
  if (krl.sha1.has(sha('sha1', blob))) return 'its SHA-1 fingerprint is listed';
  if (krl.sha256.has(sha('sha256', blob))) return 'its SHA-256 fingerprint is listed';
  return undefined;
}

/** Why a host key (a plain key blob or a certificate blob) is revoked by `krl`, or undefined. */
export function krlRevokes(krl: Krl, blob: Buffer): string | undefined {
  const cert = certificateOf(blob);
  if (cert) {
    for (const section of krl.certificates) {
      const anyCa = section.ca.length === 0;
      if (!anyCa && !section.ca.equals(cert.signatureKey)) continue;
      if (section.keyIds.has(cert.keyId)) return `its certificate's key ID ${JSON.stringify(cert.keyId)} is revoked`;
      if (anyCa) continue; // serials mean something only under one CA
      if (section.serials.has(cert.serial) || section.ranges.some(([min, max]) => cert.serial >= min && cert.serial <= max)) return `its certificate's serial ${cert.serial} is revoked`;
    }
    const ca = plainRevoked(krl, cert.signatureKey);
    if (ca) return `its certificate's CA is revoked (${ca})`;
    return plainRevoked(krl, cert.publicKey);
  }
  return plainRevoked(krl, blob);
}

function certificateOf(blob: Buffer): ParsedCertificate | undefined {
  if (!keyTypeOf(blob)?.endsWith('-cert-v01@openssh.com')) return undefined;
  return parseCertificate(blob);
}

/**
 * Why `blob` is revoked by the `RevokedHostKeys` file, or undefined. A KRL is used as such;
 * anything else is read as public keys, one per line (a certificate is revoked by its own key
 * or its CA's, as with ssh). Throws when the file cannot be read or parsed.
 */
export function revokedBy(file: string, blob: Buffer): Revocation | undefined {
  const data = readFileSync(file);
  if (data.subarray(0, 8).equals(KRL_MAGIC)) {
    const why = krlRevokes(parseKrl(data), blob);
    return why ? { where: file, why } : undefined;
  }
  const cert = certificateOf(blob);
  const candidates = cert ? [cert.publicKey, cert.signatureKey] : [blob];
  const lines = data.toString('utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    // `TYPE BASE64 [comment]`, or with options before it as in authorized_keys.
    const at = fields.findIndex((f, j) => j + 1 < fields.length && /^[a-z0-9@.-]+$/.test(f) && keyTypeOf(Buffer.from(fields[j + 1] ?? '', 'base64')) === f);
    if (at === -1) continue;
    const listed = Buffer.from(fields[at + 1] ?? '', 'base64');
    const plain = keyTypeOf(listed)?.endsWith('-cert-v01@openssh.com') ? parseCertificate(listed).publicKey : listed;
    if (candidates.some((c) => c.equals(plain))) return { where: `${file}:${i + 1}`, why: cert && cert.signatureKey.equals(plain) ? "its certificate's CA key is listed" : 'its key is listed' };
  }
  return undefined;
}
