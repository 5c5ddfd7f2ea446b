/** The user-auth error: every credential was refused (or none could be offered), with what was tried and skipped. */
import { type SshErrorContext, SshError } from './base.js';

/**
 * One authentication attempt as recorded in an {@link AuthenticationError}.
 *
 * @example
 * ```ts
 * import { AuthenticationError } from 'rxssh';
 *
 * const onError = (err: unknown) => err instanceof AuthenticationError && console.log(err.methodsTried, err.methodsLeft);
 * ```
 */
export interface AuthAttemptSummary {
  /** The SSH method name (`password`, `publickey`, `keyboard-interactive`, `none`). */
  readonly method: string;
  /** The provider's label (`agent`, `privateKey`, …). */
  readonly provider: string;
}

/**
 * The server did not accept any of the credentials offered (or a provider failed).
 *
 * @example
 * ```ts
 * import { AuthenticationError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof AuthenticationError) console.log(err.methodsTried, err.methodsLeft);
 *   // [ 'password' ] [ 'publickey', 'password' ]
 * };
 * ```
 */
export class AuthenticationError extends SshError {
  override readonly name = 'AuthenticationError' as const;
  readonly code = 'ERR_SSH_AUTH' as const;
  /** The methods tried, in order. */
  readonly methodsTried: readonly string[];
  /** The methods the server said could still continue, or `null` if it never said. */
  readonly methodsLeft: readonly string[] | null;
  /** Credentials passed over and why (`bad passphrase for KEY`, an expired certificate …). */
  readonly skipped: readonly string[];

  constructor(
    message: string,
    methodsTried: readonly string[],
    methodsLeft: readonly string[] | null,
    context: SshErrorContext,
    skipped: readonly string[] = [],
  ) {
    const allows = methodsLeft === null ? 'the server did not say which methods it allows' : `server allows [${methodsLeft.join(', ')}]`;
    const passedOver = skipped.length ? ` (skipped: ${skipped.join('; ')})` : '';
    super(methodsTried.length === 0 ? `${message}${passedOver}; ${allows}` : `${message}${passedOver}; tried [${methodsTried.join(', ')}], ${allows}`, context);
    this.methodsTried = methodsTried;
    this.methodsLeft = methodsLeft;
    this.skipped = skipped;
  }
}
