/**
 * OpenSSH client configuration (`~/.ssh/config`): `fromSshConfig(alias)` resolves a host the way
 * `ssh alias` does, using the maintained `ssh-config` parser (Host and Match blocks,
 * first-value-wins) plus `Include`, `%` tokens and `~`; `hostKeyPolicyFor` and `credentialsFor`
 * turn the result into a verify policy and credential providers.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { EMPTY, type Observable } from 'rxjs';
import SSHConfig from 'ssh-config';
import { patternRegExp } from './internal/known-hosts-store.js';
import { certificateFor } from './internal/certificate.js';
import { utils } from './internal/ssh2.js';
import { agent, agentCertificate, authenticate, privateKey, type AuthProvider } from './auth.js';
import { connect, type ConnectConfig } from './connect.js';
import type { Connection } from './connection.js';
import { parseHostSpec, type LabelledTarget } from './fan-out.js';
import { verifyHostKey, type HostKeyPolicy } from './host-key.js';
import { acceptNew, hostMatches, knownHosts } from './known-hosts.js';

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
  /** The config file (default `~/.ssh/config`; a missing file means no settings; `null`: none). */
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
}

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
  /** `StrictHostKeyChecking`. */
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  /** `UserKnownHostsFile`, expanded. */
  readonly userKnownHostsFiles: readonly string[];
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

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/** Parsed configs by their text: a fan-out resolves every host through the same file, parsed once. */
const parsedConfigs = new Map<string, ReturnType<typeof SSHConfig.parse>>();

function parseConfig(text: string): ReturnType<typeof SSHConfig.parse> {
  let parsed = parsedConfigs.get(text);
  if (!parsed) {
    parsed = SSHConfig.parse(text);
    if (parsedConfigs.size >= 32) parsedConfigs.clear();
    parsedConfigs.set(text, parsed);
  }
  return parsed;
}

/**
 * Inlines `Include` directives (globs). As in OpenSSH, a relative path in a user config is
 * under `~/.ssh` (wherever the config file itself is), in /etc/ssh/ssh_config under /etc/ssh.
 */
function loadWithIncludes(file: string, home: string, depth = 0): string {
  if (depth > 16) throw new Error(`ssh config: Include nested too deeply at ${file}`);
  if (!existsSync(file)) return '';
  const base = file.startsWith('/etc/ssh/') ? '/etc/ssh' : join(home, '.ssh');
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => {
      const m = /^\s*include\s*[= ]\s*(.+)$/i.exec(line);
      if (!m) return line;
      return (m[1] ?? '')
        .trim()
        .split(/\s+/)
        .flatMap((pattern) => expandGlob(isAbsolute(pattern) ? pattern : pattern.startsWith('~') ? pattern.replace(/^~/, home) : join(base, pattern)))
        .map((f) => loadWithIncludes(f, home, depth + 1))
        .join('\n');
    })
    .join('\n');
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

function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v: string) => v.split(/\s+/)).filter(Boolean);
}

function one(value: string | readonly string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

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
 * `Host` and `Match host|user|originalhost|all|final` blocks are evaluated by the `ssh-config`
 * package (first value wins; `Match exec` is not run). `Include` is expanded here, as are `~`
 * and the tokens `%h %p %r %u %d %n %l %%` in `HostName`, `IdentityFile` and
 * `UserKnownHostsFile`. A missing file yields OpenSSH's defaults. Throws `TypeError` for an
 * empty alias.
 *
 * @example
 * ```ts
 * import { connect, fromSshConfig, hostKeyPolicyFor, credentialsFor, verifyHostKey, authenticate, run } from 'rxssh';
 *
 * const web = fromSshConfig('web');
 * connect(web).pipe(verifyHostKey(hostKeyPolicyFor(web)), authenticate(...credentialsFor(web)), run('uptime'));
 * ```
 */
export function fromSshConfig(alias: string, options: ResolveAliasConfig = {}): SshConfigHost {
  if (typeof alias !== 'string' || alias.trim() === '') throw new TypeError('fromSshConfig() needs a host alias');
  const home = options.home ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  const file = options.file === undefined ? join(home, '.ssh', 'config') : options.file;
  for (const line of options.extra ?? []) {
    // One option per entry: a line break would smuggle in options the caller never meant.
    if (/[\r\n\u0000]/.test(line)) throw new TypeError(`an extra ssh_config line holds a line break or NUL: ${JSON.stringify(line)}`);
  }
  if (alias.includes('\n') || alias.includes('\r') || (options.user !== undefined && !/^[^\s\u0000-\u001f]+$/.test(options.user))) {
    throw new TypeError(`a host alias or user with whitespace or control characters: ${JSON.stringify(options.user ?? alias)}`);
  }
  const text = `${(options.extra ?? []).join('\n')}\n${file === null ? '' : loadWithIncludes(file, home)}`;
  const parsed = parseConfig(text);
  // With a user given (`user@alias`) it takes precedence; otherwise Match user sees the User set
  // so far, or the local user (as OpenSSH does).
  const computed = (
    options.user ? parsed.compute({ Host: alias, User: options.user }, { ignoreCase: true, matchExec: false }) : parsed.compute(alias, { ignoreCase: true, matchExec: false })
  ) as Record<string, string | string[]>;
  const raw: Record<string, string | readonly string[]> = { ...computed };
  const user = options.user ?? one(computed['user']) ?? localUser;
  const port = Number(one(computed['port']) ?? 22);
  const hostnameRaw = one(computed['hostname']) ?? alias;
  const hostname = hostnameRaw.replace(/%h/g, alias).replace(/%%/g, '%');
  const expand = (path: string): string =>
    path
      .replace(/^~(?=\/|$)/, home)
      .replace(/%(.)/g, (m, t: string) =>
        t === 'h' ? hostname : t === 'p' ? String(port) : t === 'r' ? user : t === 'u' ? localUser : t === 'd' ? home : t === 'n' ? alias : t === 'l' ? localHostname().split('.')[0] ?? '' : t === '%' ? '%' : m,
      );
  const identityRaw = list(computed['identityfile']);
  const identityFiles = (identityRaw.length ? identityRaw : DEFAULT_IDENTITIES.map((f) => `~/.ssh/${f}`)).map(expand);
  const knownRaw = list(computed['userknownhostsfile']);
  const userKnownHostsFiles = (knownRaw.length ? knownRaw : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map(expand);
  const num = (v: string | undefined): number | undefined => (v === undefined || v === 'none' ? undefined : Number(v));
  const connectTimeout = num(one(computed['connecttimeout']));
  const serverAliveInterval = num(one(computed['serveraliveinterval']));
  const serverAliveCountMax = num(one(computed['serveralivecountmax']));
  const proxyJump = one(computed['proxyjump']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`ssh config: bad Port for ${alias}`);
  return {
    alias,
    host: hostname,
    port,
    username: user,
    identityFiles,
    identitiesOnly: yes(one(computed['identitiesonly'])),
    certificateFiles: list(computed['certificatefile']).map(expand),
    proxyJump: proxyJump && proxyJump.toLowerCase() !== 'none' ? proxyJump : undefined,
    strictHostKeyChecking: strict(one(computed['stricthostkeychecking'])),
    userKnownHostsFiles,
    connectTimeout,
    serverAliveInterval,
    serverAliveCountMax,
    forwardAgent: yes(one(computed['forwardagent'])),
    raw,
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

/**
 * The host-key policy that `StrictHostKeyChecking` asks for: `yes` and `ask` verify against
 * the known_hosts files (rxssh never prompts: `ask` rejects unknown hosts), `accept-new` learns
 * unknown hosts into the first `UserKnownHostsFile`, `no` does the same (OpenSSH would even
 * accept a changed key; rxssh does not).
 *
 * @example
 * ```ts
 * import { fromSshConfig, hostKeyPolicyFor, verifyHostKey } from 'rxssh';
 *
 * verifyHostKey(hostKeyPolicyFor(fromSshConfig('db')));
 * ```
 */
export function hostKeyPolicyFor(host: SshConfigHost): HostKeyPolicy {
  const files = [...host.userKnownHostsFiles, '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
  const alias = one(host.raw['hostkeyalias']);
  const aliasOption = alias && alias.toLowerCase() !== 'none' ? { hostKeyAlias: alias } : {};
  if (host.strictHostKeyChecking === 'accept-new' || host.strictHostKeyChecking === 'no') {
    return acceptNew({ files, ...aliasOption, ...(host.userKnownHostsFiles[0] ? { learnTo: host.userKnownHostsFiles[0] } : {}) });
  }
  return knownHosts({ files, ...aliasOption });
}

/**
 * Options of {@link credentialsFor}: what a command line adds to a host's own identities.
 *
 * @example
 * ```ts
 * const config: CredentialsForConfig = { identities: ['./deploy_key'], passphrase: (file) => ask(`Passphrase for ${file}: `) };
 * ```
 */
export interface CredentialsForConfig {
  /** Identity files tried before the host's (`ssh -i`); one that is missing or not a key throws a TypeError. */
  readonly identities?: readonly string[];
  /** Certificate files to pair with the identities (besides `IDENTITY-cert.pub` and the host's `CertificateFile`s). */
  readonly certificates?: readonly string[];
  /** The agent's socket (default: `SSH_AUTH_SOCK`, read by `agent()`); `null`: no agent. */
  readonly agentSocket?: string | null;
  /** Passphrases of encrypted keys, asked when the key is first used; without it such keys are skipped. */
  readonly passphrase?: (file: string) => Promise<string>;
  /** Told about each identity file passed over (`encrypted` without a passphrase source, `unreadable`). */
  readonly onSkip?: (file: string, why: 'encrypted' | 'unreadable', detail: string) => void;
}

/**
 * Credential providers for a resolved host, in OpenSSH's order: the agent (unless
 * `IdentitiesOnly`), then each identity file that exists (`config.identities` first), each
 * preceded by its certificate when there is one (`IDENTITY-cert.pub`, a `CertificateFile`, or
 * `config.certificates`; an encrypted key's is found through `IDENTITY.pub`). Encrypted keys
 * need `config.passphrase`; without it they are skipped (`onSkip` says so).
 *
 * @example
 * ```ts
 * import { fromSshConfig, credentialsFor, authenticate, password } from 'rxssh';
 *
 * authenticate(...credentialsFor(fromSshConfig('web')), password(() => ask('Password: ')));
 * ```
 */
export function credentialsFor(host: SshConfigHost, config: CredentialsForConfig = {}): AuthProvider[] {
  return scanCredentials(host, config).providers;
}

/** What {@link credentialsFor} found: the providers, and the identity files that gave some. @internal */
export interface CredentialScan {
  readonly providers: AuthProvider[];
  readonly agent: boolean;
  /** Every identity file looked for, in order. */
  readonly files: readonly string[];
  /** The identity files that gave providers. */
  readonly used: readonly string[];
}

/** {@link credentialsFor}, with what it looked at (the CLI explains a failure with it). @internal */
export function scanCredentials(host: SshConfigHost, config: CredentialsForConfig = {}): CredentialScan {
  const explicit = config.identities ?? [];
  const useAgent = !host.identitiesOnly && config.agentSocket !== null && config.agentSocket !== '';
  const providers: AuthProvider[] = useAgent ? [agentCertificate(config.agentSocket ?? undefined), agent(config.agentSocket ?? undefined)] : [];
  const files = [...new Set([...explicit, ...host.identityFiles])];
  const used: string[] = [];
  for (const file of files) {
    const given = explicit.includes(file);
    if (!existsSync(file)) {
      if (given) throw new TypeError(`${file}: no such file`);
      continue;
    }
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (err) {
      if (given) throw new TypeError(`${file}: ${(err as Error).message}`, { cause: err });
      config.onSkip?.(file, 'unreadable', (err as Error).message);
      continue;
    }
    // Its certificate first, then the key itself, as OpenSSH offers them.
    const certificate = identityCertificate(file, text, [...(config.certificates ?? []), `${file}-cert.pub`, ...host.certificateFiles]);
    if (isEncryptedKey(text)) {
      const ask = config.passphrase;
      if (!ask) {
        config.onSkip?.(file, 'encrypted', 'no passphrase source');
        continue;
      }
      const passphrase = (): Promise<string> => ask(file);
      if (certificate) providers.push(privateKey(text, { passphrase, certificate }));
      providers.push(privateKey(text, { passphrase }));
      used.push(file);
      continue;
    }
    try {
      const plain = privateKey(text);
      if (certificate) providers.push(privateKey(text, { certificate }));
      providers.push(plain);
      used.push(file);
    } catch (err) {
      if (given) throw new TypeError(`${file}: ${(err as Error).message}`, { cause: err });
      config.onSkip?.(file, 'unreadable', (err as Error).message);
    }
  }
  return { providers, agent: useAgent, files, used };
}

function isEncryptedKey(text: Buffer): boolean {
  const parsed = utils.parseKey(text);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}

/** The certificate among `files` for an identity: its public key from the key itself, or (encrypted) from `IDENTITY.pub`. */
function identityCertificate(file: string, text: Buffer, files: readonly string[]): string | undefined {
  for (const candidate of [text, readOptional(`${file}.pub`)]) {
    if (candidate === undefined) continue;
    const parsed = utils.parseKey(candidate);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key && !(key instanceof Error)) return certificateFor(key.getPublicSSH(), files, (f) => readOptional(f)?.toString('utf8'));
  }
  return undefined;
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Options of {@link sshConfigAliases} and {@link sshConfigTargets}.
 *
 * @example
 * ```ts
 * import { sshConfigTargets } from 'rxssh';
 *
 * sshConfigTargets({ file: '/etc/rxssh/fleet.conf', match: 'web*,!web-old' });
 * ```
 */
export interface SshConfigTargetsConfig extends ResolveAliasConfig {
  /**
   * Keep only aliases matching these OpenSSH patterns (`*`, `?`, a leading `!` negates; any
   * positive match and no negative one). Default: every alias.
   */
  readonly match?: string | readonly string[];
}

/**
 * The host aliases an ssh_config declares, as an inventory: every name on a `Host` line that
 * has no wildcard and no negation (Includes followed), in file order, without duplicates,
 * filtered by `match`. The names to give {@link connectAlias} or {@link fromSshConfig}.
 *
 * @example
 * ```ts
 * import { sshConfigAliases } from 'rxssh';
 *
 * sshConfigAliases({ match: ['web*', '!web-old'] }); // ['web1', 'web2']
 * ```
 */
export function sshConfigAliases(options: SshConfigTargetsConfig = {}): string[] {
  const home = options.home ?? homedir();
  const text = options.file === null ? '' : loadWithIncludes(options.file ?? join(home, '.ssh', 'config'), home);
  const patterns = options.match === undefined ? ['*'] : typeof options.match === 'string' ? options.match.split(/[\s,]+/).filter(Boolean) : [...options.match];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*host\s*[= ]\s*(.+)$/i.exec(line);
    if (!m) continue;
    for (const name of (m[1] ?? '').replace(/#.*$/, '').trim().split(/\s+/)) {
      const unquoted = name.replace(/^"(.*)"$/, '$1');
      if (unquoted === '' || /[*?!]/.test(unquoted)) continue;
      if (hostMatches(patterns.join(','), unquoted)) seen.add(unquoted);
    }
  }
  return [...seen];
}

/**
 * An ssh_config as a {@link fanOut} inventory: one target per alias (see
 * {@link sshConfigAliases}), labelled with the alias and carrying the resolved host, port and
 * user. Connect each with `connectAlias(target.alias)`, which also follows `ProxyJump` and uses
 * the alias's keys and host-key settings.
 *
 * @example
 * ```ts
 * import { fanOut, sshConfigTargets, connectAlias, run } from 'rxssh';
 *
 * fanOut(sshConfigTargets({ match: 'web*' }), (t) => connectAlias(t.alias ?? t.host).pipe(run('uptime')))
 *   .subscribe((r) => console.log(r.host, r.status));
 * ```
 */
export function sshConfigTargets(options: SshConfigTargetsConfig = {}): LabelledTarget[] {
  return sshConfigAliases(options).map((alias) => {
    const h = fromSshConfig(alias, options);
    return { host: h.host, ...(h.port !== undefined ? { port: h.port } : {}), username: h.username, label: alias, alias };
  });
}

/** The credentials of a host: the caller's choice, or {@link credentialsFor}; never none (an empty list offers nothing, so the failure can say what the server allows). */
function providersOf(host: SshConfigHost, options: ConnectAliasConfig): AuthProvider[] {
  const providers = options.credentialsFor ? options.credentialsFor(host) : credentialsFor(host);
  return providers.length > 0 || (options.credentials?.length ?? 0) > 0 ? providers : [nothingToOffer];
}

/** A provider with nothing to offer: authentication then asks "none" and reports what the server allows. */
const nothingToOffer: AuthProvider = { method: 'publickey', label: 'none', credential: () => EMPTY };

/**
 * Options of {@link connectAlias}.
 *
 * @example
 * ```ts
 * import { connectAlias, password } from 'rxssh';
 *
 * connectAlias('web', { user: 'deploy', port: 2222, credentials: [password(() => ask('Password: '))] });
 * ```
 */
export interface ConnectAliasConfig extends ResolveAliasConfig {
  /** Credentials tried after those from the config (e.g. a password prompt). */
  readonly credentials?: readonly AuthProvider[];
  /** A port that overrides the config's (like `ssh -p`). */
  readonly port?: number;
  /**
   * The credentials for a resolved host (the target and each hop) instead of
   * {@link credentialsFor}'s (the CLI uses this to ask for passphrases).
   */
  readonly credentialsFor?: (host: SshConfigHost) => AuthProvider[];
}

/**
 * `ssh alias` as an Observable: resolves the host from ssh_config, follows its `ProxyJump`
 * chain (each hop resolved from the config too, with its own host-key policy and credentials),
 * verifies the host key as `StrictHostKeyChecking` says and authenticates with the agent and
 * identity files. Emits the Connection; unsubscribing closes the target and every hop.
 *
 * @example
 * ```ts
 * import { connectAlias, run } from 'rxssh';
 *
 * connectAlias('db').pipe(run('pg_isready')).subscribe((r) => console.log(r.stdout));
 * ```
 */
export function connectAlias(alias: string, options: ConnectAliasConfig = {}): Observable<Connection> {
  const target = fromSshConfig(alias, options);
  const extra = options.credentials ?? [];
  let via: Observable<Connection> | undefined;
  for (const spec of target.proxyJump ? target.proxyJump.split(',') : []) {
    const hopSpec = parseHostSpec(spec);
    const hop = fromSshConfig(hopSpec.host, { ...options, ...(hopSpec.username ? { user: hopSpec.username } : {}) });
    via = connect({ ...hop, ...(hopSpec.port ? { port: hopSpec.port } : {}), ...(via ? { via } : {}) }).pipe(
      verifyHostKey(hostKeyPolicyFor(hop)),
      authenticate(...providersOf(hop, options), ...extra),
    );
  }
  return connect({ ...target, ...(options.port ? { port: options.port } : {}), ...(via ? { via } : {}) }).pipe(
    verifyHostKey(hostKeyPolicyFor(target)),
    authenticate(...providersOf(target, options), ...extra),
  );
}

/**
 * The old name of {@link ResolveAliasConfig} (options types are `…Config` now).
 *
 * @deprecated Use {@link ResolveAliasConfig}; this alias goes with the next breaking release.
 * @example
 * ```ts
 * const config: ResolveAliasConfig = { file: './ssh_config' }; // was SshConfigOptions
 * ```
 */
export type SshConfigOptions = ResolveAliasConfig;

/**
 * The old name of {@link ConnectAliasConfig}.
 *
 * @deprecated Use {@link ConnectAliasConfig}; this alias goes with the next breaking release.
 * @example
 * ```ts
 * const config: ConnectAliasConfig = { port: 2222 }; // was ConnectAliasOptions
 * ```
 */
export type ConnectAliasOptions = ConnectAliasConfig;

/**
 * The old name of {@link SshConfigTargetsConfig}.
 *
 * @deprecated Use {@link SshConfigTargetsConfig}; this alias goes with the next breaking release.
 * @example
 * ```ts
 * const config: SshConfigTargetsConfig = { match: 'web*' }; // was SshConfigInventoryOptions
 * ```
 */
export type SshConfigInventoryOptions = SshConfigTargetsConfig;
