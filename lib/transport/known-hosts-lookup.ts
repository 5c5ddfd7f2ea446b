/**
 * OpenSSH known_hosts read: parsing (markers, hashed names, patterns, negation, `[host]:port`),
 * matching a host, and judging an offered key against the entries.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { keyTypeOf } from '../util/key-blob.js';
import { wildcard } from './known-hosts-store.js';
import { HOST_CERT_ALGORITHMS } from '../auth/certificate.js';

/**
 * One parsed known_hosts line.
 *
 * @example
 * ```ts
 * import { parseKnownHosts } from 'rxssh';
 *
 * for (const e of parseKnownHosts(text, 'known_hosts')) console.log(e.line, e.marker ?? '', e.keyType);
 * ```
 */
export interface KnownHostsEntry {
  /** The file it came from. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** `@cert-authority`, `@revoked`, or undefined for a plain entry. */
  readonly marker: 'cert-authority' | 'revoked' | undefined;
  /** The host patterns as written (comma list, or one hashed `|1|salt|hash`). */
  readonly hosts: string;
  /** The key type, e.g. `ssh-ed25519`. */
  readonly keyType: string;
  /** The raw public key blob. */
  readonly key: Buffer;
}

/**
 * Parses known_hosts text. Comments, blank and malformed lines are skipped (as OpenSSH does).
 *
 * @example
 * ```ts
 * import { parseKnownHosts } from 'rxssh';
 *
 * parseKnownHosts('example.org ssh-ed25519 AAAAC3Nza…\n', 'known_hosts')[0]?.keyType; // 'ssh-ed25519'
 * ```
 */
export function parseKnownHosts(text: string, file = '<memory>'): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else continue;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    // The blob starts with its own type name; a line whose type disagrees is malformed.
    if (keyTypeOf(key) !== keyType) continue;
    entries.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/**
 * The name OpenSSH looks up: `host`, or `[host]:port` for a port other than 22. The host is
 * lower-cased first, as `ssh` does before any look-up (hashed entries hash the lower-case name).
 *
 * @example
 * ```ts
 * import { knownHostsName } from 'rxssh';
 *
 * knownHostsName('Web1', 2222); // '[web1]:2222'
 * ```
 */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

function hashedMatches(hashed: string, name: string): boolean {
  const parts = hashed.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const want = Buffer.from(parts[3] ?? '', 'base64');
  const got = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * Whether a known_hosts host field matches the name (`host` or `[host]:port`), following
 * OpenSSH: comma-separated patterns, `!` negation (a matching negation vetoes the line),
 * hashed `|1|…` entries.
 *
 * @example
 * ```ts
 * import { hostMatches } from 'rxssh';
 *
 * hostMatches('*.example.org,!bad.example.org', 'web.example.org'); // true
 * hostMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222');                // true
 * ```
 */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcard(pattern.slice(1), name)) return false;
    } else if (wildcard(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * Hashes a name the way `ssh-keygen -H` does: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 *
 * @example
 * ```ts
 * import { hashHostName } from 'rxssh';
 *
 * hashHostName('web1'); // '|1|…|…' as ssh-keygen -H writes it
 * ```
 */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/**
 * The host is known with the offered key.
 *
 * @example
 * ```ts
 * import { lookupKnownHost, parseKnownHosts } from 'rxssh';
 *
 * const v = lookupKnownHost(parseKnownHosts(text), 'web1', 22, key);
 * if (v.kind === 'known') console.log(`known at line ${v.entry.line}`);
 * ```
 */
export interface KnownHostVerdict {
  /** Discriminator. */
  readonly kind: 'known';
  /** The matching line. */
  readonly entry: KnownHostsEntry;
}

/**
 * The offered key is `@revoked`, or the host is known with another key of the same type.
 *
 * @example
 * ```ts
 * import { lookupKnownHost, parseKnownHosts } from 'rxssh';
 *
 * const v = lookupKnownHost(parseKnownHosts(text), 'web1', 22, key);
 * if (v.kind === 'mismatch' || v.kind === 'revoked') console.log(`${v.entry.file}:${v.entry.line}`);
 * ```
 */
export interface BadHostVerdict {
  /** Discriminator. */
  readonly kind: 'revoked' | 'mismatch';
  /** The `@revoked` line, or the line whose key differs. */
  readonly entry: KnownHostsEntry;
}

/**
 * No line vouches for the offered key.
 *
 * @example
 * ```ts
 * import { lookupKnownHost, parseKnownHosts } from 'rxssh';
 *
 * const v = lookupKnownHost(parseKnownHosts(text), 'web1', 22, key);
 * if (v.kind === 'unknown' && v.otherKeys.length) console.log('known by another key type: never new');
 * ```
 */
export interface UnknownHostVerdict {
  /** Discriminator. */
  readonly kind: 'unknown';
  /**
   * Lines that know the host by keys of other types. A host with any known key is never new:
   * `acceptNew` refuses it, as OpenSSH's accept-new does.
   */
  readonly otherKeys: readonly KnownHostsEntry[];
  /** Only a `@cert-authority` line matched the host (unusable: ssh2 has no host certificates). */
  readonly certAuthority: boolean;
}

/**
 * The outcome of looking a host and key up in known_hosts entries.
 *
 * @example
 * ```ts
 * import { lookupKnownHost, parseKnownHosts } from 'rxssh';
 *
 * console.log(lookupKnownHost(parseKnownHosts(text), 'web1', 22, key).kind); // known | mismatch | revoked | unknown
 * ```
 */
export type KnownHostsVerdict = KnownHostVerdict | BadHostVerdict | UnknownHostVerdict;

/**
 * Looks a host (name and port) and its offered key up, as OpenSSH does: a `@revoked` key
 * always loses; a matching line with the same key is known; a matching line with another key of
 * the same type is a mismatch; for a port other than 22 the same key recorded under the plain
 * host name is also known (OpenSSH's fallback); otherwise the host is unknown (`certAuthority` tells that only a
 * `@cert-authority` line matched: the host's certificate, not its plain key, is what to check).
 *
 * @example
 * ```ts
 * import { lookupKnownHost, parseKnownHosts } from 'rxssh';
 *
 * lookupKnownHost(parseKnownHosts(text), 'example.org', 22, keyBlob).kind; // 'known'
 * ```
 */
export function lookupKnownHost(entries: readonly KnownHostsEntry[], host: string, port: number, key: Buffer): KnownHostsVerdict {
  for (const e of entries) if (e.marker === 'revoked' && e.key.equals(key)) return { kind: 'revoked', entry: e };
  const plain = host.toLowerCase();
  const name = knownHostsName(plain, port);
  const type = keyTypeOf(key) ?? '';
  let mismatch: KnownHostsEntry | undefined;
  let certAuthority = false;
  const otherKeys: KnownHostsEntry[] = [];
  for (const e of entries) {
    if (e.marker === 'revoked') continue;
    if (!hostMatches(e.hosts, name)) continue;
    if (e.marker === 'cert-authority') {
      certAuthority = true;
      continue;
    }
    if (e.key.equals(key)) return { kind: 'known', entry: e };
    if (e.keyType === type) mismatch ??= e;
    else otherKeys.push(e);
  }
  if (mismatch) return { kind: 'mismatch', entry: mismatch };
  if (port !== 22) {
    // OpenSSH also accepts the key when it is recorded under the plain host name ("found
    // matching key w/out port"); only an exact key match counts there.
    for (const e of entries) {
      if (e.marker === undefined && e.key.equals(key) && hostMatches(e.hosts, plain)) return { kind: 'known', entry: e };
    }
  }
  return { kind: 'unknown', certAuthority, otherKeys };
}

/** The key types known for a host (name and port), in known_hosts order, without `@revoked` or CA lines. */
export function knownKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types: string[] = [];
  // A CA known for the host: its certificates are asked for first, as OpenSSH does.
  // A CA line without a port applies on any port (ssh looks again without the port).
  if (entries.some((e) => e.marker === 'cert-authority' && (hostMatches(e.hosts, name) || hostMatches(e.hosts, host)))) types.push(...HOST_CERT_ALGORITHMS);
  for (const e of entries) {
    if (e.marker === undefined && !types.includes(e.keyType) && hostMatches(e.hosts, name)) types.push(e.keyType);
  }
  return types;
}
