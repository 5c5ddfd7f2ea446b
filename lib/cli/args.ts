/**
 * Command-line parsing shared by the subcommands: options end at the first positional (as in
 * ssh and pssh, so `rxssh exec host uname -a` needs no `--`), pssh's `-O`/`-x`/`-X` turned into
 * ssh_config lines, and pssh's `PSSH_*` environment variables as defaults.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { sshConfigRefusal } from '../index.js';
import { UsageError } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Splits `argv` where the options end: at `--`, or at the first argument that is neither an
 * option nor an option's value. Returns the parsed options and the rest, untouched.
 */
export function parseUntilPositional<O extends Options>(argv: readonly string[], options: O): { values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: false; strict: true }>>['values']; rest: string[] } {
  const longOf = (name: string): string | undefined => {
    if (options[name]) return name;
    return Object.entries(options).find(([, o]) => o.short === name)?.[0];
  };
  const takesValue = (name: string): boolean => options[longOf(name) ?? '']?.type === 'string';
  // Options are rewritten as --name=value, so that a value starting with '-' (`-x "-i key"`,
  // `-X -o`) is taken as the value it is, as optparse (pssh) and getopt (ssh) take it.
  const normalized: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      const name = arg.slice(2);
      if (!arg.includes('=') && takesValue(name) && i + 1 < argv.length) normalized.push(`--${name}=${argv[++i] as string}`);
      else normalized.push(arg);
      continue;
    }
    // A cluster of short options: the first one that takes a value takes the rest of the
    // cluster, or the next argument.
    for (let c = 1; c < arg.length; c++) {
      const ch = arg[c] as string;
      const long = longOf(ch);
      if (long === undefined) {
        normalized.push(`-${ch}`); // unknown: parseArgs reports it
        continue;
      }
      if (!takesValue(ch)) {
        normalized.push(`--${long}`);
        continue;
      }
      const value = c < arg.length - 1 ? arg.slice(c + 1) : argv[++i];
      normalized.push(value === undefined ? `--${long}` : `--${long}=${value}`);
      break;
    }
  }
  const rest = argv[i] === '--' ? argv.slice(i + 1) : argv.slice(i);
  const { values } = parseArgs({ args: normalized, options, allowPositionals: false, strict: true });
  return { values, rest: [...rest] };
}

/**
 * One `-O`/`-o` option (`Key=Value` or `Key Value`) as an ssh_config line, by the same table as
 * the config files (lib/config/keywords.ts): honoured and harmless keywords are taken, one that
 * rxssh cannot honour (`ProxyCommand ssh -W …`, `LocalForward …`) is a UsageError naming it
 * and the flag it came with (`-O` in run, ssh's `-o` in exec).
 */
export function configLine(option: string, flag = '-O', readsForwards = false): string {
  const m = /^\s*([A-Za-z0-9]+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(option);
  if (!m || !m[2]) throw new UsageError(`${flag} ${JSON.stringify(option)}: expected KEYWORD=VALUE`);
  const [, keyword = '', value = ''] = m;
  if (/^(host|match|include)$/i.test(keyword)) throw new UsageError(`${flag} ${keyword}: not an option (it is ssh_config structure)`);
  // `rxssh exec` sets up LocalForward, RemoteForward and DynamicForward, as ssh does.
  const why = readsForwards && /^(local|remote|dynamic)forward$/i.test(keyword) ? undefined : sshConfigRefusal(keyword, value);
  if (why) throw new UsageError(`${flag} ${keyword}=${value}: ${why}`);
  return `${keyword} ${value}`;
}

/** Splits a string like a shell would: spaces separate, quotes and backslashes group. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word = (word ?? '') + text[++i];
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new UsageError(`-x ${JSON.stringify(text)}: unterminated quote`);
  if (word !== undefined) words.push(word);
  return words;
}

/** What pssh's `-x`/`-X` ssh arguments say, in rxssh's terms. */
export interface SshArgs {
  /** ssh_config lines (from `-o`, `-p`, `-l`, `-J`, `-A`, `-i`). */
  readonly lines: string[];
  /** `-F FILE`, if given. */
  readonly configFile: string | undefined;
  /** How many `-t` were given (`-tt`: 2), or -1 for `-T`. */
  readonly tty: number;
}

/**
 * The ssh flags of pssh's `-x ARGS` / `-X ARG` that rxssh understands: `-i FILE`, `-p PORT`,
 * `-l USER`, `-o OPTION`, `-J HOPS`, `-A`, `-F FILE`; any other is a usage error naming it.
 */
export function sshArgs(args: readonly string[], readsForwards = false): SshArgs {
  const lines: string[] = [];
  let configFile: string | undefined;
  let tty = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = arg.slice(0, 2);
    const attached = arg.length > 2 ? arg.slice(2) : undefined;
    const value = (): string => {
      const v = attached ?? args[++i];
      if (v === undefined) throw new UsageError(`-x/-X: ssh option ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-i':
        lines.push(`IdentityFile ${value()}`);
        break;
      case '-p':
        lines.push(`Port ${value()}`);
        break;
      case '-l':
        lines.push(`User ${value()}`);
        break;
      case '-o':
        lines.push(configLine(value(), '-o', readsForwards));
        break;
      case '-J':
        lines.push(`ProxyJump ${value()}`);
        break;
      case '-F':
        configFile = value();
        break;
      case '-A':
        if (attached !== undefined) throw new UsageError(`-x/-X: ${JSON.stringify(arg)} is not an ssh option rxssh understands`);
        lines.push('ForwardAgent yes');
        break;
      case '-t':
        // -t: a pseudo-terminal when stdin is one; -tt: always (as ssh).
        if (attached !== undefined && attached !== 't') throw new UsageError(`-x/-X: ${JSON.stringify(arg)} is not an ssh option rxssh understands`);
        tty += attached === 't' ? 2 : 1;
        break;
      case '-T':
        tty = -1; // no pseudo-terminal (the default)
        break;
      case '-C':
        if (attached !== undefined) throw new UsageError(`-x/-X: ${JSON.stringify(arg)} is not an ssh option rxssh understands`);
        lines.push('Compression yes');
        break;
      case '-q':
      case '-v':
        // Harmless: quiet and verbose are ssh's own logging.
        if (attached !== undefined) throw new UsageError(`-x/-X: ${JSON.stringify(arg)} is not an ssh option rxssh understands`);
        break;
      default:
        throw new UsageError(`-x/-X: ssh option ${JSON.stringify(arg)} is not supported (rxssh takes -i, -p, -l, -o, -J, -A, -F, -t, -T, -q, -C and -v)`);
    }
  }
  return { lines, configFile, tty };
}

/** pssh's environment variables, as defaults for options not given on the command line. */
export const PSSH_ENV: ReadonlyArray<readonly [option: string, variable: string]> = [
  ['user', 'PSSH_USER'],
  ['par', 'PSSH_PAR'],
  ['outdir', 'PSSH_OUTDIR'],
  ['errdir', 'PSSH_ERRDIR'],
  ['timeout', 'PSSH_TIMEOUT'],
  ['verbose', 'PSSH_VERBOSE'],
  ['print', 'PSSH_PRINT'],
  ['askpass', 'PSSH_ASKPASS'],
  ['inline', 'PSSH_INLINE'],
  ['option', 'PSSH_OPTIONS'],
  ['hosts', 'PSSH_HOSTS'],
  ['no-progress', 'RXSSH_NO_PROGRESS'],
];
