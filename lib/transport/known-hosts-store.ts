/**
 * known_hosts files parsed once per file version and indexed by host name, so a verification
 * costs a `stat` per file and a few map look-ups instead of re-reading, re-parsing and re-hashing
 * the whole file (a 20,000-line hashed file took 250–690 ms of blocked event loop per look-up).
 *
 * - A file is re-read (asynchronously) only when its identity, size or mtime changed.
 * - Plain entries without wildcards or negations are indexed by their lower-cased names.
 * - Hashed entries are grouped by salt: a name is hashed once per salt, and the result is
 *   remembered per name for that file version.
 * - Everything else (wildcards, negations) is matched with compiled patterns.
 * - `@revoked` lines are kept apart: they apply to a key whatever the host.
 */
import { createHmac } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/** What the store needs of a parsed known_hosts line (a `KnownHostsEntry` fits). */
export interface KnownHostsEntry {
  readonly marker: 'cert-authority' | 'revoked' | undefined;
  readonly hosts: string;
}

/** A `*`/`?` pattern as a RegExp (everything else literal), as OpenSSH's match_pattern and glob(3) read them. */
export function patternRegExp(pattern: string, flags = ''): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);
}

/** Compiled `*`/`?` patterns (OpenSSH's match_pattern, case-insensitive). */
const compiled = new Map<string, RegExp>();

/** Whether an OpenSSH wildcard pattern matches the text (case-insensitive). */
export function wildcard(pattern: string, text: string): boolean {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = patternRegExp(pattern, 'i');
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(text);
}

interface Hashed<E> {
  readonly hash: Buffer;
  readonly entry: E;
}

/** The entries of one or more files, indexed for look-up by name. */
export class KnownHostsIndex<E extends KnownHostsEntry> {
  readonly #plain = new Map<string, E[]>();
  readonly #patterns: E[] = [];
  readonly #bySalt = new Map<string, { salt: Buffer; entries: Hashed<E>[] }>();
  readonly #hashedMemo = new Map<string, E[]>();
  /** Every `@revoked` entry. */
  readonly revoked: E[] = [];
  /** Position of each entry, to give matches back in file order. */
  readonly #order = new Map<E, number>();

  constructor(entries: readonly E[]) {
    entries.forEach((e, i) => {
      this.#order.set(e, i);
      if (e.marker === 'revoked') {
        this.revoked.push(e);
        return;
      }
      if (e.hosts.startsWith('|')) {
        const parts = e.hosts.split('|'); // ['', '1', salt, hash]
        if (parts.length !== 4 || parts[1] !== '1') return;
        const saltText = parts[2] ?? '';
        let group = this.#bySalt.get(saltText);
        if (!group) this.#bySalt.set(saltText, (group = { salt: Buffer.from(saltText, 'base64'), entries: [] }));
        group.entries.push({ hash: Buffer.from(parts[3] ?? '', 'base64'), entry: e });
        return;
      }
      const patterns = e.hosts.split(',');
      if (patterns.some((p) => p.startsWith('!') || p.includes('*') || p.includes('?'))) {
        this.#patterns.push(e);
        return;
      }
      for (const p of patterns) {
        const name = p.toLowerCase();
        const list = this.#plain.get(name);
        if (list) list.push(e);
        else this.#plain.set(name, [e]);
      }
    });
  }

  /**
   * The entries that may match any of the names (a superset: callers still apply OpenSSH's
   * matching), plus every `@revoked` entry, in file order.
   */
  candidates(names: readonly string[]): E[] {
    const found = new Set<E>(this.revoked);
    for (const raw of names) {
      const name = raw.toLowerCase();
      for (const e of this.#plain.get(name) ?? []) found.add(e);
      for (const e of this.#hashed(name)) found.add(e);
    }
    for (const e of this.#patterns) found.add(e);
    return [...found].sort((a, b) => (this.#order.get(a) ?? 0) - (this.#order.get(b) ?? 0));
  }

  #hashed(name: string): E[] {
    let hit = this.#hashedMemo.get(name);
    if (hit) return hit;
    hit = [];
    for (const { salt, entries } of this.#bySalt.values()) {
      const digest = createHmac('sha1', salt).update(name).digest();
      for (const h of entries) if (h.hash.length === digest.length && h.hash.equals(digest)) hit.push(h.entry);
    }
    if (this.#hashedMemo.size > 10_000) this.#hashedMemo.clear();
    this.#hashedMemo.set(name, hit);
    return hit;
  }
}

interface Cached {
  readonly version: string;
  readonly entries: KnownHostsEntry[];
}

const files = new Map<string, Cached>();
const indexes = new Map<string, { versions: string; index: KnownHostsIndex<KnownHostsEntry> }>();

async function load(file: string, parse: (text: string, file: string) => KnownHostsEntry[]): Promise<Cached> {
  let version: string;
  try {
    const st = await fsp.stat(file, { bigint: true });
    version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 'missing', entries: [] };
    throw err;
  }
  const cached = files.get(file);
  if (cached?.version === version) return cached;
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 'missing', entries: [] };
    throw err;
  }
  const fresh = { version, entries: parse(text, file) };
  files.set(file, fresh);
  return fresh;
}

/**
 * The index over the given files, in order; rebuilt only when one of them changed (or
 * appeared, or went away) since the last call.
 */
export async function indexOf<E extends KnownHostsEntry>(paths: readonly string[], parse: (text: string, file: string) => E[]): Promise<KnownHostsIndex<E>> {
  const loaded = await Promise.all(paths.map((p) => load(p, parse)));
  const key = JSON.stringify(paths);
  const versions = loaded.map((l) => l.version).join('|');
  const cached = indexes.get(key);
  if (cached?.versions === versions) return cached.index as KnownHostsIndex<E>;
  const index = new KnownHostsIndex<E>(loaded.flatMap((l) => l.entries) as E[]);
  if (indexes.size > 100) indexes.clear();
  indexes.set(key, { versions, index });
  return index;
}
