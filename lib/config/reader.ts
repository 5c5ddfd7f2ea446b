/**
 * Reads an OpenSSH client config the way `ssh -G` does (readconf.c): options from the command
 * line first, then the user's file, then the system file; the first value obtained for a keyword
 * wins (the list keywords accumulate); `Host` and `Match` blocks decide which lines apply;
 * `Include` reads files in the context of the block it stands in (its own `Host` lines end at its
 * last line, and nothing in it applies when its block does not); a keyword OpenSSH does not know
 * is an error unless `IgnoreUnknown` names it. Each value remembers where it was set.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { patternRegExp } from '../transport/known-hosts-store.js';
import { checkArgs, commandKeyword, ConfigSyntaxError, parseLine, type ConfigValue, type ResolvedConfig } from './config-line.js';
import { hostLineMatches, matchLineMatches, patternListMatches, type MatchPass } from './match.js';
import { keywordRule } from './keywords.js';
import { addressForm, canonicalHost, lookupFamily } from './canonicalize.js';
import { type NameLookup } from './name-lookup.js';
import { untrustedConfigFile } from './file-trust.js';

/** List keywords whose repeated values ssh keeps once. */
const DEDUPED = new Set(['identityfile', 'certificatefile']);

/** Keywords whose every occurrence counts (in order), as in OpenSSH. */
const LISTS = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv', 'rekeylimit']);

export { ConfigSyntaxError, type ConfigValue, type ResolvedConfig } from './config-line.js';

/** Where to read from and for what host. */
export interface ReadConfigInput {
  /** The name as given (`ssh NAME`). */
  readonly alias: string;
  /** A user given with the name or by `-l`: set before any file is read. */
  readonly user?: string | undefined;
  readonly localUser: string;
  readonly home: string;
  /** `-o` lines, read first. */
  readonly extra: readonly string[];
  /** The user's file (`null`: none). */
  readonly file: string | null;
  /**
   * `file` was given (`ssh -F`): it must be readable, and is not held to ssh's ownership and
   * permission check. Otherwise it is the user's own `~/.ssh/config`: skipped when missing or
   * unreadable, refused when another user could write it (as every `Include`d file).
   */
  readonly fileGiven?: boolean;
  /** The system-wide file, read after the user's (`null`: none). */
  readonly systemFile: string | null;
  /** Run `Match exec` commands (otherwise a block that needs one is an error). */
  readonly matchExec?: boolean;
  /** How `CanonicalizeHostname` asks whether a name resolves (default: the system resolver). */
  readonly lookup?: NameLookup | undefined;
}

/**
 * One reading of the files. `host` is the name `Host` lines match, case-sensitively as ssh's
 * match_pattern: the name as given in the first pass, the HostName (lower-cased, canonicalized)
 * in the final one.
 */
interface Pass extends MatchPass {
  readonly input: ReadConfigInput;
  readonly values: Map<string, ConfigValue[]>;
}

/** Resolves the config for one host. */
export function readConfig(input: ReadConfigInput): ResolvedConfig {
  const values = new Map<string, ConfigValue[]>();
  if (input.user !== undefined) values.set('user', [{ args: [input.user], origin: 'command line' }]);
  const first: Pass = { input, values, host: input.alias, final: false, wantFinal: false };
  readAll(first);
  // As ssh.c: the HostName (its %h the name as given), lower-cased, then canonicalized when
  // CanonicalizeHostname asks; either that or a `Match final` reads everything once more, with
  // `Host` lines matching that name and HostName fixed to it.
  const given = values.get('hostname')?.[0];
  const host = (given?.args[0] ?? input.alias).replace(/%(.)/g, (m, t: string) => (t === 'h' ? input.alias : t === '%' ? '%' : m)).toLowerCase();
  const canonical = canonicalHost(host, (keyword) => values.get(keyword)?.[0]?.args, input.lookup);
  if (canonical === null) {
    const origin = values.get('canonicalizefallbacklocal')?.[0]?.origin ?? 'command line';
    throw new ConfigSyntaxError(`Could not resolve host "${host}" in CanonicalDomains (CanonicalizeFallbackLocal no)`, origin, 'canonicalizefallbacklocal');
  }
  // An address is written in its usual form whether or not names are canonicalized.
  const setting = (keyword: string): readonly string[] | undefined => values.get(keyword)?.[0]?.args;
  const name = canonical ?? addressForm(host, lookupFamily(setting)) ?? host;
  if (first.wantFinal || canonical !== undefined || name !== host) values.set('hostname', [{ args: [name], origin: given?.origin ?? 'canonicalized' }]);
  if (first.wantFinal || canonical !== undefined) readAll({ input, values, host: name, final: true, wantFinal: true });
  return values;
}

function readAll(pass: Pass): void {
  const { input } = pass;
  readLines(pass, input.extra.map((text) => ({ text, origin: 'command line' })), join(input.home, '.ssh'), 0);
  if (input.file !== null) readFile(pass, input.file, join(input.home, '.ssh'), true, 0, input.fileGiven ? 'given' : 'own');
  if (input.systemFile !== null) readFile(pass, input.systemFile, '/etc/ssh', true, 0, 'system');
}

/**
 * How ssh reads a config file (ssh.c, readconf.c): a given one (`-F`) must open; the user's own
 * and the system's are skipped when they do not; the user's own and an included one are refused
 * when another user could write them; an included one that exists but does not open is an error.
 */
type FileKind = 'given' | 'own' | 'system' | { readonly includedAt: string };

function readFile(pass: Pass, file: string, base: string, active: boolean, depth: number, kind: FileKind): void {
  const origin = typeof kind === 'object' ? kind.includedAt : kind === 'given' ? 'command line' : file;
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const untrusted = kind === 'own' || typeof kind === 'object' ? untrustedConfigFile(file, st) : undefined;
    if (untrusted) throw new ConfigSyntaxError(untrusted, origin, typeof kind === 'object' ? 'include' : 'config');
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigSyntaxError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (kind === 'own' || kind === 'system' || (typeof kind === 'object' && code === 'ENOENT')) return;
    throw new ConfigSyntaxError(`Can't open ${typeof kind === 'object' ? 'included' : 'user'} config file ${file}: ${code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (err as Error).message}`, origin, typeof kind === 'object' ? 'include' : 'config');
  }
  const lines = text.split(/\r?\n/).map((line, i) => ({ text: line, origin: `${file}:${i + 1}` }));
  readLines(pass, lines, base, depth, active);
}

/** Reads lines; `active` starts as the including block's state, and Host/Match change it for these lines only. */
function readLines(pass: Pass, lines: ReadonlyArray<{ text: string; origin: string }>, base: string, depth: number, outer = true): void {
  let active = outer;
  for (const { text, origin } of lines) {
    const parsed = parseLine(text, origin);
    if (!parsed) continue;
    const [written, args, rest] = parsed;
    // An old name is the same option as its new one (first value wins across both), as in ssh.
    const keyword = written === 'pubkeyacceptedkeytypes' ? 'pubkeyacceptedalgorithms' : written;
    if (keyword === 'host') {
      active = outer && hostLineMatches(args, pass.host, true);
      continue;
    }
    if (keyword === 'match') {
      // Evaluated even where nothing applies (`outer` false): `final` asks for the last pass.
      active = matchLineMatches(args, pass, origin) && outer;
      continue;
    }
    if (keyword === 'include') {
      if (depth >= 16) throw new ConfigSyntaxError('Include nested too deeply', origin);
      // Read even in a block that does not apply (nothing in it applies then), as ssh does: its
      // Match lines are still evaluated, and a `Match final` there still asks for the final pass.
      for (const pattern of args) for (const file of includedFiles(pattern, pass.input.home, base)) readFile(pass, file, base, active, depth + 1, { includedAt: origin });
      continue;
    }
    if (!keywordRule(keyword)) {
      const ignore = pass.values.get('ignoreunknown')?.[0]?.args.join(',');
      if (ignore && patternListMatches(ignore, keyword)) continue;
      throw new ConfigSyntaxError(`Bad configuration option: ${keyword}`, origin);
    }
    checkArgs(keyword, args, origin);
    if (keyword === 'streamlocalbindmask') {
      // As ssh's readconf.c reads it: every line counts, in a block that applies or not, and the
      // last one read wins (ssh -G shows it so; the one keyword it reads that way).
      pass.values.set(keyword, [{ args, origin }]);
      continue;
    }
    if (!active) continue;
    if (args.length === 0) throw new ConfigSyntaxError(`${keyword}: missing argument`, origin);
    const value: ConfigValue = { args: commandKeyword(keyword) ? [rest] : args, origin };
    if (shadowedProxy(pass.values, keyword)) continue;
    const seen = pass.values.get(keyword);
    if (LISTS.has(keyword)) {
      // A line read again (the final pass) counts once; an identity or certificate file named
      // twice is one file, as ssh keeps it.
      const again = seen?.some((v) => (v.origin === origin && pass.final) || (DEDUPED.has(keyword) && v.args.join(' ') === value.args.join(' ')));
      if (!again) pass.values.set(keyword, [...(seen ?? []), value]);
    } else if (!seen) pass.values.set(keyword, [value]);
  }
}

/**
 * ProxyJump and ProxyCommand exclude each other as in ssh's readconf.c: whichever comes first
 * wins; `ProxyCommand none` also keeps a later ProxyJump out, `ProxyJump none` does not keep out
 * a later ProxyCommand (as `ssh -G` shows).
 */
function shadowedProxy(values: ReadonlyMap<string, readonly ConfigValue[]>, keyword: string): boolean {
  if (keyword === 'proxyjump') return values.has('proxycommand');
  if (keyword === 'proxycommand') {
    const jump = values.get('proxyjump')?.[0]?.args[0];
    return jump !== undefined && jump.toLowerCase() !== 'none';
  }
  return false;
}

/** The files an `Include` pattern names: `~` is the home, a relative path is under `base` (`~/.ssh` or `/etc/ssh`). */
function includedFiles(pattern: string, home: string, base: string): string[] {
  return expandGlob(pattern.startsWith('~') ? pattern.replace(/^~/, home) : isAbsolute(pattern) ? pattern : join(base, pattern));
}

function expandGlob(pattern: string): string[] {
  if (!/[*?]/.test(basename(pattern))) return [pattern];
  const dir = dirname(pattern);
  if (!existsSync(dir)) return [];
  const re = patternRegExp(basename(pattern)); // file names: case-sensitive
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Every name on a `Host` line of `file` and the files it includes, in file order (patterns too). */
export function hostLineNames(file: string, home: string, depth = 0): string[] {
  if (depth > 16 || !existsSync(file)) return [];
  const base = file.startsWith('/etc/ssh/') ? '/etc/ssh' : join(home, '.ssh');
  const names: string[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((text, i) => {
      const parsed = parseLine(text, `${file}:${i + 1}`);
      if (!parsed) return;
      const [keyword, args] = parsed;
      if (keyword === 'host') names.push(...args);
      else if (keyword === 'include') {
        for (const pattern of args) for (const f of includedFiles(pattern, home, base)) names.push(...hostLineNames(f, home, depth + 1));
      }
    });
  return names;
}
