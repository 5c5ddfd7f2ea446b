/**
 * One line of an ssh_config as OpenSSH's readconf.c reads it: the keyword and its arguments
 * (argv_split's quoting), where it was set, the values ssh refuses wherever the line stands,
 * and the error for a line that cannot be read.
 */
import { rekeyLimitOf, sshSeconds } from './rekey-limit.js';
import { configForward } from '../util/forward-spec.js';
import { escapeCharOf, logLevelOf } from '../util/terminal-settings.js';

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

/**
 * Values ssh refuses wherever the line stands (readconf.c checks them before it looks at the
 * block): the canonicalization keywords'.
 */
export function checkArgs(keyword: string, args: readonly string[], origin: string): void {
  const bad = (why: string): never => {
    throw new ConfigSyntaxError(`${keyword} ${args.join(' ')}: ${why}`, origin, keyword);
  };
  // The words, times and numbers of the keywords rxssh honours, as ssh's parser takes them (an
  // unknown word was read as the default before: BatchMode sure asked, IdentitiesOnly x used the agent).
  const first = args[0] ?? '';
  const words = WORDS[keyword];
  if (words && !words.test(first)) bad(`unsupported option "${first}"`);
  if (TIMES.has(keyword) && first.toLowerCase() !== 'none' && sshSeconds(first) instanceof Error) bad('invalid time value');
  if (INTEGERS.has(keyword) && !/^\d+$/.test(first)) bad('integer value invalid');
  if (keyword === 'canonicaldomains') {
    if (args.some((a) => a.toLowerCase() === 'none') && args.length > 1) bad('"none" must appear alone');
    for (const domain of args) {
      if (!/^[a-z0-9]/i.test(domain) || /\.\./.test(domain) || !/^[a-z0-9._-]+$/i.test(domain)) bad(`domain name "${domain}" is not valid`);
    }
  } else if (keyword === 'userknownhostsfile' || keyword === 'globalknownhostsfile') {
    if (args.length > 1 && args.some((a) => a.toLowerCase() === 'none')) bad('"none" must appear alone'); // as ssh
  } else if (keyword === 'canonicalizehostname') {
    if (!/^(yes|no|true|false|always)$/i.test(args[0] ?? '')) bad('yes, no or always');
  } else if (keyword === 'rekeylimit') {
    const limit = rekeyLimitOf(args); // checked in every block, as ssh reads it
    if (limit instanceof Error) bad(limit.message);
  } else if (keyword === 'localforward' || keyword === 'remoteforward' || keyword === 'dynamicforward') {
    if (!configForward(keyword, args)) bad('Bad forwarding specification'); // in every block, as ssh reads it
  } else if (keyword === 'numberofpasswordprompts') {
    if (!/^\d+$/.test(args[0] ?? '') || Number(args[0]) > 2 ** 31 - 1) bad('a number');
  } else if (keyword === 'addkeystoagent') {
    const [mode = '', time, ...rest] = args;
    const isTime = (t: string): boolean => !(sshSeconds(t) instanceof Error);
    // As ssh 9.2 reads it: yes, no, ask alone; confirm with an optional time; or a time alone.
    const ok = rest.length === 0 && (/^(yes|true|no|false|ask)$/i.test(mode) ? time === undefined : /^confirm$/i.test(mode) ? time === undefined || isTime(time) : time === undefined && isTime(mode));
    if (!ok) bad('yes, no, ask, confirm [TIME] or TIME');
  } else if (keyword === 'escapechar') {
    if (escapeCharOf(args[0] ?? '') === undefined) bad('Bad escape character (one character, ^X or none)');
  } else if (keyword === 'loglevel') {
    if (logLevelOf(args[0] ?? '') === undefined) bad('unsupported log level');
  } else if (keyword === 'streamlocalbindmask') {
    if (args.length === 0 || streamLocalMaskOf(args[0] as string) === undefined) bad('Bad mask (octal, 0-0777)');
  }
}

const YES_NO = /^(yes|true|no|false)$/i;
/** The words ssh takes for the flag and choice keywords rxssh reads (readconf.c's multistate tables, any case). */
const WORDS: Readonly<Record<string, RegExp>> = {
  batchmode: YES_NO,
  checkhostip: YES_NO,
  hashknownhosts: YES_NO,
  identitiesonly: YES_NO,
  clearallforwardings: YES_NO,
  gatewayports: YES_NO,
  streamlocalbindunlink: YES_NO,
  compression: /^(yes|no)$/i, // ssh's compression table: no true or false
  tcpkeepalive: YES_NO,
  stdinnull: YES_NO,
  canonicalizefallbacklocal: YES_NO,
  enableescapecommandline: YES_NO,
  stricthostkeychecking: /^(yes|true|no|false|off|ask|accept-new)$/i,
  requesttty: /^(yes|true|no|false|force|auto)$/i,
  updatehostkeys: /^(yes|true|no|false|ask)$/i,
  addressfamily: /^(any|inet|inet6)$/i,
};
/** Time values (`30`, `1m30s`, `none`). */
const TIMES = new Set(['connecttimeout', 'serveraliveinterval']);
/** Whole numbers. */
const INTEGERS = new Set(['serveralivecountmax', 'requiredrsasize', 'canonicalizemaxdots']);

/**
 * `StreamLocalBindMask` as ssh reads it (strtol in base 8: leading octal digits, the rest of the
 * word ignored, so `0999` is 0), or undefined for no digits or a value outside 0-0777.
 */
export function streamLocalMaskOf(text: string): number | undefined {
  const m = /^([+-]?)([0-7]+)/.exec(text);
  if (!m) return undefined;
  const value = parseInt(m[2] as string, 8);
  if (value === 0) return 0;
  return m[1] === '-' || value > 0o777 ? undefined : value;
}

/** Keywords whose value is the rest of the line as written (a command). */
export function commandKeyword(keyword: string): boolean {
  return keyword === 'proxycommand' || keyword === 'remotecommand' || keyword === 'localcommand' || keyword === 'knownhostscommand';
}

/** `keyword [=] args…`: the keyword lower-cased, the arguments unquoted, and the raw rest. */
export function parseLine(text: string, origin: string): [string, string[], string] | undefined {
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
