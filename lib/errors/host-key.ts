/** Host-key errors: the key was rejected, unknown, changed, revoked, or its certificate does not hold. */
import { fingerprintOf } from '../transport/fingerprint.js';
import { type SshErrorContext, SshError } from './base.js';

/**
 * The known_hosts line a host-key error points at (a `KnownHostsEntry` fits).
 *
 * @example
 * ```ts
 * import { HostKeyMismatchError, type KnownHostsLocation } from 'rxssh';
 *
 * const where = (e: HostKeyMismatchError): Pick<KnownHostsLocation, 'file' | 'line'> => ({ file: e.file, line: e.line });
 * ```
 */
export interface KnownHostsLocation {
  /** The file. */
  readonly file: string;
  /** The 1-based line number. */
  readonly line: number;
  /** The key blob on that line. */
  readonly key: Buffer;
}

/**
 * The verify policy did not accept the server's host key. No credentials were sent.
 *
 * @example
 * ```ts
 * import { HostKeyRejectedError } from 'rxssh';
 *
 * // in an error handler of a pipeline using verifyHostKey(pinned('SHA256:…')):
 * const onError = (err: unknown) => {
 *   if (err instanceof HostKeyRejectedError) console.log('offered', err.fingerprint);
 * };
 * ```
 */
export class HostKeyRejectedError extends SshError {
  override readonly name: 'HostKeyRejectedError' | 'HostKeyUnknownError' | 'HostKeyMismatchError' | 'HostKeyRevokedError' | 'HostCertificateError' = 'HostKeyRejectedError';
  readonly code: 'ERR_SSH_HOST_KEY_REJECTED' | 'ERR_SSH_HOST_KEY_UNKNOWN' | 'ERR_SSH_HOST_KEY_MISMATCH' | 'ERR_SSH_HOST_KEY_REVOKED' | 'ERR_SSH_HOST_CERTIFICATE' = 'ERR_SSH_HOST_KEY_REJECTED';
  /** The SHA256 fingerprint of the key the server offered, when known. */
  readonly fingerprint: string | undefined;
  /**
   * The key types the policy knows for this host, in the order to ask for them (a CA's
   * certificates first), when it refused an offer (a host known only by its ECDSA key that
   * offered ed25519). Unless the offered type was already the first of them, `verifyHostKey`
   * has `connect` try once more asking for these first, as OpenSSH orders its host-key
   * algorithms by known_hosts. Empty when another key type would not help.
   */
  readonly knownTypes: readonly string[] = [];

  constructor(message: string, fingerprint: string | undefined, context: SshErrorContext) {
    super(message, context);
    this.fingerprint = fingerprint;
  }
}

/** Sets the key types a rejecting policy knows for the host (see {@link HostKeyRejectedError.knownTypes}). @internal */
export function setKnownTypes<E extends HostKeyRejectedError>(error: E, types: readonly string[]): E {
  (error as { knownTypes: readonly string[] }).knownTypes = [...types];
  return error;
}

/**
 * The host has no entry (for this key type) in the known_hosts files. Carries the offered
 * fingerprint so a CLI can show it.
 *
 * @example
 * ```ts
 * import { HostKeyUnknownError } from 'rxssh';
 *
 * const onError = (e: unknown) => e instanceof HostKeyUnknownError && console.log(`unknown key ${e.fingerprint}`);
 * ```
 */
export class HostKeyUnknownError extends HostKeyRejectedError {
  override readonly name = 'HostKeyUnknownError' as const;
  override readonly code = 'ERR_SSH_HOST_KEY_UNKNOWN';
  /** The known_hosts files that were read (when a known_hosts policy refused the key). */
  readonly knownHostsFiles: readonly string[] = [];
  /** The offered key as a known_hosts line takes it (`TYPE BASE64`), so that it can be confirmed and recorded. */
  readonly offeredKey: string | undefined = undefined;
}

/** Says which files were read and which key was offered (see {@link HostKeyUnknownError}). @internal */
export function setUnknownHostContext(error: HostKeyUnknownError, files: readonly string[], offeredKey: string): HostKeyUnknownError {
  Object.assign(error as { knownHostsFiles: readonly string[]; offeredKey: string }, { knownHostsFiles: [...files], offeredKey });
  return error;
}

/**
 * The host is known with a different key: a possible man in the middle. Either a key of the
 * same type differs, or (when learning with `acceptNew`) the host is known only by keys of other
 * types — OpenSSH's "REMOTE HOST IDENTIFICATION HAS CHANGED"; `file` and `line` name the known
 * entry.
 *
 * @example
 * ```ts
 * import { HostKeyMismatchError } from 'rxssh';
 *
 * const onError = (e: unknown) => {
 *   if (e instanceof HostKeyMismatchError) console.log(`${e.file}:${e.line} expected ${e.expected}, got ${e.fingerprint}`);
 * };
 * ```
 */
export class HostKeyMismatchError extends HostKeyRejectedError {
  override readonly name = 'HostKeyMismatchError' as const;
  override readonly code = 'ERR_SSH_HOST_KEY_MISMATCH';
  /** The known_hosts file with the entry that matched the host. */
  readonly file: string;
  /** Its line number. */
  readonly line: number;
  /** The SHA256 fingerprint of the key on that line. */
  readonly expected: string;

  constructor(entry: KnownHostsLocation, offered: string, context: SshErrorContext, message?: string) {
    super(
      message ?? `Host key mismatch: ${entry.file}:${entry.line} has ${fingerprintOf(entry.key)}, the server offered ${offered}`,
      offered,
      context,
    );
    this.file = entry.file;
    this.line = entry.line;
    this.expected = fingerprintOf(entry.key);
  }
}

/**
 * The offered key is marked `@revoked` in a known_hosts file.
 *
 * @example
 * ```ts
 * import { HostKeyRevokedError } from 'rxssh';
 *
 * const onError = (e: unknown) => e instanceof HostKeyRevokedError && console.log(`revoked at ${e.file}:${e.line}`);
 * ```
 */
export class HostKeyRevokedError extends HostKeyRejectedError {
  override readonly name = 'HostKeyRevokedError' as const;
  override readonly code = 'ERR_SSH_HOST_KEY_REVOKED';
  /** The file with the `@revoked` line. */
  readonly file: string;
  /** Its line number. */
  readonly line: number;

  constructor(entry: KnownHostsLocation, offered: string, context: SshErrorContext, why?: string) {
    super(`Host key ${offered} is revoked (${entry.line > 0 ? `${entry.file}:${entry.line}` : entry.file}${why ? `: ${why}` : ''})`, offered, context);
    this.file = entry.file;
    this.line = entry.line;
  }
}

/**
 * The server presented an OpenSSH host certificate that does not hold: `reason` says why
 * (`expired`, `not-yet-valid`, `wrong-principal`, `unknown-ca`, `revoked`, `bad-signature`,
 * `not-a-host-cert`, `unknown-critical-option`), `keyId` names the certificate.
 *
 * @example
 * ```ts
 * import { HostCertificateError } from 'rxssh';
 *
 * const onError = (e: unknown) => e instanceof HostCertificateError && console.log(e.reason, e.keyId);
 * ```
 */
export class HostCertificateError extends HostKeyRejectedError {
  override readonly name = 'HostCertificateError' as const;
  override readonly code = 'ERR_SSH_HOST_CERTIFICATE';
  /** Why the certificate was refused. */
  readonly reason: string;
  /** The certificate's key id. */
  readonly keyId: string;

  constructor(reason: string, keyId: string, offered: string, context: SshErrorContext) {
    super(`Host certificate ${JSON.stringify(keyId)} refused: ${reason}`, offered, context);
    this.reason = reason;
    this.keyId = keyId;
  }
}
