/**
 * Reach-ins at the user-auth layer: public-key requests signed at once, and OpenSSH user
 * certificates (ssh2#551), sent on ssh2's packet writer.
 */
import { AGENT_SIGNER, CERTIFICATE, certificateAlgorithm, wireString, type AgentSigner, type ParsedCertificate } from '../auth/certificate.js';
import type { SignatureChoice } from '../auth/signature-algorithms.js';
import { once, requireSsh2 } from './lazy.js';
import { sendPacket } from './packets.js';
import { ssh2SignatureUtil } from './signatures.js';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/**
 * Makes ssh2 send public-key authentication signed at once (RFC 4252 §7 allows it) instead of
 * first asking whether the key would do and signing only after the server's PK_OK. That saves a
 * round trip per connection and the server one `authorized_keys` lookup. Only for private keys
 * rxssh holds itself: agent keys keep the query, so an agent never signs (or asks its user to
 * confirm) for a key the server would refuse.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function signPublicKeyAtOnce(client: object, choice?: SignatureChoice): boolean {
  const protocol = (client as any)._protocol;
  if (typeof protocol?.authPK !== 'function') return false;
  const authPK = protocol.authPK.bind(protocol) as (...args: unknown[]) => unknown;
  protocol.authPK = (username: unknown, key: any, keyAlgo: unknown, cbSign: unknown): unknown => {
    const certificate: ParsedCertificate | undefined = key?.[CERTIFICATE];
    // A certificate signs with the choice for certificates (ssh2 chose for the plain key).
    const certAlgo = certificate && choice ? choice.algorithmFor(certificate.keyType, true)?.replace(/-cert-v01@openssh\.com$/, '') : typeof keyAlgo === 'string' ? keyAlgo : undefined;
    if (certificate && typeof username === 'string' && sendCertificateAuth(protocol, username, key, certificate, certAlgo)) {
      return undefined;
    }
    const query = cbSign === undefined && typeof keyAlgo !== 'function';
    if (!query || typeof key?.isPrivateKey !== 'function' || key.isPrivateKey() !== true || typeof key.sign !== 'function') {
      return authPK(username, key, keyAlgo, cbSign);
    }
    const hash = keyAlgo === 'rsa-sha2-256' ? 'sha256' : keyAlgo === 'rsa-sha2-512' ? 'sha512' : undefined;
    return authPK(username, key, keyAlgo, (data: Buffer, done: (signature: Buffer) => void) => {
      const signature: unknown = key.sign(data, hash);
      // A key that cannot sign goes the usual way: query, then ssh2 reports the signing error.
      if (signature instanceof Error || !Buffer.isBuffer(signature)) authPK(username, key, keyAlgo);
      else done(signature);
    });
  };
  return true;
}

/** ssh2's compatibility flag for OpenSSH 7.4, which signs with RSA SHA-2 but does not say so. */
const impliedRsaSha2 = once((): number | undefined => {
  try {
    const flag: unknown = (requireSsh2('ssh2/lib/protocol/constants.js') as { COMPAT?: Record<string, unknown> }).COMPAT?.['IMPLY_RSA_SHA2_SIGALGS'];
    return typeof flag === 'number' ? flag : undefined;
  } catch {
    return undefined;
  }
});

/**
 * Makes ssh2 sign as `choice` says (PubkeyAcceptedAlgorithms): ssh2 picks an RSA key's signature
 * algorithm from the server's `server-sig-algs` in its own order (SHA-256 first, SHA-1 when the
 * server announced nothing). Its EXT_INFO handler is given the server's list with only the
 * chosen RSA algorithm left in (none: ssh2 skips RSA keys), and when the server sent no EXT_INFO
 * before the user-auth service, the same view is handed to it then — so ssh2 never falls back
 * to SHA-1 on its own. `choice.serverAlgorithms` records what the server really announced.
 * OpenSSH 7.4's missing announcement is supplied as ssh does (`rsa-sha2-256,rsa-sha2-512`),
 * and ssh2's own flag for it cleared.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function steerSignatureAlgorithms(client: object, choice: SignatureChoice): boolean {
  const protocol = (client as any)._protocol;
  const handlers = protocol?._handlers;
  const implied = impliedRsaSha2();
  if (typeof handlers?.EXT_INFO !== 'function' || typeof handlers.SERVICE_ACCEPT !== 'function' || typeof protocol._compatFlags !== 'number' || implied === undefined) return false;
  const extInfo = handlers.EXT_INFO as (p: unknown, exts: unknown[]) => unknown;
  const serviceAccept = handlers.SERVICE_ACCEPT as (p: unknown, name: unknown) => unknown;
  let seen = false;
  handlers.EXT_INFO = (p: unknown, exts: unknown): unknown => {
    if (seen || !Array.isArray(exts)) return extInfo(p, exts as unknown[]);
    seen = true;
    const announced = exts.find((e: any) => e?.name === 'server-sig-algs' && Array.isArray(e.algs)) as { algs: string[] } | undefined;
    const sha2 = (protocol._compatFlags & implied) !== 0 ? ['rsa-sha2-256', 'rsa-sha2-512'] : [];
    protocol._compatFlags &= ~implied;
    choice.serverAlgorithms = announced ? [...announced.algs, ...sha2.filter((a) => !announced.algs.includes(a))] : sha2.length > 0 ? sha2 : null;
    return extInfo(p, [...exts.filter((e: any) => e?.name !== 'server-sig-algs'), { name: 'server-sig-algs', algs: choice.ssh2View() }]);
  };
  handlers.SERVICE_ACCEPT = (p: unknown, name: unknown): unknown => {
    if (!seen) handlers.EXT_INFO(p, []);
    return serviceAccept(p, name);
  };
  return true;
}

/** ssh2's signature converter (ECDSA DER → SSH's two mpints). */
const convertSignature = ssh2SignatureUtil('convertSignature');

/**
 * Public-key authentication with an OpenSSH certificate (PROTOCOL.certkeys), which ssh2 cannot
 * do (ssh2#551): the request names the certificate algorithm and carries the certificate blob;
 * the signature inside it is made by the certified private key and labelled with the plain
 * algorithm (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`). Sent signed at once, on
 * ssh2's packet writer, queued as a 'publickey' attempt so ssh2 reads the answer as usual
 * (and tries its next RSA hash on a failure, which comes back here).
 *
 * @returns false when the request could not be made (nothing was sent).
 */
function sendCertificateAuth(protocol: any, username: string, key: any, certificate: ParsedCertificate, keyAlgo: string | undefined): boolean {
  const sessionId: unknown = protocol._kex?.sessionID;
  const writer = protocol._packetRW?.write;
  const sendRaw = sendPacket();
  const convert = convertSignature();
  if (!sendRaw || !convert || !Buffer.isBuffer(sessionId) || typeof writer?.alloc !== 'function' || !Array.isArray(protocol._authsQueue)) return false;
  const signatureAlgorithm = keyAlgo ?? String(key.type);
  // Never an ssh-rsa-cert with a SHA-1 signature: the plain key goes the usual way instead.
  if (certificate.keyType === 'ssh-rsa' && signatureAlgorithm !== 'rsa-sha2-256' && signatureAlgorithm !== 'rsa-sha2-512') return false;
  const hash = signatureAlgorithm === 'rsa-sha2-256' ? 'sha256' : signatureAlgorithm === 'rsa-sha2-512' ? 'sha512' : undefined;
  const body = Buffer.concat([
    Buffer.from([50]), // SSH_MSG_USERAUTH_REQUEST
    wireString(username),
    wireString('ssh-connection'),
    wireString('publickey'),
    Buffer.from([1]),
    wireString(certificateAlgorithm(certificate, signatureAlgorithm)),
    wireString(certificate.blob),
  ]);
  const toSign = Buffer.concat([wireString(sessionId), body]);
  const send = (signatureBlob: Buffer): void => {
    const payload = Buffer.concat([body, wireString(signatureBlob)]);
    const packet: Buffer = writer.alloc(payload.length);
    payload.copy(packet, writer.allocStart);
    protocol._authsQueue.push('publickey');
    sendRaw(protocol, writer.finalize(packet));
  };
  const agentSigner: AgentSigner | undefined = key[AGENT_SIGNER];
  if (agentSigner) {
    // Held by an agent: it signs (asynchronously); ssh2 waits for the server's answer meanwhile.
    // Should the agent fail, the request goes unsigned and the server refuses it.
    agentSigner(toSign, signatureAlgorithm).then(send, () => send(Buffer.concat([wireString(signatureAlgorithm), wireString(Buffer.alloc(0))])));
    return true;
  }
  const raw: unknown = key.sign(toSign, hash);
  if (!Buffer.isBuffer(raw)) return false;
  const signature = convert(raw, String(key.type));
  if (!signature) return false;
  send(Buffer.concat([wireString(signatureAlgorithm), wireString(signature)]));
  return true;
}
