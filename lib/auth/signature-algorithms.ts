/**
 * `PubkeyAcceptedAlgorithms`: which signature algorithm user authentication signs with, as
 * OpenSSH's key_sig_algorithm chooses it. A key whose algorithm is not in the list is not
 * offered. An RSA key signs with the first RSA entry of the list whose signature algorithm the
 * server announced (`server-sig-algs`, RFC 8308); a server that announced nothing gets plain
 * `ssh-rsa` (SHA-1), and only when the list names it — OpenSSH's default does not, so by default
 * an RSA key is not offered to such a server rather than signed with SHA-1.
 */
import { certifiedKeyType } from './certificate.js';

/** OpenSSH 9.2's default `PubkeyAcceptedAlgorithms` (`ssh -G`), rxssh's default too (`sk-*` never match a key rxssh holds). */
export const DEFAULT_PUBKEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com',
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'rsa-sha2-512', 'rsa-sha2-256',
];

/** Every signature algorithm OpenSSH 9.2 knows (`ssh -Q PubkeyAcceptedAlgorithms`; the same names serve HostKeyAlgorithms). */
export const PUBKEY_ALGORITHM_NAMES: readonly string[] = [
  'ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521', 'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-dss', 'ssh-dss-cert-v01@openssh.com', 'ssh-rsa', 'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256', 'rsa-sha2-256-cert-v01@openssh.com', 'rsa-sha2-512', 'rsa-sha2-512-cert-v01@openssh.com',
];

const CERT_SUFFIX = '-cert-v01@openssh.com';

/** SHA-1 `ssh-rsa` and DSA (and their certificates): below rxssh's hardened floor, allowed only with `algorithmPolicy: 'compatible'`. */
export function belowPubkeyFloor(name: string): boolean {
  return /^ssh-(rsa|dss)(-cert-v01@openssh\.com)?$/.test(name);
}
const RSA = new Set(['ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512']);

/** The plain signature algorithm of a list entry (`rsa-sha2-512-cert-v01@openssh.com` → `rsa-sha2-512`). */
function signatureOf(entry: string): string {
  return entry.endsWith(CERT_SUFFIX) ? entry.slice(0, -CERT_SUFFIX.length) : entry;
}

/** One connection's choice: the accepted list, and what the server announced once it did. */
export class SignatureChoice {
  /** `server-sig-algs` as the server announced it; null when it announced none (before EXT_INFO, or never). */
  serverAlgorithms: readonly string[] | null = null;

  constructor(
    /** `PubkeyAcceptedAlgorithms`, in order. */
    readonly accepted: readonly string[] = DEFAULT_PUBKEY_ALGORITHMS,
  ) {}

  /**
   * The algorithm a key of `keyType` (ssh2's name: `ssh-rsa` for any RSA key) signs with — as a
   * certificate when `certificate` — or undefined when the list and the server leave none.
   */
  algorithmFor(keyType: string, certificate: boolean): string | undefined {
    const suffix = certificate ? CERT_SUFFIX : '';
    if (keyType !== 'ssh-rsa' || this.serverAlgorithms === null) {
      const name = keyType + suffix;
      return this.accepted.includes(name) ? name : undefined;
    }
    const server = this.serverAlgorithms;
    return this.accepted.find((entry) => entry.endsWith(CERT_SUFFIX) === certificate && RSA.has(signatureOf(entry)) && server.includes(signatureOf(entry)));
  }

  /** Why a key is not offered, or undefined when it is. */
  refusal(keyType: string, certificate: boolean): string | undefined {
    if (this.algorithmFor(keyType, certificate) !== undefined) return undefined;
    const what = `${certificate ? 'certificate' : 'key'} of type ${keyType}`;
    if (keyType === 'ssh-rsa' && this.serverAlgorithms === null) return `${what} not offered: the server did not announce rsa-sha2-256/512 (server-sig-algs) and PubkeyAcceptedAlgorithms leaves out ssh-rsa (SHA-1)`;
    if (keyType === 'ssh-rsa') return `${what} not offered: none of the RSA signature algorithms of PubkeyAcceptedAlgorithms is one the server announced (${this.serverAlgorithms?.join(',')})`;
    return `${what} not offered: not in PubkeyAcceptedAlgorithms`;
  }

  /**
   * The `server-sig-algs` ssh2 should see so that its own choice for RSA keys is this one's:
   * the server's names less every RSA one but the one chosen (for plain keys, else for certificates).
   */
  ssh2View(): string[] {
    const rsa = this.algorithmFor('ssh-rsa', false) ?? this.algorithmFor('ssh-rsa', true);
    return [...(this.serverAlgorithms ?? []).filter((a) => !RSA.has(a)), ...(rsa ? [signatureOf(rsa)] : [])];
  }
}

/** What the loop hands ssh2, as far as the choice looks at it. */
interface OfferedMethod {
  readonly type: string;
  readonly key?: unknown;
  readonly agent?: unknown;
}

/**
 * A credential as `choice` lets it be offered: a key it refuses gives the reason (the loop skips
 * it); an agent comes back as one whose identities leave out the keys it refuses.
 */
export function screenMethod<M extends OfferedMethod>(method: M, choice: SignatureChoice): M | string {
  if (method.type === 'publickey') {
    const key = method.key as { type?: unknown } | undefined;
    const certified = certifiedKeyType(key);
    const type = certified ?? (typeof key?.type === 'string' ? key.type : undefined);
    return type === undefined ? method : (choice.refusal(type, certified !== undefined) ?? method);
  }
  if (method.type === 'agent' && method.agent && typeof (method.agent as { getIdentities?: unknown }).getIdentities === 'function') {
    const agent = method.agent as { getIdentities: (cb: (err: Error | null, keys?: Array<{ type?: unknown }>) => void) => void };
    const screened = Object.create(agent) as typeof agent;
    screened.getIdentities = (cb) => agent.getIdentities((err, keys) => cb(err, keys?.filter((k) => typeof k.type !== 'string' || choice.algorithmFor(k.type, false) !== undefined)));
    return { ...method, agent: screened };
  }
  return method;
}
