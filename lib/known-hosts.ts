/**
 * OpenSSH known_hosts: parsing and matching (plain, hashed, patterns, negation, `[host]:port`,
 * markers), the `knownHosts()` verify policy and `acceptNew()` (StrictHostKeyChecking
 * accept-new) with safe, atomic appends.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants, promises as fsp, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { HostKeyRejectedError, type SshErrorContext } from './errors.js';
import { sha256Fingerprint, type HostKeyInfo, type HostKeyPolicy } from './host-key.js';

/** One parsed known_hosts line. */
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
 * The host has no entry (for this key type) in the known_hosts files. Carries the offered
 * fingerprint so a CLI can show it.
 *
 * @example
 * ```ts
 * import { HostKeyUnknownError } from 'rxssh';
 *
 * const onError = (e: unknown) => e instanceof HostKeyUnknownError && console.log(`unknown key ${e.fingerprint}`);
 * ```
 */
export class HostKeyUnknownError extends HostKeyRejectedError {
  override readonly code = 'ERR_SSH_HOST_KEY_UNKNOWN';
}

/**
 * The host is known with a different key of the same type: a possible man in the middle.
 *
 * @example
 * ```ts
 * import { HostKeyMismatchError } from 'rxssh';
 *
 * const onError = (e: unknown) => {
 *   if (e instanceof HostKeyMismatchError) console.log(`${e.file}:${e.line} expected ${e.expected}, got ${e.fingerprint}`);
 * };
 * ```
 */
export class HostKeyMismatchError extends HostKeyRejectedError {
  override readonly code = 'ERR_SSH_HOST_KEY_MISMATCH';
  /** The known_hosts file with the entry that matched the host. */
  readonly file: string;
  /** Its line number. */
  readonly line: number;
  /** The SHA256 fingerprint of the key on that line. */
  readonly expected: string;

  constructor(entry: KnownHostsEntry, offered: string, context: SshErrorContext) {
    super(
      `Host key mismatch: ${entry.file}:${entry.line} has ${sha256Fingerprint(entry.key)}, the server offered ${offered}`,
      offered,
      context,
    );
    this.file = entry.file;
    this.line = entry.line;
    this.expected = sha256Fingerprint(entry.key);
  }
}

/**
 * The offered key is marked `@revoked` in a known_hosts file.
 *
 * @example
 * ```ts
 * import { HostKeyRevokedError } from 'rxssh';
 *
 * const onError = (e: unknown) => e instanceof HostKeyRevokedError && console.log(`revoked at ${e.file}:${e.line}`);
 * ```
 */
export class HostKeyRevokedError extends HostKeyRejectedError {
  override readonly code = 'ERR_SSH_HOST_KEY_REVOKED';
  /** The file with the `@revoked` line. */
  readonly file: string;
  /** Its line number. */
  readonly line: number;

  constructor(entry: KnownHostsEntry, offered: string, context: SshErrorContext) {
    super(`Host key ${offered} is revoked (${entry.file}:${entry.line})`, offered, context);
    this.file = entry.file;
    this.line = entry.line;
  }
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
  const lines = text.split('\n');
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
    const typeLength = key.length >= 4 ? key.readUInt32BE(0) : -1;
    if (typeLength < 0 || key.subarray(4, 4 + typeLength).toString('latin1') !== keyType) continue;
    entries.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** The name OpenSSH looks up: `host`, or `[host]:port` for a port other than 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcard(pattern: string, text: string): boolean {
  // OpenSSH's match_pattern: `*` any run, `?` one character; case-insensitive for host names.
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(text);
}

function hashedMatches(hashed: string, name: string): boolean {
  const parts = hashed.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const want = Buffer.from(parts[3] ?? '', 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
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

/** Hashes a name the way `ssh-keygen -H` does: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** The host is known with the offered key. */
export interface KnownHostVerdict {
  /** Discriminator. */
  readonly kind: 'known';
  /** The matching line. */
  readonly entry: KnownHostsEntry;
}

/** The offered key is `@revoked`, or the host is known with another key of the same type. */
export interface BadHostVerdict {
  /** Discriminator. */
  readonly kind: 'revoked' | 'mismatch';
  /** The `@revoked` line, or the line whose key differs. */
  readonly entry: KnownHostsEntry;
}

/** No line vouches for the offered key. */
export interface UnknownHostVerdict {
  /** Discriminator. */
  readonly kind: 'unknown';
  /** Only a `@cert-authority` line matched the host (unusable: ssh2 has no host certificates). */
  readonly certAuthority: boolean;
}

/** The outcome of looking a host and key up in known_hosts entries. */
export type KnownHostsVerdict = KnownHostVerdict | BadHostVerdict | UnknownHostVerdict;

/**
 * Looks a host (name and port) and its offered key up, as OpenSSH does: a `@revoked` key
 * always loses; a matching line with the same key is known; a matching line with another key of
 * the same type is a mismatch; for a port other than 22 the same key recorded under the plain
 * host name is also known (OpenSSH's fallback); otherwise the host is unknown (`certAuthority` tells that only a
 * `@cert-authority` line matched, which rxssh cannot use: ssh2 does not negotiate host
 * certificates).
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
  const names = port === 22 ? [host] : [knownHostsName(host, port)];
  const type = key.subarray(4, 4 + (key.length >= 4 ? key.readUInt32BE(0) : 0)).toString('latin1');
  let mismatch: KnownHostsEntry | undefined;
  let certAuthority = false;
  for (const e of entries) {
    if (e.marker === 'revoked') continue;
    if (!names.some((n) => hostMatches(e.hosts, n))) continue;
    if (e.marker === 'cert-authority') {
      certAuthority = true;
      continue;
    }
    if (e.key.equals(key)) return { kind: 'known', entry: e };
    if (e.keyType === type) mismatch ??= e;
  }
  if (mismatch) return { kind: 'mismatch', entry: mismatch };
  if (port !== 22) {
    // OpenSSH also accepts the key when it is recorded under the plain host name ("found
    // matching key w/out port"); only an exact key match counts there.
    for (const e of entries) {
      if (e.marker === undefined && e.key.equals(key) && hostMatches(e.hosts, host)) return { kind: 'known', entry: e };
    }
  }
  return { kind: 'unknown', certAuthority };
}

/** Options of {@link knownHosts} and {@link acceptNew}. */
export interface KnownHostsConfig {
  /** The files to read, in order (default `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`). */
  readonly files?: readonly string[];
}

/** Options of {@link acceptNew}. */
export interface AcceptNewConfig extends KnownHostsConfig {
  /** Where learned keys are appended (default: the first of `files`). */
  readonly learnTo?: string;
  /** Hash the host names of appended lines, like `HashKnownHosts yes` (default true). */
  readonly hash?: boolean;
}

function defaultFiles(): string[] {
  return [`${homedir()}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts'];
}

function readEntries(files: readonly string[]): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

function judge(files: readonly string[], key: HostKeyInfo, onUnknown: (key: HostKeyInfo) => Promise<boolean> | boolean): Promise<boolean> | boolean {
  const context = { host: key.host, port: key.port, phase: 'host-key' as const };
  const verdict = lookupKnownHost(readEntries(files), key.host, key.port, key.key);
  switch (verdict.kind) {
    case 'known':
      return true;
    case 'revoked':
      throw new HostKeyRevokedError(verdict.entry, key.fingerprint, context);
    case 'mismatch':
      throw new HostKeyMismatchError(verdict.entry, key.fingerprint, context);
    case 'unknown':
      return onUnknown(key);
  }
}

/**
 * Verifies host keys against OpenSSH known_hosts files, like `StrictHostKeyChecking yes`.
 *
 * @remarks
 * Rejects with {@link HostKeyUnknownError} (no entry for the host and key type),
 * {@link HostKeyMismatchError} (a different key of the same type) or
 * {@link HostKeyRevokedError} (`@revoked`). Hosts on a non-22 port are looked up as
 * `[host]:port`. The files are read on every verification, so edits take effect at once.
 * Limitation: `@cert-authority` lines are parsed and matched, but ssh2 cannot negotiate host
 * certificates, so a host trusted only through a CA is reported unknown.
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
  return (key) =>
    judge(files, key, () => {
      throw new HostKeyUnknownError(`Host key ${key.fingerprint} for ${knownHostsName(key.host, key.port)} is not known`, key.fingerprint, {
        host: key.host,
        port: key.port,
        phase: 'host-key',
      });
    });
}

/** Serializes appends per file inside this process and remembers what was learned. */
const appendQueues = new Map<string, Promise<void>>();
const learned = new Map<string, Set<string>>();

async function appendLine(file: string, line: string, dedupeKey: string): Promise<void> {
  const previous = appendQueues.get(file) ?? Promise.resolve();
  const next = previous.then(async () => {
    let seen = learned.get(file);
    if (!seen) learned.set(file, (seen = new Set()));
    if (seen.has(dedupeKey)) return;
    await fsp.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // One write() with O_APPEND: the kernel appends it whole, also against other processes.
    const handle = await fsp.open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await handle.write(line);
    } finally {
      await handle.close();
    }
    seen.add(dedupeKey);
  });
  appendQueues.set(
    file,
    next.catch(() => undefined),
  );
  return next;
}

/**
 * Trust on first use, like OpenSSH's `StrictHostKeyChecking accept-new`: an unknown host's key
 * is accepted and appended to the known_hosts file (hashed by default); a changed or revoked
 * key still fails.
 *
 * @remarks
 * Appends are one `write()` of a whole line on a file opened with `O_APPEND` (no torn lines,
 * also across processes), serialized per file within the process, and de-duplicated when many
 * connections of one fan-out learn the same key at once. A new file is created with mode 0600;
 * an existing file keeps its mode.
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
  return (key) =>
    judge(files, key, async (unknown) => {
      const name = knownHostsName(unknown.host, unknown.port);
      const hosts = hash ? hashHostName(name) : name;
      await appendLine(target, `${hosts} ${unknown.openssh}\n`, `${name} ${unknown.openssh}`);
      return true;
    });
}
