/**
 * OpenSSH known_hosts: parsing and matching (plain, hashed, patterns, negation, `[host]:port`,
 * markers), the `knownHosts()` verify policy and `acceptNew()` (StrictHostKeyChecking
 * accept-new) with safe, atomic appends.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { revokedBy, type Revocation } from './revoked-keys.js';
import { HostCertificateError, HostKeyMismatchError, HostKeyRevokedError, HostKeyUnknownError, setKnownTypes, setUnknownHostContext, type SshErrorContext } from '../errors.js';
import { checkHostCertificate, HOST_CERT_ALGORITHMS, parseCertificate, type ParsedCertificate } from '../auth/certificate.js';
import { verifySshSignature, utils } from '../ssh2/index.js';
import type { HostKeyPolicy } from './host-key.js';
import type { HostKeyInfo } from './transport.js';
import { KNOWN_KEY_TYPES } from './known-types.js';
import { keyTypeOf } from '../util/key-blob.js';
import { describeHostKey } from './host-key-info.js';
import { indexOf, wildcard } from './known-hosts-store.js';

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

/**
 * Options of {@link knownHosts} and {@link acceptNew}.
 *
 * @example
 * ```ts
 * import { knownHosts } from 'rxssh';
 *
 * knownHosts({ files: ['/etc/ssh/ssh_known_hosts', './known_hosts'] });
 * ```
 */
export interface KnownHostsConfig {
  /** The files to read, in order (default `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`). */
  readonly files?: readonly string[];
  /**
   * The name to look the host up by instead of the one given to `connect` (ssh_config
   * `HostKeyAlias`): known_hosts lines, learned lines and host-certificate principals use it,
   * without a port.
   */
  readonly hostKeyAlias?: string;
  /**
   * A file of revoked host keys (ssh_config `RevokedHostKeys`): a KRL made by `ssh-keygen -k`,
   * or public keys one per line. A key it revokes — or a certificate revoked by serial, key
   * ID, its CA or its own key — fails with {@link HostKeyRevokedError} before anything else is
   * checked or learned; a file that cannot be read fails every key (closed, as `ssh` does).
   */
  readonly revokedHostKeys?: string;
}

/**
 * Options of {@link acceptNew}.
 *
 * @example
 * ```ts
 * import { acceptNew } from 'rxssh';
 *
 * acceptNew({ files: ['./known_hosts'], learnTo: './known_hosts', hash: false });
 * ```
 */
export interface AcceptNewConfig extends KnownHostsConfig {
  /** Where learned keys are appended (default: the first of `files`). */
  readonly learnTo?: string;
  /** Hash the host names of appended lines, like `HashKnownHosts yes` (default true). */
  readonly hash?: boolean;
}

function defaultFiles(): string[] {
  return [`${homedir()}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts'];
}

async function lookup(files: readonly string[], key: HostKeyInfo): Promise<KnownHostsVerdict> {
  const index = await indexOf(files, parseKnownHosts);
  return lookupKnownHost(index.candidates([knownHostsName(key.host, key.port), key.host]), key.host, key.port, key.key);
}

function context(key: HostKeyInfo): SshErrorContext {
  return { host: key.host, port: key.port, phase: 'host-key' };
}

/** Throws for a revoked or changed key; resolves with the verdict otherwise. */
/**
 * A host certificate offered by the server: valid only when a `@cert-authority` line for the
 * host vouches for its CA and every check of {@link checkHostCertificate} passes.
 */
async function judgeCertificate(files: readonly string[], key: HostKeyInfo): Promise<true> {
  const index = await indexOf(files, parseKnownHosts);
  const name = knownHostsName(key.host, key.port);
  const entries = index.candidates([name, key.host]);
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(key.key);
  } catch (err) {
    throw new HostCertificateError('bad-signature', '', key.fingerprint, { ...context(key), cause: err });
  }
  const problem = checkHostCertificate(cert, {
    // A CA line for the host name without a port applies on any port too (ssh looks again
    // without the port).
    caKeys: entries.filter((e) => e.marker === 'cert-authority' && (hostMatches(e.hosts, name) || hostMatches(e.hosts, key.host))).map((e) => e.key),
    revoked: entries.filter((e) => e.marker === 'revoked').map((e) => e.key),
    hostName: key.host,
    verify: (ca, data, signature) => verifySshSignature(ca, data, signature, (text) => utils.parseKey(text)),
  });
  if (problem) throw new HostCertificateError(problem, cert.keyId, key.fingerprint, context(key));
  return true;
}

/** The plain key a host certificate certifies, as the server offered it (host and port kept). */
function plainKeyOf(key: HostKeyInfo): HostKeyInfo | undefined {
  try {
    return describeHostKey(parseCertificate(key.key).publicKey, key.host, key.port);
  } catch {
    return undefined;
  }
}

/** Throws {@link HostKeyRevokedError} when the `RevokedHostKeys` file revokes the key (or cannot be read). */
function checkRevoked(file: string | undefined, key: HostKeyInfo): void {
  if (file === undefined) return;
  let found: Revocation | undefined;
  try {
    found = revokedBy(file, key.key);
  } catch (err) {
    found = { where: file, why: `the revoked keys file cannot be used (${(err as Error).message}), so no key is trusted` };
  }
  if (!found) return;
  const [, path = found.where, line = '0'] = /^(.*?)(?::(\d+))?$/.exec(found.where) ?? [];
  throw new HostKeyRevokedError({ file: path, line: Number(line), key: key.key }, key.fingerprint, context(key), found.why);
}

async function judge(files: readonly string[], key: HostKeyInfo, revokedFile?: string): Promise<KnownHostVerdict | UnknownHostVerdict> {
  checkRevoked(revokedFile, key);
  if (key.type.endsWith('-cert-v01@openssh.com')) {
    try {
      await judgeCertificate(files, key);
    } catch (err) {
      // As ssh: a certificate that does not pass ("Certificate invalid: expired", no matching
      // CA) is checked again as the plain key it certifies, which known_hosts may list. The
      // exchange was signed by that same key. A revoked one is not.
      if (!(err instanceof HostCertificateError) || err.reason === 'revoked') throw err;
      const plain = plainKeyOf(key);
      const verdict = plain && (await lookup(files, plain));
      if (verdict?.kind === 'known') return verdict;
      if (verdict?.kind === 'revoked') throw new HostKeyRevokedError(verdict.entry, plain?.fingerprint ?? key.fingerprint, context(key));
      throw err;
    }
    return { kind: 'known', entry: { file: '', line: 0, marker: 'cert-authority', hosts: key.host, keyType: key.type, key: key.key } };
  }
  const verdict = await lookup(files, key);
  if (verdict.kind === 'known' || verdict.kind === 'unknown') return verdict;
  if (verdict.kind === 'revoked') throw new HostKeyRevokedError(verdict.entry, key.fingerprint, context(key));
  throw new HostKeyMismatchError(verdict.entry, key.fingerprint, context(key));
}

function otherTypes(verdict: UnknownHostVerdict): string {
  return [...new Set(verdict.otherKeys.map((e) => e.keyType))].join(', ');
}

/**
 * Verifies host keys against OpenSSH known_hosts files, like `StrictHostKeyChecking yes`.
 *
 * @remarks
 * Rejects with {@link HostKeyUnknownError} (no entry for the host and key type),
 * {@link HostKeyMismatchError} (a different key of the same type) or
 * {@link HostKeyRevokedError} (`@revoked`). Hosts on a non-22 port are looked up as
 * `[host]:port` (host names lower-cased, as OpenSSH does). Files are parsed once per version: a
 * verification `stat`s them and re-reads only a file that changed, so edits take effect at once.
 * A host certificate is trusted through a matching `@cert-authority` line (one without a port
 * applies on every port, as in `ssh`); a certificate that fails its checks is tried again as the
 * plain key it certifies, which known_hosts may list (as `ssh` does), unless it is revoked.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, knownHosts } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(verifyHostKey(knownHosts()));
 * ```
 */
export function knownHosts(config: KnownHostsConfig = {}): HostKeyPolicy {
  const files = config.files ?? defaultFiles();
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string')) throw new TypeError('knownHosts(): files must be paths');
  return withKnownTypes(files, async (key) => {
    const verdict = await judge(files, key, config.revokedHostKeys);
    if (verdict.kind === 'known') return true;
    const others = verdict.otherKeys.length ? ` (the host is known only by ${otherTypes(verdict)} keys)` : '';
    const error = new HostKeyUnknownError(`Host key ${key.fingerprint} for ${knownHostsName(key.host, key.port)} is not known${others}`, key.fingerprint, context(key));
    throw setUnknownHostContext(error, files, key.openssh);
  }, config.hostKeyAlias);
}

/**
 * Gives a known_hosts policy what `connect` needs to prefer the key types already known for a
 * host (as OpenSSH orders its host-key algorithms by known_hosts).
 */
function withKnownTypes(files: readonly string[], policy: (key: HostKeyInfo) => Promise<boolean>, alias: string | undefined): HostKeyPolicy {
  const typesFor = async (host: string, port: number): Promise<string[]> => {
    const [h, p] = alias === undefined ? [host, port] : [alias, 22];
    const index = await indexOf(files, parseKnownHosts);
    return knownKeyTypes(index.candidates([knownHostsName(h, p), h]), h, p);
  };
  const aliased = async (key: HostKeyInfo): Promise<boolean> => {
    try {
      return await policy(alias === undefined ? key : { ...key, host: alias, port: 22 });
    } catch (err) {
      // Unknown, or known by a key of another type: say which types are known, so that
      // verifyHostKey can have the connection ask for those first (the error travels with the
      // verdict, through any wrapper a user puts around this policy).
      if (err instanceof HostKeyUnknownError || err instanceof HostKeyMismatchError) setKnownTypes(err, await typesFor(key.host, key.port).catch(() => []));
      throw err;
    }
  };
  return Object.assign(aliased, { [KNOWN_KEY_TYPES]: typesFor });
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
      const error = new HostKeyUnknownError(`Host key ${key.fingerprint} for ${knownHostsName(key.host, key.port)} is not a certificate, and only a CA is trusted`, key.fingerprint, context(key));
      throw setKnownTypes(error, HOST_CERT_ALGORITHMS);
    }
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(key.key);
    } catch (err) {
      throw new HostCertificateError('bad-signature', '', key.fingerprint, { ...context(key), cause: err });
    }
    const problem = checkHostCertificate(cert, { caKeys: keys, revoked: [], hostName: key.host, verify: (ca, data, signature) => verifySshSignature(ca, data, signature, (text) => utils.parseKey(text)) });
    if (problem) throw new HostCertificateError(problem, cert.keyId, key.fingerprint, context(key));
    return true;
  };
  return Object.assign(policy, { [KNOWN_KEY_TYPES]: async (): Promise<string[]> => [...HOST_CERT_ALGORITHMS] });
}

/** Serializes learning per file inside this process (so per host name too). */
const learnQueues = new Map<string, Promise<unknown>>();

function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = learnQueues.get(file) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  learnQueues.set(file, settled);
  void settled.then(() => {
    if (learnQueues.get(file) === settled) learnQueues.delete(file);
  });
  return next;
}

const LOCK_STALE_MS = 10_000;

/**
 * Holds `FILE.lock` (created with O_EXCL) while `work` runs, so that runs in other processes
 * learning into the same file take turns too. A lock older than 10 s is taken as stale.
 */
async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await fsp.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      const handle = await fsp.open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await fsp.stat(lock).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS || Date.now() > deadline) {
        await fsp.rm(lock, { force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await work();
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

/**
 * Records a host key the user confirmed (as `ssh` does after "yes"): appended to `file` (made
 * with mode 0600 if missing) through the same serialized, locked writer as {@link acceptNew},
 * the name hashed unless `hash` is false. For a prompt of your own around
 * `HostKeyUnknownError`.
 *
 * @example
 * ```ts
 * import { recordHostKey, HostKeyUnknownError } from 'rxssh';
 *
 * const onError = async (err: unknown) => {
 *   if (err instanceof HostKeyUnknownError && err.offeredKey) await recordHostKey('/home/ops/.ssh/known_hosts', err.host, err.port, err.offeredKey);
 * };
 * ```
 */
export function recordHostKey(file: string, host: string, port: number, openssh: string, hash = true): Promise<void> {
  const name = knownHostsName(host, port);
  return serialized(file, () => withFileLock(file, () => appendLine(file, `${hash ? hashHostName(name) : name} ${openssh}\n`)));
}

/** Appends one line as one `write()` on an O_APPEND descriptor, after a newline if the file lacks its last one. */
async function appendLine(file: string, line: string): Promise<void> {
  const handle = await fsp.open(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    const { size } = await handle.stat();
    let text = line;
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) text = `\n${line}`;
    }
    await handle.write(text);
  } finally {
    await handle.close();
  }
}

/**
 * Trust on first use, like OpenSSH's `StrictHostKeyChecking accept-new`: an unknown host's key
 * is accepted and appended to the known_hosts file (hashed by default); a changed or revoked
 * key still fails, and so does a host known only by keys of other types (a host with any known
 * key is never new: {@link HostKeyMismatchError}, OpenSSH's "REMOTE HOST IDENTIFICATION HAS
 * CHANGED").
 *
 * @remarks
 * Learning is serialized per file, within the process and (through `FILE.lock`, created
 * exclusively) across processes, and the verdict is taken again inside: of two first
 * connections that saw different keys, the second finds the first's entry and fails with
 * {@link HostKeyMismatchError}; many connections of one fan-out that see the same key add one
 * line. Each line is one `write()` on a file opened with `O_APPEND`, after a newline when the
 * file's last line lacks one. A new file is created with mode 0600; an existing file keeps its
 * mode.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, acceptNew } from 'rxssh';
 *
 * connect({ host: 'new-box', username: 'me' }).pipe(verifyHostKey(acceptNew()));
 * ```
 */
export function acceptNew(config: AcceptNewConfig = {}): HostKeyPolicy {
  const files = config.files ?? defaultFiles();
  const target = config.learnTo ?? files[0];
  if (!target) throw new TypeError('acceptNew(): no file to learn keys into');
  const hash = config.hash ?? true;
  const refuseChanged = (key: HostKeyInfo, verdict: UnknownHostVerdict): never => {
    const known = verdict.otherKeys[0] as KnownHostsEntry;
    throw new HostKeyMismatchError(
      known,
      key.fingerprint,
      context(key),
      `REMOTE HOST IDENTIFICATION HAS CHANGED: ${knownHostsName(key.host, key.port)} is known by its ${otherTypes(verdict)} key (${known.file}:${known.line}), the server offered a ${key.type} key ${key.fingerprint}; not learned`,
    );
  };
  return withKnownTypes(files, async (key) => {
    const first = await judge(files, key, config.revokedHostKeys);
    if (first.kind === 'known') return true;
    if (first.otherKeys.length) refuseChanged(key, first);
    // Learning is serialized per file (in this process, and across processes by a lock file):
    // the verdict is taken again inside, so of two first connections that saw different keys
    // the second finds the first's entry and fails as a mismatch.
    return serialized(target, () =>
      withFileLock(target, async () => {
        const verdict = await judge(files, key, config.revokedHostKeys);
        if (verdict.kind === 'known') return true;
        if (verdict.otherKeys.length) refuseChanged(key, verdict);
        const name = knownHostsName(key.host, key.port);
        await appendLine(target, `${hash ? hashHostName(name) : name} ${key.openssh}\n`);
        return true;
      }),
    );
  }, config.hostKeyAlias);
}
