/**
 * `connectAlias`: an ssh_config alias as a verified, authenticated `Connection`, through its
 * `ProxyJump` chain, with the alias's keys and host-key settings.
 */
import { EMPTY, type Observable } from 'rxjs';
import { knownKeyTypesOf } from '../transport/known-types.js';
import { authenticate, type AuthProvider } from '../auth/auth.js';
import { connect, type ConnectConfig } from '../transport/connect.js';
import type { Connection } from '../connection/connection.js';
import { parseHostSpec } from './target.js';
import { verifyHostKey, type HostKeyPolicy } from '../transport/host-key.js';
import { type ResolveAliasConfig, type SshConfigHost, fromSshConfig, RESOLVE_ALIAS_NAMES } from './ssh-config.js';
import { checkOptions, optionNames, pickOptions } from '../util/check.js';
import { hostKeyPolicyFor } from './host-key-policy.js';
import { credentialsFor } from './credentials.js';
import { SshConfigError } from '../errors.js';
import { defaultHopPool, HopPool } from '../transport/hop-pool.js';
import type { ProxyStderr } from '../transport/proxy-command.js';

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
  /**
   * Where `ProxyJump` hop connections are shared: targets that go through the same hop (same
   * resolved host, port, user, identities, known-hosts settings and hops before it, same
   * `credentials` objects) log in to it once. Default {@link defaultHopPool} (one per process);
   * `null`: every target makes its own chain.
   */
  readonly hopPool?: HopPool | null;
  /** Where the stderr of a `ProxyCommand` (the target's or a hop's) goes besides its errors: see `ConnectConfig.proxyStderr`. */
  readonly proxyStderr?: ProxyStderr;
}

const CONNECT_ALIAS_NAMES = optionNames<ConnectAliasConfig>()([...RESOLVE_ALIAS_NAMES, 'credentials', 'port', 'credentialsFor', 'hopPool', 'proxyStderr']);

/**
 * `ssh alias` as an Observable: resolves the host from ssh_config, follows its `ProxyJump`
 * chain (each hop resolved from the config too, with its own host-key policy and credentials),
 * verifies the host key as `StrictHostKeyChecking` says and authenticates with the agent and
 * identity files. Emits the Connection; unsubscribing closes the target and lets go of its hops.
 * Hop connections are shared through `hopPool` (default {@link defaultHopPool}): a thousand
 * targets behind one bastion log in to it once, each target one `direct-tcpip` channel.
 *
 * @example
 * ```ts
 * import { connectAlias, run } from 'rxssh';
 *
 * connectAlias('db').pipe(run('pg_isready')).subscribe((r) => console.log(r.stdout));
 * ```
 */
export function connectAlias(alias: string, options: ConnectAliasConfig = {}): Observable<Connection> {
  checkOptions('connectAlias()', options, CONNECT_ALIAS_NAMES);
  const target = fromSshConfig(alias, pickOptions(options, RESOLVE_ALIAS_NAMES));
  const extra = options.credentials ?? [];
  const pool = options.hopPool === undefined ? defaultHopPool : options.hopPool;
  if (pool !== null && !(pool instanceof HopPool)) throw new TypeError('connectAlias(): hopPool must be a HopPool or null');
  let via: Observable<Connection> | undefined;
  let chain = '';
  for (const spec of target.proxyJump ? target.proxyJump.split(',') : []) {
    const hopSpec = parseHostSpec(spec);
    // The target's user (`user@alias`, `-l`) is not the hop's: as ssh, a hop's user is its spec's or its config's.
    const hopOptions: ConnectAliasConfig = { ...options };
    delete (hopOptions as { user?: string }).user;
    const hop = fromSshConfig(hopSpec.host, { ...pickOptions(hopOptions, RESOLVE_ALIAS_NAMES), ...(hopSpec.username ? { user: hopSpec.username } : {}) });
    const hopPolicy = hostKeyPolicyFor(hop);
    const port = hopSpec.port ?? hop.port ?? 22;
    const before = via;
    if (before && hop.proxyCommand !== undefined) {
      throw new SshConfigError(`ProxyJump hop ${hopSpec.host} has a ProxyCommand of its own after another hop: rxssh cannot chain the two`, 'proxycommand', String(hop.raw['proxycommand'] ?? ''), { host: hop.host, port, phase: 'config' });
    }
    const open = (): Observable<Connection> =>
      connect({ ...hop, port, ...(before ? { via: before } : {}), ...stderrOf(options), ...preferring(hopPolicy) }).pipe(verifyHostKey(hopPolicy), authenticate(...providersOf(hop, options), ...extra));
    chain = hopKey(chain, hop, port, extra);
    via = pool ? pool.share(chain, open) : open();
  }
  const policy = hostKeyPolicyFor(target);
  return connect({ ...target, ...(options.port ? { port: options.port } : {}), ...(via ? { via } : {}), ...stderrOf(options), ...preferring(policy) }).pipe(
    verifyHostKey(policy),
    authenticate(...providersOf(target, options), ...extra),
  );
}

/** Identities of credential objects, for hop keys: the same objects share a hop, others do not. */
const credentialIds = new WeakMap<object, number>();
let nextCredentialId = 0;

/** What makes two hops the same login: where, as whom, with what, trusting what, after which hops. */
function hopKey(before: string, hop: SshConfigHost, port: number, extra: readonly AuthProvider[]): string {
  const ids = extra.map((p) => {
    let id = credentialIds.get(p);
    if (id === undefined) credentialIds.set(p, (id = ++nextCredentialId));
    return id;
  });
  const r = hop.raw;
  return JSON.stringify([
    before,
    hop.host,
    port,
    hop.username,
    hop.identityFiles,
    hop.certificateFiles,
    hop.identitiesOnly,
    hop.identityAgent ?? '',
    hop.userKnownHostsFiles,
    hop.globalKnownHostsFiles,
    hop.strictHostKeyChecking,
    r['hostkeyalias'] ?? '',
    hop.revokedHostKeys ?? '',
    hop.caSignatureAlgorithms ?? null,
    hop.pubkeyAlgorithms ?? null,
    hop.forwardAgent,
    hop.proxyCommand ?? '',
    hop.algorithms ?? null,
    hop.algorithmPolicy ?? 'hardened',
    ids,
  ]);
}

function stderrOf(options: ConnectAliasConfig): Pick<ConnectConfig, 'proxyStderr'> {
  return options.proxyStderr !== undefined ? { proxyStderr: options.proxyStderr } : {};
}

/** The key types the host's known_hosts files know, asked for first (as OpenSSH orders them). */
function preferring(policy: HostKeyPolicy): Pick<ConnectConfig, 'preferredHostKeyTypes'> {
  const lookup = knownKeyTypesOf(policy);
  return lookup ? { preferredHostKeyTypes: async (host, port) => [...(await lookup(host, port))] } : {};
}
