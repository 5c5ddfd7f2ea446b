/**
 * How `verifyHostKey` tells the `connect` Observable it subscribes to which host-key types its
 * policy already knows for the host, so that the key exchange asks for those first (OpenSSH
 * orders its host-key algorithms by known_hosts). Set just before the subscription and taken by
 * it, synchronously, so each subscription sees its own policy's hint.
 */
import type { Observable } from 'rxjs';

/** Resolves the key types known for a host and port (`ssh-ed25519`, `ssh-rsa`, …). */
export type KnownTypesLookup = (host: string, port: number) => Promise<readonly string[]>;

const pending = new WeakMap<Observable<unknown>, KnownTypesLookup>();

/** Leaves a hint for the next subscription to `source`. */
export function hintKnownTypes(source: Observable<unknown>, lookup: KnownTypesLookup): void {
  pending.set(source, lookup);
}

/** Takes the hint left for this Observable, if any. */
export function takeKnownTypesHint(source: Observable<unknown>): KnownTypesLookup | undefined {
  const hint = pending.get(source);
  pending.delete(source);
  return hint;
}

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
