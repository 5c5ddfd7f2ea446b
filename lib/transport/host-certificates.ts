/**
 * Host certificates: judging one against the `@cert-authority` lines of known_hosts (and the
 * plain key it certifies, for ssh's fall-back), and `hostCertificateAuthority()`, the policy
 * that trusts certificates of given CAs alone.
 */
import { HostCertificateError, HostKeyUnknownError, setKnownTypes, type SshErrorContext } from '../errors.js';
import { checkHostCertificate, HOST_CERT_ALGORITHMS, parseCertificate, type ParsedCertificate } from '../auth/certificate.js';
import { verifySshSignature, utils } from '../ssh2/index.js';
import type { HostKeyPolicy } from './host-key.js';
import type { HostKeyInfo } from './transport.js';
import { KNOWN_KEY_TYPES } from './known-types.js';
import { keyTypeOf } from '../util/key-blob.js';
import { describeHostKey } from './host-key-info.js';
import { indexOf } from './known-hosts-store.js';
import { parseKnownHosts, knownHostsName, hostMatches } from './known-hosts-lookup.js';

/** The context of a host-key error about `key`. */
export function hostKeyContext(key: HostKeyInfo): SshErrorContext {
  return { host: key.host, port: key.port, phase: 'host-key' };
}

/**
 * A host certificate offered by the server: valid only when a `@cert-authority` line for the
 * host vouches for its CA and every check of {@link checkHostCertificate} passes.
 */
export async function judgeCertificate(files: readonly string[], key: HostKeyInfo, signatureAlgorithms: readonly string[] | undefined): Promise<true> {
  const index = await indexOf(files, parseKnownHosts);
  const name = knownHostsName(key.host, key.port);
  const entries = index.candidates([name, key.host]);
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(key.key);
  } catch (err) {
    throw new HostCertificateError('bad-signature', '', key.fingerprint, { ...hostKeyContext(key), cause: err });
  }
  const problem = checkHostCertificate(cert, {
    // A CA line for the host name without a port applies on any port too (ssh looks again
    // without the port).
    caKeys: entries.filter((e) => e.marker === 'cert-authority' && (hostMatches(e.hosts, name) || hostMatches(e.hosts, key.host))).map((e) => e.key),
    revoked: entries.filter((e) => e.marker === 'revoked').map((e) => e.key),
    hostName: key.host,
    ...(signatureAlgorithms ? { signatureAlgorithms } : {}),
    verify: (ca, data, signature) => verifySshSignature(ca, data, signature, (text) => utils.parseKey(text)),
  });
  if (problem) throw new HostCertificateError(problem, cert.keyId, key.fingerprint, hostKeyContext(key));
  return true;
}

/** The plain key a host certificate certifies, as the server offered it (host and port kept). */
export function plainKeyOf(key: HostKeyInfo): HostKeyInfo | undefined {
  try {
    return describeHostKey(parseCertificate(key.key).publicKey, key.host, key.port, key.address);
  } catch {
    return undefined;
  }
}

/**
 * Trusts hosts by their OpenSSH host certificate alone, like a `@cert-authority *` line in
 * known_hosts: the key exchange asks for certificates first, and a certificate is accepted when
 * one of `caKeys` signed it for the host name given to `connect` (as a principal), it is valid
 * now (60 s allowance for clock skew) and has no critical option. A plain host key is refused
 * as unknown (fail closed).
 *
 * @param caKeys - the CAs' public keys as OpenSSH lines (`ssh-ed25519 AAAA… comment`).
 * @example
 * ```ts
 * import { connect, verifyHostKey, hostCertificateAuthority } from 'rxssh';
 *
 * connect({ host: 'web1.example', username: 'me' }).pipe(verifyHostKey(hostCertificateAuthority(readFileSync('host_ca.pub', 'utf8'))));
 * ```
 */
export function hostCertificateAuthority(...caKeys: string[]): HostKeyPolicy {
  if (caKeys.length === 0) throw new TypeError('hostCertificateAuthority() needs at least one CA public key');
  const keys = caKeys.map((line) => {
    const [type, b64] = line.trim().split(/\s+/);
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!type || keyTypeOf(key) !== type) throw new TypeError(`hostCertificateAuthority(): not an OpenSSH public key: ${JSON.stringify(line.slice(0, 40))}`);
    return key;
  });
  const policy = async (key: HostKeyInfo): Promise<boolean> => {
    if (!key.type.endsWith('-cert-v01@openssh.com')) {
      const error = new HostKeyUnknownError(`Host key ${key.fingerprint} for ${knownHostsName(key.host, key.port)} is not a certificate, and only a CA is trusted`, key.fingerprint, hostKeyContext(key));
      throw setKnownTypes(error, HOST_CERT_ALGORITHMS);
    }
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(key.key);
    } catch (err) {
      throw new HostCertificateError('bad-signature', '', key.fingerprint, { ...hostKeyContext(key), cause: err });
    }
    const problem = checkHostCertificate(cert, { caKeys: keys, revoked: [], hostName: key.host, verify: (ca, data, signature) => verifySshSignature(ca, data, signature, (text) => utils.parseKey(text)) });
    if (problem) throw new HostCertificateError(problem, cert.keyId, key.fingerprint, hostKeyContext(key));
    return true;
  };
  return Object.assign(policy, { [KNOWN_KEY_TYPES]: async (): Promise<string[]> => [...HOST_CERT_ALGORITHMS] });
}
