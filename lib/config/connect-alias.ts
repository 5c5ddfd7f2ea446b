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
import { type ResolveAliasConfig, type SshConfigHost, fromSshConfig, hostKeyPolicyFor } from './ssh-config.js';
import { credentialsFor } from './credentials.js';

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
    const hopPolicy = hostKeyPolicyFor(hop);
    via = connect({ ...hop, ...(hopSpec.port ? { port: hopSpec.port } : {}), ...(via ? { via } : {}), ...preferring(hopPolicy) }).pipe(
      verifyHostKey(hopPolicy),
      authenticate(...providersOf(hop, options), ...extra),
    );
  }
  const policy = hostKeyPolicyFor(target);
  return connect({ ...target, ...(options.port ? { port: options.port } : {}), ...(via ? { via } : {}), ...preferring(policy) }).pipe(
    verifyHostKey(policy),
    authenticate(...providersOf(target, options), ...extra),
  );
}

/** The key types the host's known_hosts files know, asked for first (as OpenSSH orders them). */
function preferring(policy: HostKeyPolicy): Pick<ConnectConfig, 'preferredHostKeyTypes'> {
  const lookup = knownKeyTypesOf(policy);
  return lookup ? { preferredHostKeyTypes: async (host, port) => [...(await lookup(host, port))] } : {};
}
