/**
 * SSH signatures checked with ssh2's key parser: a host certificate's CA signature, with
 * OpenSSH's CASignatureAlgorithms rule (the algorithm's name is not signed).
 */
import { once, ssh2Function } from './lazy.js';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/** A signature converter of ssh2's (`(signature, keyType) => converted`, false when it cannot). */
export type SignatureConverter = (signature: Buffer, keyType: string) => Buffer | false;

/** A signature converter from ssh2's `protocol/utils.js` (loaded on first use), or undefined if it moved. */
export function ssh2SignatureUtil(name: 'convertSignature' | 'sigSSHToASN1'): () => SignatureConverter | undefined {
  return once(() => ssh2Function<SignatureConverter>('ssh2/lib/protocol/utils.js', name));
}

/** ssh2's SSH-to-ASN.1 signature converter (ECDSA). */
const sigSSHToASN1 = ssh2SignatureUtil('sigSSHToASN1');

/**
 * CA signature algorithms accepted, as OpenSSH's default `CASignatureAlgorithms` (without the
 * security-key ones ssh2 cannot verify): never `ssh-rsa` (SHA-1) or `ssh-dss`.
 */
export const CA_SIGNATURE_ALGORITHMS: ReadonlyMap<string, readonly string[]> = new Map([
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256']],
]);

/** Whether a signature named `algorithm` may come from a CA key of `keyType`. */
export function caSignatureAllowed(keyType: string, algorithm: string): boolean {
  return CA_SIGNATURE_ALGORITHMS.get(keyType)?.includes(algorithm) === true;
}

/** Verifies an SSH-format signature (string algorithm, string blob) by a key blob over `data`. */
export function verifySshSignature(keyBlob: Buffer, data: Buffer, signature: Buffer, parseKey: (text: string) => unknown): boolean {
  const read = (buf: Buffer, at: number): [Buffer, number] | undefined => {
    if (at + 4 > buf.length) return undefined;
    const n = buf.readUInt32BE(at);
    return at + 4 + n > buf.length ? undefined : [buf.subarray(at + 4, at + 4 + n), at + 4 + n];
  };
  const algo = read(signature, 0);
  const sig = algo && read(signature, algo[1]);
  const type = read(keyBlob, 0);
  if (!algo || !sig || !type) return false;
  const algorithm = algo[0].toString('latin1');
  // The algorithm's name is not signed: it must fit the CA key's type and be allowed, or a
  // SHA-1 RSA signature renamed to anything else would be checked with SHA-1 (ssh2's default).
  if (!caSignatureAllowed(type[0].toString('latin1'), algorithm)) return false;
  const key = parseKey(`${type[0].toString('latin1')} ${keyBlob.toString('base64')}`) as any;
  if (!key || key instanceof Error || typeof key.verify !== 'function') return false;
  let value: Buffer | false = sig[0];
  if (algorithm.startsWith('ecdsa-sha2-')) value = sigSSHToASN1()?.(value, algorithm) ?? false;
  if (!value) return false;
  const hash = algorithm === 'rsa-sha2-256' ? 'sha256' : algorithm === 'rsa-sha2-512' ? 'sha512' : undefined;
  return key.verify(data, value, hash) === true;
}
