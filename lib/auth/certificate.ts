/**
 * OpenSSH certificates (PROTOCOL.certkeys): parsing a `*-cert-v01@openssh.com` blob into its
 * fields, the plain public key it certifies, and the marker that ties a parsed private key to
 * the certificate it authenticates with.
 */
import type { CertificateSummary } from '../transport/transport.js';

/** Where a parsed private key carries the certificate to offer with it. */
export const CERTIFICATE = Symbol('rxssh.certificate');

/**
 * Where a certificate identity held by an agent carries its signer: signs `data` for the named
 * signature algorithm and resolves with the SSH signature blob (string algorithm, string sig).
 */
export const AGENT_SIGNER = Symbol('rxssh.agentSigner');
export type AgentSigner = (data: Buffer, signatureAlgorithm: string) => Promise<Buffer>;

/** A parsed certificate. */
export interface ParsedCertificate {
  /** The whole certificate blob, as sent on the wire. */
  readonly blob: Buffer;
  /** Its type name, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: string;
  /** The plain key type it certifies, e.g. `ssh-ed25519`. */
  readonly keyType: string;
  /** The certified public key as a plain public-key blob. */
  readonly publicKey: Buffer;
  readonly serial: bigint;
  /** 1 = user, 2 = host. */
  readonly certType: number;
  readonly keyId: string;
  /** Empty: valid for any principal. */
  readonly principals: readonly string[];
  /** Seconds since the epoch. */
  readonly validAfter: bigint;
  /** Seconds since the epoch; 2^64-1 = forever. */
  readonly validBefore: bigint;
  readonly criticalOptions: readonly string[];
  readonly extensions: readonly string[];
  /** The CA's public-key blob. */
  readonly signatureKey: Buffer;
  /** The CA's signature (SSH format: string algorithm, string signature). */
  readonly signature: Buffer;
  /** What the CA signed: the blob up to the signature field. */
  readonly signed: Buffer;
}

class Reader {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  u32(): number {
    if (this.#at + 4 > this.buf.length) throw new TypeError('certificate: truncated');
    const v = this.buf.readUInt32BE(this.#at);
    this.#at += 4;
    return v;
  }
  u64(): bigint {
    if (this.#at + 8 > this.buf.length) throw new TypeError('certificate: truncated');
    const v = this.buf.readBigUInt64BE(this.#at);
    this.#at += 8;
    return v;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (this.#at + n > this.buf.length) throw new TypeError('certificate: truncated');
    const v = this.buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }
  string(): string {
    return this.bytes().toString('utf8');
  }
  /** A packed list of strings (principals), or of name + data pairs (options: the names). */
  strings(pairs: boolean): string[] {
    const inner = new Reader(this.bytes());
    const out: string[] = [];
    while (!inner.done) {
      out.push(inner.string());
      if (pairs) inner.bytes();
    }
    return out;
  }
  get done(): boolean {
    return this.#at >= this.buf.length;
  }
  get position(): number {
    return this.#at;
  }
}

function wireString(data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** Parses an OpenSSH certificate: a `TYPE BASE64 [comment]` line (a `-cert.pub` file) or the raw blob. */
export function parseCertificate(input: string | Buffer): ParsedCertificate {
  let blob: Buffer;
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const m = /^\s*([a-z0-9@.-]+-cert-v01@openssh\.com)\s+([A-Za-z0-9+/]+=*)/.exec(text);
  if (m) blob = Buffer.from(m[2] as string, 'base64');
  else if (Buffer.isBuffer(input)) blob = input;
  else throw new TypeError('certificate: not an OpenSSH certificate (TYPE-cert-v01@openssh.com BASE64)');
  const r = new Reader(blob);
  const type = r.string();
  const keyType = type.replace(/-cert-v01@openssh\.com$/, '');
  if (keyType === type) throw new TypeError(`certificate: ${type} is not a certificate type`);
  r.bytes(); // nonce
  let publicKey: Buffer;
  if (keyType === 'ssh-ed25519') {
    publicKey = Buffer.concat([wireString(keyType), wireString(r.bytes())]);
  } else if (keyType.startsWith('ecdsa-sha2-')) {
    const curve = r.bytes();
    publicKey = Buffer.concat([wireString(keyType), wireString(curve), wireString(r.bytes())]);
  } else if (keyType === 'ssh-rsa') {
    const e = r.bytes();
    publicKey = Buffer.concat([wireString(keyType), wireString(e), wireString(r.bytes())]);
  } else {
    throw new TypeError(`certificate: unsupported key type ${keyType}`);
  }
  const serial = r.u64();
  const certType = r.u32();
  const keyId = r.string();
  const principals = r.strings(false);
  const validAfter = r.u64();
  const validBefore = r.u64();
  const criticalOptions = r.strings(true);
  const extensions = r.strings(true);
  r.bytes(); // reserved
  const signatureKey = r.bytes();
  const signedLength = r.position;
  const signature = r.bytes();
  return { blob, type, keyType, publicKey, serial, certType, keyId, principals, validAfter, validBefore, criticalOptions, extensions, signatureKey, signature, signed: blob.subarray(0, signedLength) };
}

/** The certificate algorithm to name in a request signed with `signatureAlgorithm` (RSA: rsa-sha2-*). */
export function certificateAlgorithm(cert: ParsedCertificate, signatureAlgorithm: string): string {
  if (cert.keyType === 'ssh-rsa' && (signatureAlgorithm === 'rsa-sha2-256' || signatureAlgorithm === 'rsa-sha2-512')) return `${signatureAlgorithm}-cert-v01@openssh.com`;
  return cert.type;
}

/** Whether the certificate is valid at `now` (seconds), and if not, why. */
export function certificateValidity(cert: ParsedCertificate, now = BigInt(Math.floor(Date.now() / 1000))): 'valid' | 'expired' | 'not-yet-valid' {
  if (now < cert.validAfter) return 'not-yet-valid';
  if (now >= cert.validBefore) return 'expired';
  return 'valid';
}

/** What a certificate says, for auth events. */
export function summarize(cert: ParsedCertificate): CertificateSummary {
  return {
    type: cert.type,
    keyId: cert.keyId,
    serial: cert.serial.toString(),
    principals: [...cert.principals],
    validAfter: new Date(Number(cert.validAfter) * 1000),
    validBefore: cert.validBefore >= 0xffffffffffffffffn ? null : new Date(Number(cert.validBefore) * 1000),
  };
}

/** The certificate summary of an ssh2 auth method whose key carries a certificate, if any. */
export function certificateOf(method: unknown): CertificateSummary | undefined {
  const key = (method as { key?: Record<symbol, unknown> } | null)?.key;
  const cert = key?.[CERTIFICATE] as ParsedCertificate | undefined;
  return cert ? summarize(cert) : undefined;
}

/** The plain key type (`ssh-rsa`, `ssh-ed25519`, …) of a certificate a key stands for, or undefined for a plain key. */
export function certifiedKeyType(key: unknown): string | undefined {
  return ((key as Record<symbol, unknown> | null | undefined)?.[CERTIFICATE] as ParsedCertificate | undefined)?.keyType;
}

/** The SSH wire encoding of a string (exported for the request builder). */
export { wireString };

/**
 * The first of `files` that holds a certificate for `publicKey` (a plain public-key blob), as
 * text; unreadable files and certificates of other keys are passed over (OpenSSH pairs
 * `CertificateFile`s with identities the same way).
 */
export function certificateFor(publicKey: Buffer, files: readonly string[], read: (file: string) => string | undefined): string | undefined {
  for (const file of files) {
    const text = read(file);
    if (text === undefined) continue;
    try {
      if (parseCertificate(text).publicKey.equals(publicKey)) return text;
    } catch {
      // not a certificate
    }
  }
  return undefined;
}

/** Why a host certificate is refused (the `reason` of `HostCertificateError`). */
export type HostCertificateProblem =
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-principal'
  | 'unknown-ca'
  | 'revoked'
  | 'bad-signature'
  | 'not-a-host-cert'
  | 'unknown-critical-option'
  | 'signature-algorithm';

/** The CA signature algorithms OpenSSH's client accepts by default (`CASignatureAlgorithms`): no SHA-1 `ssh-rsa`. */
export const DEFAULT_CA_SIGNATURE_ALGORITHMS: readonly string[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'rsa-sha2-512', 'rsa-sha2-256'];

/** How far a host certificate's validity window is stretched for clock skew, in seconds. */
export const HOST_CERT_CLOCK_SKEW_S = 60n;

/**
 * Checks a host certificate the way OpenSSH's client does: a host certificate (type 2), signed
 * by one of `caKeys` (verified), not made with or for a `revoked` key, naming `hostName` among
 * its principals (none named: refused, fail closed), valid now (± {@link HOST_CERT_CLOCK_SKEW_S}),
 * with no critical option (OpenSSH defines none for hosts), its CA signature made with one of
 * `signatureAlgorithms`.
 *
 * @param verify - checks `signature` (SSH format) by the CA key blob over `data`.
 * @returns undefined when it is valid, otherwise why not.
 */
export function checkHostCertificate(
  cert: ParsedCertificate,
  options: {
    readonly caKeys: readonly Buffer[];
    readonly revoked: readonly Buffer[];
    readonly hostName: string;
    readonly now?: bigint;
    /** The CA signature algorithms accepted (default {@link DEFAULT_CA_SIGNATURE_ALGORITHMS}). */
    readonly signatureAlgorithms?: readonly string[];
    readonly verify: (caKey: Buffer, data: Buffer, signature: Buffer) => boolean;
  },
): HostCertificateProblem | undefined {
  if (cert.certType !== 2) return 'not-a-host-cert';
  const ca = options.caKeys.find((k) => k.equals(cert.signatureKey));
  if (!ca) return 'unknown-ca';
  const algorithm = cert.signature.length >= 4 ? cert.signature.subarray(4, 4 + cert.signature.readUInt32BE(0)).toString('latin1') : '';
  if (!(options.signatureAlgorithms ?? DEFAULT_CA_SIGNATURE_ALGORITHMS).includes(algorithm)) return 'signature-algorithm';
  if (options.revoked.some((k) => k.equals(cert.signatureKey) || k.equals(cert.publicKey) || k.equals(cert.blob))) return 'revoked';
  if (!options.verify(ca, cert.signed, cert.signature)) return 'bad-signature';
  if (cert.criticalOptions.length > 0) return 'unknown-critical-option';
  const name = options.hostName.toLowerCase();
  if (!cert.principals.some((p) => p.toLowerCase() === name)) return 'wrong-principal';
  const now = options.now ?? BigInt(Math.floor(Date.now() / 1000));
  if (now + HOST_CERT_CLOCK_SKEW_S < cert.validAfter) return 'not-yet-valid';
  if (now - HOST_CERT_CLOCK_SKEW_S >= cert.validBefore) return 'expired';
  return undefined;
}

/** The host-key algorithms that offer a certificate (ed25519 and ECDSA; no SHA-1 RSA). */
export const HOST_CERT_ALGORITHMS = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
] as const;
