/**
 * Reads an OpenSSH client config the way `ssh -G` does (readconf.c): options from the command
 * line first, then the user's file, then the system file; the first value obtained for a keyword
 * wins (the list keywords accumulate); `Host` and `Match` blocks decide which lines apply;
 * `Include` reads files in the context of the block it stands in (its own `Host` lines end at its
 * last line, and nothing in it applies when its block does not); a keyword OpenSSH does not know
 * is an error unless `IgnoreUnknown` names it. Each value remembers where it was set.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { patternRegExp } from '../transport/known-hosts-store.js';
import { keywordRule } from './keywords.js';
import { expandProxyCommand, type ProxyTokens } from './proxy-tokens.js';
import { spawnSync } from 'node:child_process';
import { addressForm, canonicalHost, familyOf } from './canonicalize.js';
import { type NameLookup } from './name-lookup.js';

/** A keyword's value and where it was set (`FILE:LINE`, or `command line`). */
export interface ConfigValue {
  /** The arguments, unquoted. */
  readonly args: readonly string[];
  /** Where it was set. */
  readonly origin: string;
}

/** What applies to one host: lower-case keyword → its first value, or every value of a list keyword. */
export type ResolvedConfig = ReadonlyMap<string, readonly ConfigValue[]>;

/** A config that cannot be read as OpenSSH would (a syntax error, a `Match` rxssh cannot evaluate). */
export class ConfigSyntaxError extends Error {
  override readonly name = 'ConfigSyntaxError';
  constructor(
    message: string,
    /** Where (`FILE:LINE`). */
    readonly origin: string,
    /** The keyword it is about, when one is. */
    readonly keyword?: string,
  ) {
    super(`${origin}: ${message}`);
  }
}

/** List keywords whose repeated values ssh keeps once. */
const DEDUPED = new Set(['identityfile', 'certificatefile']);

/** Keywords whose every occurrence counts (in order), as in OpenSSH. */
const LISTS = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv']);

/** Where to read from and for what host. */
export interface ReadConfigInput {
  /** The name as given (`ssh NAME`), lower-cased like ssh does. */
  readonly alias: string;
  /** A user given with the name or by `-l`: set before any file is read. */
  readonly user?: string | undefined;
  readonly localUser: string;
  readonly home: string;
  /** `-o` lines, read first. */
  readonly extra: readonly string[];
  /** The user's file (`null`: none). */
  readonly file: string | null;
  /** The system-wide file, read after the user's (`null`: none). */
  readonly systemFile: string | null;
  /** Run `Match exec` commands (otherwise a block that needs one is an error). */
  readonly matchExec?: boolean;
  /** How `CanonicalizeHostname` asks whether a name resolves (default: the system resolver). */
  readonly lookup?: NameLookup | undefined;
}

interface Pass {
  readonly input: ReadConfigInput;
  /**
   * The name `Host` lines match, case-sensitively as ssh's match_pattern: the name as given in
   * the first pass, the HostName (lower-cased, canonicalized) in the final one.
   */
  readonly host: string;
  readonly values: Map<string, ConfigValue[]>;
  /** The final pass (`Match final`/`canonical` match only then). */
  readonly final: boolean;
  /** A `Match final` was seen: ssh then reads everything once more. */
  wantFinal: boolean;
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
  const name = canonical ?? addressForm(host, familyOf(setting)) ?? host;
  if (first.wantFinal || canonical !== undefined || name !== host) values.set('hostname', [{ args: [name], origin: given?.origin ?? 'canonicalized' }]);
  if (first.wantFinal || canonical !== undefined) readAll({ input, values, host: name, final: true, wantFinal: true });
  return values;
}

function readAll(pass: Pass): void {
  const { input } = pass;
  readLines(pass, input.extra.map((text) => ({ text, origin: 'command line' })), join(input.home, '.ssh'), 0);
  if (input.file !== null) readFile(pass, input.file, join(input.home, '.ssh'), true, 0);
  if (input.systemFile !== null) readFile(pass, input.systemFile, '/etc/ssh', true, 0);
}

function readFile(pass: Pass, file: string, base: string, active: boolean, depth: number): void {
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((text, i) => ({ text, origin: `${file}:${i + 1}` }));
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
      for (const pattern of args) for (const file of includedFiles(pattern, pass.input.home, base)) readFile(pass, file, base, active, depth + 1);
      continue;
    }
    if (!keywordRule(keyword)) {
      const ignore = pass.values.get('ignoreunknown')?.[0]?.args.join(',');
      if (ignore && patternListMatches(ignore, keyword)) continue;
      throw new ConfigSyntaxError(`Bad configuration option: ${keyword}`, origin);
    }
    checkArgs(keyword, args, origin);
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

/**
 * Values ssh refuses wherever the line stands (readconf.c checks them before it looks at the
 * block): the canonicalization keywords'.
 */
function checkArgs(keyword: string, args: readonly string[], origin: string): void {
  const bad = (why: string): never => {
    throw new ConfigSyntaxError(`${keyword} ${args.join(' ')}: ${why}`, origin, keyword);
  };
  if (keyword === 'canonicaldomains') {
    if (args.some((a) => a.toLowerCase() === 'none') && args.length > 1) bad('"none" must appear alone');
    for (const domain of args) {
      if (!/^[a-z0-9]/i.test(domain) || /\.\./.test(domain) || !/^[a-z0-9._-]+$/i.test(domain)) bad(`domain name "${domain}" is not valid`);
    }
  } else if (keyword === 'canonicalizehostname') {
    if (!/^(yes|no|true|false|always)$/i.test(args[0] ?? '')) bad('yes, no or always');
  } else if (keyword === 'canonicalizefallbacklocal') {
    if (!/^(yes|no|true|false)$/i.test(args[0] ?? '')) bad('yes or no');
  } else if (keyword === 'canonicalizemaxdots') {
    if (!/^[0-9]+$/.test(args[0] ?? '')) bad('a number');
  }
}

/** Keywords whose value is the rest of the line as written (a command). */
function commandKeyword(keyword: string): boolean {
  return keyword === 'proxycommand' || keyword === 'remotecommand' || keyword === 'localcommand' || keyword === 'knownhostscommand';
}

/** `keyword [=] args…`: the keyword lower-cased, the arguments unquoted, and the raw rest. */
function parseLine(text: string, origin: string): [string, string[], string] | undefined {
  const line = text.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const m = /^([^\s=]+)(?:\s*=\s*|\s+)(.*)$/.exec(line) ?? /^([^\s=]+)()$/.exec(line);
  if (!m) throw new ConfigSyntaxError(`cannot read ${JSON.stringify(line)}`, origin);
  const rest = (m[2] ?? '').trim();
  return [(m[1] ?? '').toLowerCase(), splitArgs(rest, origin), rest];
}

/**
 * Splits arguments as OpenSSH's argv_split does: whitespace separates, double or single quotes
 * group (also inside a word, `A="two words"`), a backslash escapes a quote, a backslash or a
 * space, and `#` at the start of a word ends the line.
 */
function splitArgs(text: string, origin: string): string[] {
  const args: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length && /["'\\ ]/.test(text[i + 1] as string) && quote !== "'") {
      word = (word ?? '') + text[++i];
    } else if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) args.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new ConfigSyntaxError('unterminated quote', origin);
  if (word !== undefined) args.push(word);
  return args;
}

/**
 * A `Host` line or pattern list: some pattern matches and no negated one does. `Host` lines
 * match case-sensitively (ssh's match_pattern), `Match` criteria not (match_hostname).
 */
function hostLineMatches(patterns: readonly string[], host: string, caseSensitive = false): boolean {
  let matched = false;
  const fold = (text: string): string => (caseSensitive ? text : text.toLowerCase());
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (patternRegExp(fold(negated ? p.slice(1) : p)).test(fold(host))) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** OpenSSH's match_pattern_list: comma-separated, a matching `!pattern` wins. */
function patternListMatches(list: string, value: string): boolean {
  return hostLineMatches(list.split(','), value);
}

/** A `Match` line: every criterion (each may be negated with `!`) holds. */
function matchLineMatches(args: readonly string[], pass: Pass, origin: string): boolean {
  const { input, values } = pass;
  const current = (keyword: string): string | undefined => values.get(keyword)?.[0]?.args[0];
  let result = true;
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const negate = raw.startsWith('!');
    const criterion = (negate ? raw.slice(1) : raw).toLowerCase();
    let holds: boolean;
    if (criterion === 'all') {
      holds = true;
    } else if (criterion === 'canonical' || criterion === 'final') {
      // Only `final` asks for the second pass (`canonical` waits for one that canonicalization
      // or a `final` starts); in it both match.
      if (criterion === 'final') pass.wantFinal = true;
      holds = pass.final;
    } else {
      const arg = args[++i];
      if (arg === undefined) throw new ConfigSyntaxError(`Match ${criterion} needs an argument`, origin);
      const hostname = (current('hostname') ?? pass.host).replace(/%(.)/g, (m, t: string) => (t === 'h' ? pass.host : t === '%' ? '%' : m));
      switch (criterion) {
        case 'host':
          holds = patternListMatches(arg, hostname.toLowerCase());
          break;
        case 'originalhost':
          holds = patternListMatches(arg, input.alias);
          break;
        case 'user':
          holds = patternListMatches(arg, current('user') ?? input.localUser);
          break;
        case 'localuser':
          holds = patternListMatches(arg, input.localUser);
          break;
        case 'tagged':
          holds = patternListMatches(arg, current('tag') ?? '');
          break;
        case 'exec':
          // Evaluated only when the criteria before it hold, as ssh does.
          if (!result) {
            holds = false;
            break;
          }
          if (!input.matchExec) throw new ConfigSyntaxError('Match exec would run a command to decide: rxssh does not run it (the block cannot be evaluated; opt in with matchExec)', origin);
          holds = matchExec(arg, { host: hostname, port: Number(current('port') ?? 22), user: current('user') ?? input.localUser, alias: input.alias, localUser: input.localUser, home: input.home }, origin);
          break;
        default:
          throw new ConfigSyntaxError(`Match ${criterion}: rxssh cannot evaluate this criterion`, origin);
      }
    }
    if (negate) holds = !holds;
    if (!holds) result = false;
  }
  return result;
}

/** Runs a `Match exec` command as ssh does: `$SHELL -c COMMAND`, stdout to nowhere; exit 0 matches. */
function matchExec(command: string, tokens: ProxyTokens, origin: string): boolean {
  const expanded = expandProxyCommand(command, tokens, 'Match exec');
  if (expanded instanceof Error) throw new ConfigSyntaxError(expanded.message, origin);
  const shell = process.env['SHELL'] || '/bin/sh';
  const r = spawnSync(shell, ['-c', expanded], { stdio: ['ignore', 'ignore', 'inherit'] });
  return r.status === 0;
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
