/**
 * Which blocks of an ssh_config apply: `Host` lines (case-sensitive, as ssh's match_pattern) and
 * `Match` criteria (`host`, `originalhost`, `user`, `localuser`, `tagged`, `all`, `canonical`,
 * `final`, and `exec` only when asked for), evaluated as readconf.c's match_cfg_line does.
 */
import { spawnSync } from 'node:child_process';
import { patternRegExp } from '../transport/known-hosts-store.js';
import { expandProxyCommand, type ProxyTokens } from './proxy-tokens.js';
import { ConfigSyntaxError, type ConfigValue } from './config-line.js';

/** What a `Match` line is evaluated against: the pass reading the config. */
export interface MatchPass {
  readonly input: { readonly alias: string; readonly localUser: string; readonly home: string; readonly matchExec?: boolean | undefined };
  readonly values: ReadonlyMap<string, readonly ConfigValue[]>;
  /** The name `Host` lines and `%h` stand for in this pass. */
  readonly host: string;
  /** The final pass (`Match final`/`canonical` match only then). */
  readonly final: boolean;
  /** A `Match final` was seen: ssh then reads everything once more. */
  wantFinal: boolean;
}

/**
 * A `Host` line or pattern list: some pattern matches and no negated one does. `Host` lines
 * match case-sensitively (ssh's match_pattern), `Match` criteria not (match_hostname).
 */
export function hostLineMatches(patterns: readonly string[], host: string, caseSensitive = false): boolean {
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
export function patternListMatches(list: string, value: string): boolean {
  return hostLineMatches(list.split(','), value);
}

/** A `Match` line: every criterion (each may be negated with `!`) holds. */
export function matchLineMatches(args: readonly string[], pass: MatchPass, origin: string): boolean {
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
