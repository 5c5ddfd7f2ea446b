/**
 * ssh_config's algorithm lists (`Ciphers`, `MACs`, `KexAlgorithms`, `HostKeyAlgorithms`) as ssh
 * reads them — a full list, or `+` (appended to OpenSSH's default), `-` (removed from it,
 * wildcards allowed) or `^` (put at its head) — and what rxssh negotiates from them: the same
 * order, less what rxssh cannot do, never below the hardened floor unless the caller opts in
 * (`algorithmPolicy: 'compatible'`). A name the config asks for that rxssh cannot do, or one below
 * the floor, is refused with the keyword: the connection never quietly negotiates something else.
 */
import { patternRegExp } from '../transport/known-hosts-store.js';
import type { AlgorithmsConfig } from '../transport/connect.js';
import { DEFAULT_CA_SIGNATURE_ALGORITHMS } from '../auth/certificate.js';
import { belowPubkeyFloor, DEFAULT_PUBKEY_ALGORITHMS, PUBKEY_ALGORITHM_NAMES } from '../auth/signature-algorithms.js';

/** The keywords, and the `AlgorithmsConfig` category each sets. */
export const ALGORITHM_KEYWORDS = { ciphers: 'cipher', macs: 'hmac', kexalgorithms: 'kex', hostkeyalgorithms: 'serverHostKey' } as const;
export type AlgorithmKeyword = keyof typeof ALGORITHM_KEYWORDS;

/** OpenSSH 9.2's client: every name it knows (`ssh -Q`) and its default list (`ssh -G`). */
export const OPENSSH_ALGORITHMS: Record<AlgorithmKeyword, { readonly all: readonly string[]; readonly default: readonly string[] }> = {
  ciphers: {
    all: ['3des-cbc', 'aes128-cbc', 'aes192-cbc', 'aes256-cbc', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
    default: ['chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'],
  },
  macs: {
    all: [
      'hmac-sha1', 'hmac-sha1-96', 'hmac-sha2-256', 'hmac-sha2-512', 'hmac-md5', 'hmac-md5-96', 'umac-64@openssh.com', 'umac-128@openssh.com',
      'hmac-sha1-etm@openssh.com', 'hmac-sha1-96-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-md5-etm@openssh.com', 'hmac-md5-96-etm@openssh.com', 'umac-64-etm@openssh.com', 'umac-128-etm@openssh.com',
    ],
    default: ['umac-64-etm@openssh.com', 'umac-128-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha1-etm@openssh.com', 'umac-64@openssh.com', 'umac-128@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'],
  },
  kexalgorithms: {
    all: [
      'diffie-hellman-group1-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group14-sha256', 'diffie-hellman-group16-sha512', 'diffie-hellman-group18-sha512', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group-exchange-sha256',
      'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com',
    ],
    default: [
      'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521',
      'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group16-sha512', 'diffie-hellman-group18-sha512', 'diffie-hellman-group14-sha256',
    ],
  },
  hostkeyalgorithms: {
    all: PUBKEY_ALGORITHM_NAMES,
    // OpenSSH 9.2's HostKeyAlgorithms and PubkeyAcceptedAlgorithms defaults are one list (KEX_DEFAULT_PK_ALG).
    default: DEFAULT_PUBKEY_ALGORITHMS,
  },
};

/**
 * `CASignatureAlgorithms`: any plain (not certificate) signature algorithm may be named; OpenSSH's
 * default leaves SHA-1 `ssh-rsa` (and DSA) out.
 */
const CA_SIGNATURE = {
  all: OPENSSH_ALGORITHMS.hostkeyalgorithms.all.filter((n) => !n.includes('-cert-v01@') && n !== 'ssh-dss'),
  default: DEFAULT_CA_SIGNATURE_ALGORITHMS,
};

/** `PubkeyAcceptedAlgorithms`: the same names as host keys, OpenSSH's default list. */
const PUBKEY = { all: PUBKEY_ALGORITHM_NAMES, default: DEFAULT_PUBKEY_ALGORITHMS };

/**
 * `PubkeyAcceptedAlgorithms value` as rxssh signs with it (`connect()`'s `pubkeyAlgorithms`):
 * ssh's list; a name the value asks for that rxssh cannot sign with (`sk-*`, `webauthn-*`) is an
 * Error, as is SHA-1 `ssh-rsa` or `ssh-dss` without `compatible`.
 */
export function pubkeyAlgorithmList(value: string, compatible: boolean): string[] | Error {
  const list = sshAlgorithmList('pubkeyacceptedalgorithms', value);
  if (list instanceof Error) return list;
  const asked = value[0] === '-' ? [] : split(value[0] === '+' || value[0] === '^' ? value.slice(1) : value);
  const missing = asked.filter((n) => /^(sk-|webauthn-)/.test(n));
  const below = compatible ? [] : asked.filter(belowPubkeyFloor);
  if (missing.length > 0 || below.length > 0) {
    return new Error(
      [below.length ? `${below.join(',')} below rxssh's hardened floor (opt in with algorithmPolicy 'compatible')` : '', missing.length ? `${missing.join(',')} not available in rxssh (security keys)` : ''].filter(Boolean).join('; '),
    );
  }
  return list.length > 0 ? list : new Error('no algorithm is left for pubkeyacceptedalgorithms');
}

/**
 * What rxssh (ssh2 1.17.0, pinned by spec/config/algorithms.spec.ts) can negotiate, split at the
 * hardened floor: `strong` is allowed always, `weak` only with `algorithmPolicy: 'compatible'`.
 * Host certificates (`*-cert-v01@openssh.com`) are offered from known_hosts' `@cert-authority`
 * lines, not from this list: a config that names them is not refused, and they are left out here.
 */
export const RXSSH_ALGORITHMS: Record<AlgorithmKeyword, { readonly strong: readonly string[]; readonly weak: readonly string[] }> = {
  ciphers: { strong: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'], weak: ['chacha20-poly1305@openssh.com', 'aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc'] },
  macs: {
    strong: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
    weak: ['hmac-sha1-etm@openssh.com', 'hmac-sha1', 'hmac-md5', 'hmac-sha2-256-96', 'hmac-sha2-512-96', 'hmac-ripemd160', 'hmac-sha1-96', 'hmac-md5-96'],
  },
  kexalgorithms: {
    strong: [
      'curve25519-sha256@libssh.org', 'curve25519-sha256', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group-exchange-sha256',
      'diffie-hellman-group14-sha256', 'diffie-hellman-group15-sha512', 'diffie-hellman-group16-sha512', 'diffie-hellman-group17-sha512', 'diffie-hellman-group18-sha512',
    ],
    weak: ['diffie-hellman-group-exchange-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'],
  },
  hostkeyalgorithms: { strong: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'], weak: ['ssh-rsa', 'ssh-dss'] },
};

const split = (list: string): string[] => list.split(',').map((s) => s.trim()).filter(Boolean);
/** `a` then the names of `b` not in `a` (OpenSSH's kex_names_cat). */
const cat = (a: readonly string[], b: readonly string[]): string[] => [...a, ...b.filter((n) => !a.includes(n))];

/**
 * The list ssh uses for `keyword value` (what `ssh -G` prints): an Error for a name ssh does not
 * know (ssh stops with "Bad SSH2 … spec").
 */
export function sshAlgorithmList(keyword: AlgorithmKeyword | 'casignaturealgorithms' | 'pubkeyacceptedalgorithms', value: string): string[] | Error {
  const { all, default: def } = keyword === 'casignaturealgorithms' ? CA_SIGNATURE : keyword === 'pubkeyacceptedalgorithms' ? PUBKEY : OPENSSH_ALGORITHMS[keyword];
  const op = value[0];
  if (op === '-') {
    const out = split(value.slice(1)).map((p) => patternRegExp(p));
    return def.filter((n) => !out.some((re) => re.test(n)));
  }
  const names = split(op === '+' || op === '^' ? value.slice(1) : value);
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length > 0) return new Error(`${unknown.join(',')}: not an algorithm ssh knows for ${keyword}`);
  const list = op === '+' ? cat(def, names) : op === '^' ? cat(names, def) : names;
  return [...new Set(list)];
}

/**
 * What rxssh negotiates for `keyword value`: ssh's list in ssh's order, less the names rxssh
 * cannot do or that are below the floor when they come from OpenSSH's default; a name the value
 * itself asks for that rxssh cannot do (or that is below the floor, without `compatible`) is an
 * Error naming it.
 */
export function rxsshAlgorithmList(keyword: AlgorithmKeyword, value: string, compatible: boolean): string[] | Error {
  const list = sshAlgorithmList(keyword, value);
  if (list instanceof Error) return list;
  const { strong, weak } = RXSSH_ALGORITHMS[keyword];
  const usable = (n: string): boolean => strong.includes(n) || (compatible && weak.includes(n));
  const asked = value[0] === '-' ? [] : split(value[0] === '+' || value[0] === '^' ? value.slice(1) : value);
  const cannot = asked.filter((n) => !usable(n) && !n.endsWith('-cert-v01@openssh.com'));
  if (cannot.length > 0) {
    const below = cannot.filter((n) => weak.includes(n));
    const missing = cannot.filter((n) => !weak.includes(n));
    return new Error(
      [
        below.length ? `${below.join(',')} below rxssh's hardened floor (opt in with algorithmPolicy 'compatible')` : '',
        missing.length ? `${missing.join(',')} not available in rxssh` : '',
      ].filter(Boolean).join('; '),
    );
  }
  const out = list.filter(usable);
  return out.length > 0 ? out : new Error(`no algorithm rxssh can use is left for ${keyword}`);
}

/**
 * The `AlgorithmsConfig` of a resolved config's algorithm keywords (undefined when none is set),
 * or an Error naming the keyword and why.
 */
export function algorithmsFromConfig(values: ReadonlyMap<string, string>, compatible: boolean): { algorithms: AlgorithmsConfig | undefined } | { keyword: AlgorithmKeyword; error: Error } {
  const out: Record<string, string[]> = {};
  for (const keyword of Object.keys(ALGORITHM_KEYWORDS) as AlgorithmKeyword[]) {
    const value = values.get(keyword);
    if (value === undefined) continue;
    const list = rxsshAlgorithmList(keyword, value, compatible);
    if (list instanceof Error) return { keyword, error: list };
    out[ALGORITHM_KEYWORDS[keyword]] = list;
  }
  return { algorithms: Object.keys(out).length > 0 ? (out as AlgorithmsConfig) : undefined };
}
