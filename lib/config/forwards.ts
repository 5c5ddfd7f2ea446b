/**
 * The forwards of a host as ssh resolves them: the command line's `-L`, `-R`, `-D` first, then
 * the config's `LocalForward`, `RemoteForward` and `DynamicForward` lines that apply, none with
 * `ClearAllForwardings yes`; Unix socket paths with `${VAR}` and `%` tokens expanded (ssh's
 * default_client_percent_dollar_expand, no `~`).
 */
import { configForward, parseForward, type ParsedForward } from '../util/forward-spec.js';
import type { ConfigValue, ResolvedConfig } from './config-line.js';

/**
 * A TCP end of a forward: a port, and the address as given.
 *
 * @example
 * ```ts
 * const end: ForwardPort = { host: '127.0.0.1', port: 15432 };
 * ```
 */
export interface ForwardPort {
  /** The address as written (undefined when none was given; `''` and `*` mean every interface). */
  readonly host?: string;
  /** The port. */
  readonly port: number;
}

/**
 * A Unix socket end of a forward.
 *
 * @example
 * ```ts
 * const end: ForwardSocket = { path: '/run/docker.sock' };
 * ```
 */
export interface ForwardSocket {
  /** The socket's path, `${VAR}` and `%` tokens expanded. */
  readonly path: string;
}

/**
 * One forward of a host, as ssh resolves it (`SshConfigHost.forwards`).
 *
 * @example
 * ```ts
 * import { fromSshConfig } from 'rxssh';
 *
 * const host = fromSshConfig('db-tunnel', { forwards: { local: ['15432:db.internal:5432'] } });
 * for (const f of host.forwards ?? []) console.log(f.kind, f.listen, f.connect, f.origin);
 * ```
 */
export interface SshForward {
  /** `local` (`-L`, `LocalForward`), `remote` (`-R`, `RemoteForward`) or `dynamic` (`-D`, `DynamicForward`). */
  readonly kind: 'local' | 'remote' | 'dynamic';
  /** Where it listens (here for local and dynamic, on the server for remote). */
  readonly listen: ForwardPort | ForwardSocket;
  /** Where each connection goes (a host always given); undefined for a SOCKS proxy (`DynamicForward`, `RemoteForward PORT`). */
  readonly connect?: Required<ForwardPort> | ForwardSocket;
  /** As written: `-L 8080:db:80`, `LocalForward 8080 db:80`. */
  readonly written: string;
  /** `command line`, or the config line's `FILE:LINE`. */
  readonly origin: string;
}

/**
 * The command line's forwards, in ssh's syntax, for {@link ResolveAliasConfig.forwards}.
 *
 * @example
 * ```ts
 * const given: CommandLineForwards = { local: ['8080:db:80', '/tmp/d.sock:/run/docker.sock'], dynamic: ['1080'] };
 * ```
 */
export interface CommandLineForwards {
  /** `-L` arguments: `[bind:]port:host:hostport`, and the Unix socket forms. */
  readonly local?: readonly string[];
  /** `-R` arguments: `[bind:]port:host:hostport`, and the Unix socket forms. */
  readonly remote?: readonly string[];
  /** `-D` arguments: `[bind:]port` or a socket path. */
  readonly dynamic?: readonly string[];
}

const KEYWORDS = { local: 'LocalForward', remote: 'RemoteForward', dynamic: 'DynamicForward' } as const;
const FLAGS = { local: 'L', remote: 'R', dynamic: 'D' } as const;

/**
 * Every forward of the host, or an Error message for one ssh would refuse (`written` and
 * `origin` say which). `expand` expands a socket path, throwing for what ssh would stop at.
 */
export function forwardsOf(resolved: ResolvedConfig, given: CommandLineForwards, expand: (path: string, keyword: string, value: ConfigValue) => string): SshForward[] | { readonly bad: string; readonly keyword: string; readonly origin: string } {
  const out: SshForward[] = [];
  const add = (kind: SshForward['kind'], parsed: ParsedForward, written: string, value: ConfigValue): void => {
    const keyword = KEYWORDS[kind].toLowerCase();
    const path = (p: string): string => expand(p, keyword, value);
    const listen = parsed.listenPath !== undefined ? { path: path(parsed.listenPath) } : { ...(parsed.listenHost !== undefined ? { host: parsed.listenHost } : {}), port: parsed.listenPort as number };
    const socks = parsed.connectHost === 'socks' && parsed.connectPort === undefined;
    const connect = parsed.connectPath !== undefined ? { path: path(parsed.connectPath) } : socks ? undefined : { host: parsed.connectHost as string, port: parsed.connectPort as number };
    // As ssh's add_local_forward / add_remote_forward: a forward equal to one already there is dropped.
    const same = JSON.stringify([kind === 'remote', listen, connect ?? null]);
    if (out.some((f) => JSON.stringify([f.kind === 'remote', f.listen, f.connect ?? null]) === same)) return;
    out.push({ kind, listen, ...(connect ? { connect } : {}), written, origin: value.origin });
  };
  for (const kind of ['local', 'remote', 'dynamic'] as const) {
    for (const spec of given[kind] ?? []) {
      const parsed = kind === 'remote' ? (parseForward(spec, false, true) ?? parseForward(spec, true, true)) : parseForward(spec, kind === 'dynamic', false);
      const written = `-${FLAGS[kind]} ${spec}`;
      if (!parsed) return { bad: written, keyword: KEYWORDS[kind].toLowerCase(), origin: 'command line' };
      add(kind, parsed, written, { args: [spec], origin: 'command line' });
    }
  }
  // The config's, in the order of their lines within each keyword (ssh keeps one list; its order
  // across LocalForward and DynamicForward lines does not change what is set up).
  for (const kind of ['local', 'remote', 'dynamic'] as const) {
    for (const value of resolved.get(KEYWORDS[kind].toLowerCase()) ?? []) {
      const written = `${KEYWORDS[kind]} ${value.args.join(' ')}`;
      const line = configForward(KEYWORDS[kind], value.args);
      const parsed = line && (line.flag === 'R' ? (parseForward(line.spec, false, true) ?? parseForward(line.spec, true, true)) : parseForward(line.spec, line.flag === 'D', false));
      if (!parsed) return { bad: written, keyword: KEYWORDS[kind].toLowerCase(), origin: value.origin };
      add(kind, parsed, written, value);
    }
  }
  return out;
}
