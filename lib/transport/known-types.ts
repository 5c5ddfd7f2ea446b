/**
 * Where a known_hosts policy keeps its "which key types are known for this host" look-up, for
 * `connectAlias` to give `connect` as `preferredHostKeyTypes` (explicit config; nothing travels
 * beside the stream). A policy wrapped by a user loses it; `verifyHostKey` then has the
 * connection start over asking for the types a rejection names.
 */

/** Resolves the key types known for a host and port (`ssh-ed25519`, `ssh-rsa`, …). */
export type KnownTypesLookup = (host: string, port: number) => Promise<readonly string[]>;

/**
 * Where a host-key policy keeps its "which key types are known for this host" look-up (set by
 * `knownHosts`, `acceptNew` and the ssh_config policies).
 */
export const KNOWN_KEY_TYPES = Symbol.for('rxssh.knownKeyTypes');

/** The known-key-types look-up of a policy, if it has one. */
export function knownKeyTypesOf(policy: object): KnownTypesLookup | undefined {
  const fn: unknown = (policy as unknown as Record<symbol, unknown>)[KNOWN_KEY_TYPES];
  return typeof fn === 'function' ? (fn as KnownTypesLookup) : undefined;
}
