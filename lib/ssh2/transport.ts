/**
 * Reach-ins at the transport layer: the key exchange offer (known key types first, host
 * certificates), the exchange-hash check of a certificate, strict KEX, and the host-key proofs
 * ssh2 would ask for after every login.
 */
import { createRequire } from 'node:module';
import { sendIgnore } from './packets.js';

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/**
 * Stops ssh2 from answering OpenSSH's `hostkeys-00@openssh.com` announcement (sent after every
 * login) with a `hostkeys-prove-00@openssh.com` request. ssh2 does that on every connection, so
 * the server signs with each of its host keys (RSA included) and the client verifies each
 * signature — about 3 ms of server CPU and some client CPU per connection, for a result
 * (ssh2's 'hostkeys' event) rxssh does not use. OpenSSH's own client asks for proofs only when
 * `UpdateHostKeys` has new keys to learn.
 *
 * Saying nothing instead would cost ~40 ms per connection: sshd sends the announcement and the
 * channel confirmation as separate small segments with Nagle on, so the confirmation waits for
 * the client's delayed ACK. An SSH_MSG_IGNORE in reply carries that ACK at once.
 *
 * `wanted()` true (the connection learns host keys, ssh_config `UpdateHostKeys`): ssh2 asks for
 * the proofs as it would, and emits the keys that proved themselves as 'hostkeys'.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function skipHostKeyProofs(client: object, wanted: () => boolean = () => false): boolean {
  const handlers = (client as any)._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p: { requestSuccess?: () => void }, name: unknown, wantReply: unknown, ...rest: unknown[]) => {
    // UpdateHostKeys: ssh2's own handler asks for the proofs and emits the proven keys ('hostkeys').
    if (name !== 'hostkeys-00@openssh.com' || wanted()) return original(p, name, wantReply, ...rest);
    if (wantReply === true) p.requestSuccess?.();
    else sendIgnore(p);
    return undefined;
  };
  return true;
}

/**
 * Starts a key re-exchange from the client's side (ssh_config `RekeyLimit`): ssh2's `Protocol`
 * can, its `Client` has no method for it. ssh2 ignores the request while an exchange runs (that
 * one renews the keys). Packets sent meanwhile wait in ssh2's queue, as during a server's.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was sent).
 */
export function startRekey(client: object): boolean {
  const protocol = (client as any)._protocol;
  if (typeof protocol?.rekey !== 'function') return false;
  protocol.rekey();
  return true;
}

/** Whether the key exchange negotiated strict mode (Terrapin, CVE-2023-48795), from ssh2's protocol state. */
export function strictKexNegotiated(client: object): boolean | undefined {
  const mode: unknown = (client as any)._protocol?._strictMode;
  return typeof mode === 'boolean' ? mode : undefined;
}

/** The host-key algorithms that sign with a key of this type. */
function algorithmsOfKeyType(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

/**
 * The client's host-key algorithm list (ssh2's default edited as configured, or a full list)
 * with the algorithms of the already-known key types first, as OpenSSH orders its list by
 * known_hosts; undefined when nothing is known or nothing would move. Uses ssh2's own list
 * builder and defaults, so the result is exactly what ssh2 would have offered, reordered.
 */
export function orderHostKeyAlgorithms(configured: unknown, knownTypes: readonly string[]): string[] | undefined {
  if (knownTypes.length === 0) return undefined;
  let list: string[];
  try {
    const require = createRequire(import.meta.url);
    const { generateAlgorithmList } = require('ssh2/lib/utils.js') as { generateAlgorithmList: (c: unknown, d: string[], s: string[]) => string[] };
    const { DEFAULT_SERVER_HOST_KEY, SUPPORTED_SERVER_HOST_KEY } = require('ssh2/lib/protocol/constants.js') as Record<string, string[]>;
    list = [...generateAlgorithmList(configured, DEFAULT_SERVER_HOST_KEY ?? [], SUPPORTED_SERVER_HOST_KEY ?? [])];
  } catch {
    return undefined; // an invalid list: ssh2 reports it itself when the client starts
  }
  const known = new Set(knownTypes.flatMap(algorithmsOfKeyType));
  const preferred = list.filter((a) => known.has(a));
  if (preferred.length === 0) return undefined;
  return [...preferred, ...list.filter((a) => !known.has(a))];
}

/**
 * Host certificates, step 1: puts `algorithms` (the `*-cert-v01@openssh.com` host-key
 * algorithms) first in the client's KEXINIT, as OpenSSH does when known_hosts has a matching
 * `@cert-authority` line. ssh2 refuses these names in its config (it cannot verify a
 * certificate), so the offer it built is rebuilt with them, before it is sent (after the
 * server's identification line arrives).
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function offerHostCertificates(client: object, algorithms: readonly string[]): boolean {
  const protocol = (client as any)._protocol;
  const offer = protocol?._offer;
  const lists = offer?.lists;
  let KexInit: (new (obj: unknown) => unknown) | undefined;
  try {
    KexInit = (createRequire(import.meta.url)('ssh2/lib/protocol/kex.js') as { KexInit?: new (obj: unknown) => unknown }).KexInit;
  } catch {
    return false;
  }
  if (typeof KexInit !== 'function' || !lists?.serverHostKey?.array || !lists.cs || !lists.sc) return false;
  const side = (s: any) => ({ cipher: s.cipher.array, mac: s.mac.array, compress: s.compress.array, lang: s.lang.array });
  protocol._offer = new KexInit({
    kex: lists.kex.array,
    serverHostKey: [...algorithms, ...lists.serverHostKey.array.filter((a: string) => !algorithms.includes(a))],
    cs: side(lists.cs),
    sc: side(lists.sc),
  });
  return true;
}

/**
 * Host certificates, step 2: lets ssh2 check the server's exchange-hash signature when the host
 * key is a certificate. ssh2 hashes the host key as sent (the certificate, as it must) but then
 * wants the signature type to equal the negotiated certificate algorithm and parses the
 * certificate as a plain key, which fails. For the key exchange in progress, its `finish` sees
 * the certificate blob where it hashes the host key, and the certified plain key (and plain
 * algorithm) where it checks the signature — the signature OpenSSH makes with the certified key.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function acceptCertificateSignature(client: object, certificate: Buffer, plainKey: Buffer, plainAlgorithm: string): boolean {
  const kex = (client as any)._protocol?._kex;
  if (!kex || typeof kex.finish !== 'function' || !Buffer.isBuffer(kex._hostKey) || !kex.negotiated) return false;
  const finish = kex.finish;
  kex.finish = function (this: any, ...args: unknown[]) {
    let reads = 0;
    // The first read of the host key is the "K_S" of the exchange hash: the certificate itself.
    Object.defineProperty(this, '_hostKey', { configurable: true, get: () => (reads++ === 0 ? certificate : plainKey), set: () => undefined });
    Object.defineProperty(this.negotiated, 'serverHostKey', { configurable: true, value: plainAlgorithm, writable: true });
    return finish.apply(this, args);
  };
  return true;
}
