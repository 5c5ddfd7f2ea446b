/**
 * OpenSSH client configuration (`~/.ssh/config`): `fromSshConfig(alias)` resolves a host the way
 * `ssh alias` does, using the maintained `ssh-config` parser (Host and Match blocks,
 * first-value-wins) plus `Include`, `%` tokens and `~`; `hostKeyPolicyFor` and `credentialsFor`
 * turn the result into a verify policy and credential providers.
 *
 * @module
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigSyntaxError, readConfig, type ConfigValue, type ReadConfigInput, type ResolvedConfig } from './reader.js';
import { sshConfigRefusal } from './keywords.js';
import { addKeysToAgentOf, agentOf, environmentOf, transportSettings } from './host-settings.js';
import { escapeCharOf, logLevelOf, type LogLevel } from '../util/terminal-settings.js';
import { expandPathWords, expandTilde, tokenValue } from './proxy-tokens.js';
import { type NameLookup } from './name-lookup.js';
import { SshConfigError } from '../errors.js';
import { streamLocalMaskOf } from './config-line.js';
import { forwardsOf, type CommandLineForwards, type SshForward } from './forwards.js';
import { type ConnectConfig } from '../transport/connect.js';
import { RESOLVED_HOST_FIELDS } from '../transport/connect-config.js';
import type { AgentKeyConstraints } from '../auth/agent-add.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * Options of {@link fromSshConfig}.
 *
 * @example
 * ```ts
 * import { fromSshConfig } from 'rxssh';
 *
 * fromSshConfig('db', { file: './ssh_config', user: 'admin', extra: ['StrictHostKeyChecking accept-new'] });
 * ```
 */
export interface ResolveAliasConfig {
  /**
   * The config file (default `~/.ssh/config`, skipped when missing, refused when another user could
   * write it, as ssh does; a file given must exist, as with `ssh -F`; `null`: none). Every
   * `Include`d file is held to the same ownership and permission check.
   */
  readonly file?: string | null;
  /**
   * Lines that come before the file, like `ssh -o` options: for each keyword the first value
   * obtained wins, so they override the file (`['StrictHostKeyChecking accept-new']`).
   */
  readonly extra?: readonly string[];
  /** A user given with the host (`user@alias`), which takes precedence like `ssh user@alias`. */
  readonly user?: string;
  /** The local user name for `%u` and `Match` defaults (default: the current user). */
  readonly localUser?: string;
  /** The home directory for `~` and `%d` (default: the current user's). */
  readonly home?: string;
  /**
   * The system-wide config read after `file` (default `/etc/ssh/ssh_config` when `file` is not
   * given, none when it is — as `ssh -F FILE` skips it; `null`: none).
   */
  readonly systemFile?: string | null;
  /**
   * `compatible`: algorithm lists in the config (`Ciphers`, `MACs`, …) may name algorithms below
   * rxssh's hardened floor (`ssh-rsa`, CBC, `hmac-sha1`, …); the resolved host carries the policy
   * to `connect()`. Default `hardened`: such a config is refused, naming them.
   */
  readonly algorithmPolicy?: 'hardened' | 'compatible';
  /**
   * Run `Match exec` commands to decide their blocks, as ssh does (`$SHELL -c`, exit status 0
   * matches; tokens `%h %p %r %n %u %d %L %l %C %%` expanded). Default false: a block that would
   * need one is refused, since reading a config then runs commands.
   */
  readonly matchExec?: boolean;
  /**
   * For a program that sets up the host's forwards, as `rxssh exec` does: its command line's
   * `-L`, `-R`, `-D` (ssh's syntax). With this option the config's `LocalForward`,
   * `RemoteForward` and `DynamicForward` are read too (without it a host with one is refused:
   * a connection alone does not set them up), and {@link SshConfigHost.forwards} lists them all.
   */
  readonly forwards?: CommandLineForwards;
  /**
   * How `CanonicalizeHostname` asks whether `NAME.DOMAIN.` resolves (default
   * {@link systemNameLookup}: getaddrinfo, as ssh). Only asked when the config turns
   * canonicalization on.
   */
  readonly lookup?: NameLookup;
}

/** The names {@link ResolveAliasConfig} takes. @internal */
export const RESOLVE_ALIAS_NAMES = optionNames<ResolveAliasConfig>()(['file', 'extra', 'user', 'localUser', 'home', 'systemFile', 'algorithmPolicy', 'matchExec', 'forwards', 'lookup']);

/**
 * `StrictHostKeyChecking`, normalized (`true`/`false`/`off` become `yes`/`no`).
 *
 * @example
 * ```ts
 * import { fromSshConfig, type StrictHostKeyChecking } from 'rxssh';
 *
 * const mode: StrictHostKeyChecking = fromSshConfig('web').strictHostKeyChecking; // 'yes' unless configured
 * ```
 */
export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

/**
 * A host resolved from ssh_config. It is a {@link ConnectConfig}, so it can be given to
 * `connect()` as it is; the other fields feed {@link hostKeyPolicyFor} and {@link credentialsFor}.
 *
 * @example
 * ```ts
 * import { fromSshConfig } from 'rxssh';
 *
 * const web = fromSshConfig('web');
 * console.log(web.host, web.port, web.username, web.proxyJump);
 * ```
 */
export interface SshConfigHost extends ConnectConfig {
  /** The name asked for (`Host` patterns are matched against it). */
  readonly alias: string;
  /** Private key files, `~` and tokens expanded, in order (OpenSSH's defaults when none is set). */
  readonly identityFiles: readonly string[];
  /** `CertificateFile`s, expanded (each identity's `-cert.pub` is tried too, as OpenSSH does). */
  readonly certificateFiles: readonly string[];
  /** `IdentitiesOnly`: use only the identity files, not the agent. */
  readonly identitiesOnly: boolean;
  /** `ProxyJump` as written (`host1,user@host2:port`), or undefined. */
  readonly proxyJump: string | undefined;
  /** `ProxyCommand` with its tokens expanded (undefined for none); `connect()` runs it. */
  readonly proxyCommand?: string;
  /** `RemoteCommand`, tokens expanded: what `rxssh exec HOST` runs when given no command (undefined for none). */
  readonly remoteCommand?: string;
  /** `RequestTTY`: `yes` (when stdin is a terminal), `force`, `no`, or `auto` (the default). */
  readonly requestTty: 'yes' | 'no' | 'force' | 'auto';
  /** `StdinNull`: the command gets no stdin (`ssh -n`); `rxssh exec` and `rxssh run -I` honour it. */
  readonly stdinNull: boolean;
  /** `EscapeChar` (default `~`; null for `none`): what `rxssh exec` watches for at the start of a line on a session with a pseudo-terminal (`~.` ends it). */
  readonly escapeChar: string | null;
  /** `LogLevel` (default `INFO`): below INFO, `rxssh exec` prints none of its own notices, as `ssh -q`. */
  readonly logLevel: LogLevel;
  /** `GatewayPorts`: `rxssh exec`'s `-L` and `-D` given without an address listen on every interface. */
  readonly gatewayPorts: boolean;
  /** `ClearAllForwardings`: `rxssh exec` sets up none of its `-L`, `-R` and `-D` forwards. */
  readonly clearAllForwardings: boolean;
  /**
   * With `forwards` asked for: the command line's forwards, then the config's that apply, with
   * their socket paths expanded (`${VAR}` and tokens), as ssh sets them up; empty with
   * `ClearAllForwardings yes`. Undefined otherwise.
   */
  readonly forwards?: readonly SshForward[];
  /** `StreamLocalBindMask`: the umask of Unix socket listeners (default 0o177), as a forward's `bind.mask`. */
  readonly streamLocalBindMask: number;
  /** `StreamLocalBindUnlink`: a Unix socket listener replaces a file already at its path, as a forward's `bind.unlink`. */
  readonly streamLocalBindUnlink: boolean;
  /** `StrictHostKeyChecking`. */
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  /** `UserKnownHostsFile`, expanded (`none` alone: no user file, as ssh reads it: nothing read or learned there). */
  readonly userKnownHostsFiles: readonly string[];
  /** `GlobalKnownHostsFile`, `~` expanded (default `/etc/ssh/ssh_known_hosts` and `…2`); read, never written. */
  readonly globalKnownHostsFiles: readonly string[];
  /** `HashKnownHosts`: the host names of lines rxssh appends (accept-new, UpdateHostKeys) are hashed. */
  readonly hashKnownHosts: boolean;
  /** `BatchMode`: no question is asked on the terminal (passwords, passphrases, unknown host keys). */
  readonly batchMode: boolean;
  /** `NumberOfPasswordPrompts` (default 3): how often the CLI asks for a password, keyboard-interactive answers or a key's passphrase. */
  readonly numberOfPasswordPrompts: number;
  /** `CheckHostIP`: the server's IP address is checked in known_hosts too, and recorded (default false, as ssh). */
  readonly checkHostIp: boolean;
  /** `AddKeysToAgent` (`yes`, `confirm`, a lifetime): a key from a file that logs in is added to the agent so; undefined for `no`. */
  readonly addKeysToAgent?: AgentKeyConstraints;
  /** `CASignatureAlgorithms` as ssh reads it (+/-/^), or undefined for OpenSSH's default. */
  readonly caSignatureAlgorithms?: readonly string[];
  /** `RevokedHostKeys`, expanded: a KRL or a list of public keys that no host may present. */
  readonly revokedHostKeys?: string;
  /** `IdentityAgent`: the agent socket (`null`: none), or undefined for the caller's default (`SSH_AUTH_SOCK`). */
  readonly identityAgent?: string | null;
  /** `ConnectTimeout` in seconds, or undefined. */
  readonly connectTimeout: number | undefined;
  /** `ServerAliveInterval` in seconds (0 = off), or undefined when not set. */
  readonly serverAliveInterval: number | undefined;
  /** `ServerAliveCountMax`, or undefined when not set. */
  readonly serverAliveCountMax: number | undefined;
  /** `ForwardAgent`. */
  readonly forwardAgent: boolean;
  /** Every computed directive, lower-case names, values as written. */
  readonly raw: Readonly<Record<string, string | readonly string[]>>;
}

// connect() takes a resolved host as it is: its list of this type's own fields must stay whole.
optionNames<Omit<SshConfigHost, keyof ConnectConfig>>()(RESOLVED_HOST_FIELDS);

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];
/** Where rxssh reads the system-wide ssh_config (as `ssh` does), after the user's file. */
export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';

function yes(value: string | undefined): boolean {
  return value !== undefined && /^(yes|true)$/i.test(value);
}

function strict(value: string | undefined): StrictHostKeyChecking {
  const v = (value ?? 'ask').toLowerCase();
  if (v === 'yes' || v === 'true') return 'yes';
  if (v === 'no' || v === 'false' || v === 'off') return 'no';
  if (v === 'accept-new') return 'accept-new';
  return 'ask';
}

/**
 * Resolves a host from an OpenSSH client config, like `ssh -G alias`.
 *
 * @remarks
 * Read as `ssh` reads it: `extra` lines (like `-o`) first, then the file, then
 * `/etc/ssh/ssh_config` (unless `file` was given, as with `ssh -F`); the first value of a
 * keyword wins; `Host` and `Match host|originalhost|user|localuser|tagged|all|canonical|final`
 * blocks decide what applies; `Include` reads files in the context of its block. `~` and the
 * tokens `%h %p %r %u %d %n %l %%` are expanded in `HostName`, `IdentityFile`,
 * `CertificateFile`, `IdentityAgent` and `UserKnownHostsFile` (`GlobalKnownHostsFile`: `~`
 * only, as ssh). `CanonicalizeHostname` asks `lookup` (default: the system resolver, waited for
 * on a helper thread) for `NAME.DOMAIN.` and reads the config again for the name found. A missing
 * file yields OpenSSH's defaults.
 *
 * Every keyword that applies is checked against one table (see `docs/ssh-config.md`): what rxssh
 * cannot honour and that would change where it connects, what it trusts or what it sends
 * (`LocalForward`, `PubkeyAcceptedAlgorithms`, a cipher below the hardened floor, …) throws
 * {@link SshConfigError} naming the keyword and its `FILE:LINE`; harmless ones (`LogLevel`, …)
 * are accepted. A `Match exec` that would be evaluated (without `matchExec`), a keyword OpenSSH
 * does not know (unless `IgnoreUnknown`), and a bad `Port` throw it too. Throws `TypeError` for
 * an empty alias.
 *
 * @example
 * ```ts
 * import { connect, fromSshConfig, hostKeyPolicyFor, credentialsFor, verifyHostKey, authenticate, run } from 'rxssh';
 *
 * const web = fromSshConfig('web');
 * connect(web).pipe(verifyHostKey(hostKeyPolicyFor(web)), authenticate(...credentialsFor(web)), run('uptime'));
 * ```
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: ssh -G's resolution in its order, each step a few lines (input, reading, files and settings in helpers).
export function fromSshConfig(alias: string, options: ResolveAliasConfig = {}): SshConfigHost {
  if (typeof alias !== 'string' || alias.trim() === '') throw new TypeError('fromSshConfig() needs a host alias');
  checkOptions('fromSshConfig()', options, RESOLVE_ALIAS_NAMES);
  const home = options.home ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  checkInput(alias, options);
  const file = options.file === undefined ? join(home, '.ssh', 'config') : options.file;
  const systemFile = options.systemFile !== undefined ? options.systemFile : options.file === undefined ? SYSTEM_SSH_CONFIG : null;
  const context = (keyword: string, origin: string, message: string): SshConfigError =>
    new SshConfigError(message, keyword, origin, { host: alias, port: 22, phase: 'config' });
  const resolved = resolveChecked({ alias, user: options.user, localUser, home, extra: options.extra ?? [], file, fileGiven: options.file !== undefined, systemFile, matchExec: options.matchExec === true, lookup: options.lookup }, context, options.forwards !== undefined);
  const raw = rawOf(resolved);
  const first = (keyword: string): string | undefined => resolved.get(keyword)?.[0]?.args[0];
  const user = first('user') ?? localUser;
  const port = Number(first('port') ?? 22);
  // As ssh: the HostName's %h is the name as given, and the result is lower-cased (after a
  // canonicalizing or `Match final` pass, HostName already holds that name).
  const hostname = (first('hostname') ?? alias).replace(/%(.)/g, (m, t: string) => (t === 'h' ? alias : t === '%' ? '%' : m)).toLowerCase();
  const keyAlias = first('hostkeyalias');
  const tokens = { host: hostname, port, user, alias, localUser, home, ...(keyAlias && keyAlias.toLowerCase() !== 'none' ? { hostKeyAlias: keyAlias } : {}) };
  // The same tokens as ssh expands in paths (%C %L %l %i %k too); one it does not define is left as written.
  const expand = (path: string): string => path.replace(/^~(?=\/|$)/, home).replace(/%(.)/g, (m, t: string) => tokenValue(t, tokens) ?? m);
  // `${VAR}` and the tokens in one pass, as ssh's percent_dollar_expand, after `~` for
  // IdentityFile, CertificateFile, UserKnownHostsFile and IdentityAgent (a forward's socket path
  // takes no `~`); what ssh would stop at is refused, naming the line.
  const expandPath = (keyword: string, v: ConfigValue, path: string, tilde: boolean): string => {
    const start = tilde ? expandTilde(path, home) : path;
    const out = start instanceof Error ? start : expandPathWords(start, tokens);
    if (out instanceof Error) throw context(keyword, v.origin, `${keyword} ${v.args.join(' ')}: ${out.message}`);
    return out;
  };
  const expandStrict = (keyword: string, v: ConfigValue, path = v.args[0] as string): string => expandPath(keyword, v, path, true);
  const { identityFiles, userKnownHostsFiles, globalKnownHostsFiles } = filesOf(resolved, expandStrict, expand, home);
  const num = (v: string | undefined): number | undefined => (v === undefined || v === 'none' ? undefined : Number(v));
  const connectTimeout = num(first('connecttimeout'));
  const serverAliveInterval = num(first('serveraliveinterval'));
  const serverAliveCountMax = num(first('serveralivecountmax'));
  const proxyJump = first('proxyjump');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw context('port', resolved.get('port')?.[0]?.origin ?? 'command line', `bad Port for ${alias}`);
  const env = environmentOf(resolved);
  const agentValue = resolved.get('identityagent')?.[0];
  const identityAgent = agentOf(
    agentValue?.args[0],
    (path) => expandStrict('identityagent', agentValue as ConfigValue, path),
    (why) => {
      throw context('identityagent', agentValue?.origin ?? 'command line', why);
    },
  );
  const revokedRaw = first('revokedhostkeys');
  const revokedHostKeys = revokedRaw && revokedRaw.toLowerCase() !== 'none' ? expand(revokedRaw) : undefined;
  const forwards = options.forwards === undefined ? undefined : yes(first('clearallforwardings')) ? [] : forwardsOf(resolved, options.forwards, (path, keyword, v) => expandPath(keyword, v, path, false));
  if (forwards && !Array.isArray(forwards)) throw context(forwards.keyword, forwards.origin, `${forwards.bad}: Bad forwarding specification`);
  const settings = transportSettings({ resolved, context, alias, hostname, port, user, localUser, home, compatible: options.algorithmPolicy === 'compatible' });
  return {
    alias,
    host: hostname,
    port,
    username: user,
    identityFiles,
    identitiesOnly: yes(first('identitiesonly')),
    certificateFiles: (resolved.get('certificatefile') ?? []).map((v) => expandStrict('certificatefile', v)),
    proxyJump: proxyJump && proxyJump.toLowerCase() !== 'none' ? proxyJump : undefined,
    strictHostKeyChecking: strict(first('stricthostkeychecking')),
    userKnownHostsFiles,
    globalKnownHostsFiles,
    hashKnownHosts: yes(first('hashknownhosts')),
    checkHostIp: yes(first('checkhostip')),
    batchMode: yes(first('batchmode')),
    numberOfPasswordPrompts: Number(first('numberofpasswordprompts') ?? 3),
    ...addKeysToAgentOf(resolved.get('addkeystoagent')?.[0]?.args ?? []),
    stdinNull: yes(first('stdinnull')),
    escapeChar: escapeCharOf(first('escapechar') ?? '~') as string | null, // checked as it was read (config-line.ts)
    logLevel: logLevelOf(first('loglevel') ?? 'INFO') ?? 'INFO',
    gatewayPorts: yes(first('gatewayports')),
    clearAllForwardings: yes(first('clearallforwardings')),
    ...(forwards ? { forwards } : {}),
    streamLocalBindMask: streamLocalMaskOf(first('streamlocalbindmask') ?? '0177') ?? 0o177,
    streamLocalBindUnlink: yes(first('streamlocalbindunlink')),
    connectTimeout,
    serverAliveInterval,
    serverAliveCountMax,
    forwardAgent: yes(first('forwardagent')),
    ...(identityAgent !== undefined ? { identityAgent } : {}),
    ...(revokedHostKeys !== undefined ? { revokedHostKeys } : {}),
    ...settings,
    ...(options.algorithmPolicy === 'compatible' ? { algorithmPolicy: 'compatible' as const } : {}),
    raw,
    ...(env ? { env } : {}),
    ...(connectTimeout !== undefined ? { timeouts: { connect: connectTimeout * 1000, handshake: connectTimeout * 1000 } } : {}),
    ...(serverAliveInterval !== undefined || serverAliveCountMax !== undefined
      ? {
          keepalive: {
            ...(serverAliveInterval !== undefined ? { interval: serverAliveInterval * 1000 } : {}),
            ...(serverAliveCountMax !== undefined ? { countMax: serverAliveCountMax } : {}),
          },
        }
      : {}),
  };
}

/** The caller's alias, user and `extra` lines: one word each, one option per line. */
function checkInput(alias: string, options: ResolveAliasConfig): void {
  for (const line of options.extra ?? []) {
    // One option per entry: a line break would smuggle in options the caller never meant.
    if (line.includes('\n') || line.includes('\r') || line.includes('\u0000')) throw new TypeError(`an extra ssh_config line holds a line break or NUL: ${JSON.stringify(line)}`);
  }
  // eslint-disable-next-line no-control-regex
  const oneWord = /^[^\s\u0000-\u001f\u007f]+$/;
  if (!oneWord.test(alias) || (options.user !== undefined && !oneWord.test(options.user))) {
    throw new TypeError(`a host alias or user with whitespace or control characters: ${JSON.stringify(options.user ?? alias)}`);
  }
}

/** The config read for the alias, every keyword checked against the table (a refusal throws naming it). */
/** The keywords a caller that sets up forwards reads (`forwards`), instead of having them refused. */
const FORWARD_KEYWORDS = new Set(['localforward', 'remoteforward', 'dynamicforward']);

function resolveChecked(input: ReadConfigInput, context: (keyword: string, origin: string, message: string) => SshConfigError, readForwards: boolean): ResolvedConfig {
  let resolved: ResolvedConfig;
  try {
    resolved = readConfig(input);
  } catch (err) {
    if (err instanceof ConfigSyntaxError) throw context(err.keyword ?? (/Match/.test(err.message) ? 'match' : 'config'), err.origin, err.message.slice(err.origin.length + 2));
    throw err;
  }
  for (const [keyword, values] of resolved) {
    for (const value of values) {
      const why = readForwards && FORWARD_KEYWORDS.has(keyword) ? undefined : sshConfigRefusal(keyword, value.args.join(' '));
      if (why) throw context(keyword, value.origin, `${keyword} ${value.args.join(' ')}: ${why}`);
    }
  }
  const raw: Record<string, string | readonly string[]> = {};
  for (const [keyword, values] of resolved) {
    const texts = values.map((v) => v.args.join(' '));
    raw[keyword] = texts.length === 1 ? (texts[0] as string) : texts;
  }
  return resolved;
}

/** Every computed directive, lower-case names, values as written. */
function rawOf(resolved: ResolvedConfig): Record<string, string | readonly string[]> {
  const raw: Record<string, string | readonly string[]> = {};
  for (const [keyword, values] of resolved) {
    const texts = values.map((v) => v.args.join(' '));
    raw[keyword] = texts.length === 1 ? (texts[0] as string) : texts;
  }
  return raw;
}

/** The identity and known_hosts files, expanded (OpenSSH's defaults when none is set). */
function filesOf(
  resolved: ResolvedConfig,
  expandStrict: (keyword: string, v: ConfigValue, path?: string) => string,
  expand: (path: string) => string,
  home: string,
): { identityFiles: string[]; userKnownHostsFiles: string[]; globalKnownHostsFiles: string[] } {
  const all = (keyword: string): string[] => (resolved.get(keyword) ?? []).flatMap((v) => v.args);
  const identities = resolved.get('identityfile') ?? [];
  const identityFiles = identities.length ? identities.map((v) => expandStrict('identityfile', v)) : DEFAULT_IDENTITIES.map((f) => expand(`~/.ssh/${f}`));
  const known = resolved.get('userknownhostsfile') ?? [];
  const userKnownHostsFiles = known.length ? known.flatMap((v) => v.args.map((path) => expandStrict('userknownhostsfile', v, path))) : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'].map(expand);
  const globalRaw = all('globalknownhostsfile');
  // ssh expands only `~` here, no tokens (ssh -G prints them as written).
  const globalKnownHostsFiles = (globalRaw.length ? globalRaw : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']).map((f) => f.replace(/^~(?=\/|$)/, home));
  return { identityFiles, userKnownHostsFiles, globalKnownHostsFiles };
}
