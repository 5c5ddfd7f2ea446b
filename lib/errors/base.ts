/** The base of every rxssh error: `SshError` with its context (host, port, phase, cause) and its wire form. */

/**
 * Where in the SSH lifecycle something went wrong.
 *
 * `dns` and `tcp` are the socket, `banner` waits for the server's identification line, `kex`
 * is the key exchange, `host-key` waits for the verify policy, `auth` is user authentication,
 * `channel` is opening a channel, `exec` is a running command, `keepalive` is the liveness
 * check of an established connection.
 *
 * @example
 * ```ts
 * import { SshError, type SshPhase } from 'rxssh';
 *
 * const early = (p: SshPhase) => ['dns', 'tcp', 'banner', 'kex'].includes(p);
 * const onError = (err: unknown) => err instanceof SshError && early(err.phase) && console.log('never reached the server');
 * ```
 */
export type SshPhase =
  | 'dns'
  | 'tcp'
  | 'banner'
  | 'kex'
  | 'host-key'
  | 'auth'
  | 'connection'
  | 'channel'
  | 'exec'
  | 'keepalive'
  | 'sftp'
  | 'forward'
  | 'config';

/**
 * The context every {@link SshError} carries.
 *
 * @example
 * ```ts
 * import { ProtocolError } from 'rxssh';
 *
 * throw new ProtocolError('bad packet', { host: 'h', port: 22, phase: 'kex' });
 * ```
 */
export interface SshErrorContext {
  /** The host name or address as given to `connect`. */
  readonly host: string;
  /** The TCP port. */
  readonly port: number;
  /** The lifecycle phase in which the failure happened. */
  readonly phase: SshPhase;
  /** The underlying error (from ssh2, the socket or a user callback), if any. */
  readonly cause?: unknown;
}

/**
 * Base class of every error rxssh emits. Carries a stable literal `code`, the `host`, `port`
 * and `phase` of the failure and the original error as `cause`.
 *
 * @remarks
 * Match on the class (`err instanceof AuthenticationError`) or on `code`; both are stable.
 *
 * @example
 * ```ts
 * import { connect, SshError } from 'rxssh';
 *
 * connect({ host: '127.0.0.1', port: 1, username: 'me' }).subscribe({
 *   error: (err) => {
 *     if (err instanceof SshError) console.log(err.code, err.phase, `${err.host}:${err.port}`);
 *     // ERR_SSH_CONNECT tcp 127.0.0.1:1
 *   },
 * });
 * ```
 */
export abstract class SshError extends Error {
  /** A stable, machine-readable code such as `ERR_SSH_AUTH`. */
  abstract readonly code: string;
  /** The host name or address as given to `connect`. */
  readonly host: string;
  /** The TCP port. */
  readonly port: number;
  /** The lifecycle phase in which the failure happened. */
  readonly phase: SshPhase;

  constructor(message: string, context: SshErrorContext) {
    super(`${message} (${context.host}:${context.port}, phase ${context.phase})`, {
      cause: context.cause,
    });
    this.host = context.host;
    this.port = context.port;
    this.phase = context.phase;
  }

  /** The class name, such as `AuthenticationError` (a literal per class, so minification cannot change it). */
  abstract override readonly name: string;

  /**
   * The error as data, for a worker thread or Redis to carry: its class name, message, every
   * field of its own (host, port, phase, code and the class's own, such as `exitCode`) and its
   * cause's message and code. {@link errorFromData} makes the same class from it again.
   */
  toJSON(): ErrorData {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this)) if (value !== undefined && typeof value !== 'function') fields[key] = value;
    const cause = this.cause as { message?: unknown; code?: unknown } | undefined;
    return {
      name: this.name,
      message: this.message,
      fields,
      ...(cause && typeof cause === 'object' ? { cause: { message: String(cause.message ?? ''), ...(cause.code !== undefined ? { code: cause.code } : {}) } } : {}),
    };
  }
}

/**
 * An error as data (see {@link SshError.toJSON}).
 *
 * @example
 * ```ts
 * const data: ErrorData = new ConnectionLostError('gone', { host: 'h', port: 22, phase: 'exec' }).toJSON();
 * ```
 */
export interface ErrorData {
  /** The class name (`ExitStatusError`, …), or a plain error's name. */
  readonly name: string;
  /** The message, as the error had it. */
  readonly message: string;
  /** The error's own fields. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Its cause, reduced to a message and a code. */
  readonly cause?: ErrorCauseData;
}

/**
 * An error's cause as data: its message and its code (`ECONNRESET`, an SFTP status…).
 *
 * @example
 * ```ts
 * const cause: ErrorCauseData = { message: 'socket hang up', code: 'ECONNRESET' };
 * ```
 */
export interface ErrorCauseData {
  /** The cause's message. */
  readonly message: string;
  /** The cause's code, when it had one. */
  readonly code?: unknown;
}
