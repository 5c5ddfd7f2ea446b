/**
 * The typed errors of rxssh: one `SshError` base, one subclass per kind of failure.
 *
 * @module
 */

import { fingerprintOf } from './transport/fingerprint.js';

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

/**
 * The TCP connection could not be made: refused, unreachable, or the name did not resolve.
 *
 * @example
 * ```ts
 * import { connect, ConnectError } from 'rxssh';
 *
 * connect({ host: '127.0.0.1', port: 1, username: 'me' }).subscribe({
 *   error: (err) => console.log(err instanceof ConnectError, err.cause?.code), // true ECONNREFUSED
 * });
 * ```
 */
export class ConnectError extends SshError {
  override readonly name = 'ConnectError' as const;
  readonly code = 'ERR_SSH_CONNECT' as const;
}

/**
 * A phase deadline passed (see `ConnectConfig.timeouts`); `phase` tells which.
 *
 * @example
 * ```ts
 * import { connect, TimeoutError } from 'rxssh';
 *
 * connect({ host: '127.0.0.1', port: 2222, username: 'me', timeouts: { handshake: 1000 } })
 *   .subscribe({ error: (err) => err instanceof TimeoutError && console.log(err.phase) }); // banner
 * ```
 */
export class TimeoutError extends SshError {
  override readonly name = 'TimeoutError' as const;
  readonly code = 'ERR_SSH_TIMEOUT' as const;
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, context: SshErrorContext) {
    super(`Timed out after ${timeoutMs} ms`, context);
    this.timeoutMs = timeoutMs;
  }
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

/**
 * The server refused to open a channel, or refused the exec/shell/subsystem request.
 *
 * @example
 * ```ts
 * import { ChannelOpenError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof ChannelOpenError) console.log(err.reason); // e.g. 1 (administratively prohibited)
 * };
 * ```
 */
export class ChannelOpenError extends SshError {
  override readonly name = 'ChannelOpenError' as const;
  readonly code = 'ERR_SSH_CHANNEL_OPEN' as const;
  /** The SSH reason code of a CHANNEL_OPEN_FAILURE, when the server sent one. */
  readonly reason: number | undefined;

  constructor(message: string, reason: number | undefined, context: SshErrorContext) {
    super(message, context);
    this.reason = reason;
  }
}

/**
 * A remote command ended with a non-zero exit status, by a signal, or without any exit status.
 *
 * @remarks
 * `exitCode` and `signal` are both `null` when the server closed the channel without saying how
 * the command ended; that is never treated as success.
 *
 * @example
 * ```ts
 * import { ExitStatusError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof ExitStatusError) console.log(err.exitCode, err.signal, err.stderrTail);
 *   // 2 null 'ls: cannot access …'
 * };
 * ```
 */
export class ExitStatusError extends SshError {
  override readonly name = 'ExitStatusError' as const;
  readonly code = 'ERR_SSH_EXIT_STATUS' as const;
  /** The command that ran. */
  readonly command: string;
  /** The exit status, or `null` when the command was killed by a signal or none was reported. */
  readonly exitCode: number | null;
  /** The signal name without `SIG` (`TERM`, `KILL`, …), or `null`. */
  readonly signal: string | null;
  /** The last bytes of stderr (at most 4 KiB), decoded as UTF-8. */
  readonly stderrTail: string;

  constructor(
    command: string,
    exitCode: number | null,
    signal: string | null,
    stderrTail: string,
    context: SshErrorContext,
  ) {
    const how =
      signal !== null
        ? `was killed by signal ${signal}`
        : exitCode !== null
          ? `exited with status ${exitCode}`
          : 'ended without an exit status';
    super(`Command ${JSON.stringify(command)} ${how}`, context);
    this.command = command;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

/**
 * The connection went away unexpectedly: before the handshake finished, or under a running
 * channel. Bytes received before the loss have been delivered.
 *
 * @example
 * ```ts
 * import { ConnectionLostError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof ConnectionLostError) console.log('lost during', err.phase); // exec
 * };
 * ```
 */
export class ConnectionLostError extends SshError {
  override readonly name = 'ConnectionLostError' as const;
  readonly code = 'ERR_SSH_CONNECTION_LOST' as const;
}

/**
 * The ssh_config (or an `-O`/`-o` option) asks for something rxssh cannot honour for this host —
 * `ProxyCommand`, `RemoteCommand`, `LocalForward`, a `Match exec` … — or cannot be read as
 * OpenSSH reads it. Nothing was sent: the host is refused rather than reached some other way.
 *
 * @example
 * ```ts
 * import { SshConfigError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof SshConfigError) console.log(err.keyword, err.origin); // 'proxycommand', '/home/me/.ssh/config:12'
 * };
 * ```
 */
export class SshConfigError extends SshError {
  override readonly name = 'SshConfigError' as const;
  readonly code = 'ERR_SSH_CONFIG' as const;
  /** The keyword (lower case), or `match`/`include` for a line rxssh cannot evaluate. */
  readonly keyword: string;
  /** Where it was set: `FILE:LINE`, or `command line`. */
  readonly origin: string;

  constructor(message: string, keyword: string, origin: string, context: SshErrorContext) {
    super(`${origin}: ${message}`, context);
    this.keyword = keyword;
    this.origin = origin;
  }
}

/**
 * The peer broke the SSH protocol (bad packet, no common algorithm, malformed banner, …).
 *
 * @example
 * ```ts
 * import { ProtocolError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof ProtocolError) console.log(err.message); // e.g. 'Bad packet length …'
 * };
 * ```
 */
export class ProtocolError extends SshError {
  override readonly name = 'ProtocolError' as const;
  readonly code = 'ERR_SSH_PROTOCOL' as const;
}

/**
 * More stdin was queued with `next()` than the channel's bound allows. Nothing was dropped:
 * the channel is aborted instead. Use `write()` or the `stdin` option for backpressure.
 *
 * @example
 * ```ts
 * import { StdinOverflowError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof StdinOverflowError) console.log(err.limit); // 16777216
 * };
 * ```
 */
export class StdinOverflowError extends SshError {
  override readonly name = 'StdinOverflowError' as const;
  readonly code = 'ERR_SSH_STDIN_OVERFLOW' as const;
  /** The bound that was exceeded, in bytes. */
  readonly limit: number;

  constructor(limit: number, context: SshErrorContext) {
    super(`More than ${limit} bytes of stdin queued with next(); use write() for backpressure`, context);
    this.limit = limit;
  }
}

/**
 * The installed `ssh2` is not the version whose internals rxssh was checked against (rxssh
 * reaches into it for guards ssh2 lacks, such as policing the receive window), so rxssh refuses
 * to connect rather than run with a guard silently missing. Install the version the message
 * names.
 *
 * @example
 * ```ts
 * import { Ssh2CompatibilityError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof Ssh2CompatibilityError) console.error(err.message); // rxssh needs ssh2 1.17.0 …
 * };
 * ```
 */
export class Ssh2CompatibilityError extends SshError {
  override readonly name = 'Ssh2CompatibilityError' as const;
  readonly code = 'ERR_SSH2_INCOMPATIBLE' as const;
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
 * An SFTP operation failed. The session stays usable.
 *
 * @example
 * ```ts
 * import { SftpError, SFTP_STATUS } from 'rxssh';
 *
 * const onError = (e: unknown) => e instanceof SftpError && e.status === SFTP_STATUS.NO_SUCH_FILE && console.log('missing', e.path);
 * ```
 */
export class SftpError extends SshError {
  override readonly name = 'SftpError' as const;
  readonly code = 'ERR_SSH_SFTP' as const;
  /** The SFTP status code (see {@link SFTP_STATUS}), or undefined when the channel failed. */
  readonly status: number | undefined;
  /** The remote path. */
  readonly path: string;
  /** The operation (`stat`, `open`, `read`, `mkdir`, …). */
  readonly operation: string;

  constructor(operation: string, path: string, cause: unknown, where: { host: string; port: number }) {
    const status = typeof (cause as { code?: unknown })?.code === 'number' ? ((cause as { code: number }).code) : undefined;
    super(`SFTP ${operation} ${JSON.stringify(path)} failed: ${(cause as Error)?.message ?? String(cause)}`, { ...where, phase: 'sftp', cause });
    this.status = status;
    this.path = path;
    this.operation = operation;
  }
}

/**
 * Raised when stdin is written to a channel that has already closed.
 *
 * @example
 * ```ts
 * import { ChannelClosedError } from 'rxssh';
 *
 * const onError = (err: unknown) => err instanceof ChannelClosedError && console.log('too late');
 * ```
 */
export class ChannelClosedError extends SshError {
  override readonly name = 'ChannelClosedError' as const;
  readonly code = 'ERR_SSH_CHANNEL_CLOSED' as const;
}

/**
 * The worker thread running a host's pipeline (`fanOutInWorkers`, `rxssh run --workers`) died
 * before the host's end was known: the remote command may have run, wholly or in part, so the
 * host is reported as `lost` and never run again. `phase` is `connection`: where in its
 * lifecycle the host was is not known. `cause` is what the pool reported.
 *
 * @example
 * ```ts
 * import { WorkerLostError } from 'rxssh';
 *
 * const ranMaybe = (err: unknown) => err instanceof WorkerLostError; // check the host by hand
 * ```
 */
export class WorkerLostError extends SshError {
  override readonly name = 'WorkerLostError' as const;
  readonly code = 'ERR_SSH_WORKER_LOST' as const;
}

/**
 * The queue of a distributed run (`fanOutOnQueue`, `rxssh run --queue`, `rxssh worker`) failed:
 * Redis stayed unreachable, a job could not be submitted, a job failed on its worker outside
 * the host's pipeline, or its output did not all arrive. A host that ends with it has status
 * `lost`: its command may have run, and it is not run again. Run-level errors have host `*`.
 *
 * @example
 * ```ts
 * import { QueueError } from 'rxssh';
 *
 * const queueTrouble = (err: unknown) => err instanceof QueueError; // Redis, not the host
 * ```
 */
export class QueueError extends SshError {
  override readonly name = 'QueueError' as const;
  readonly code = 'ERR_SSH_QUEUE' as const;
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

/**
 * A feature needs an optional peer dependency that is not installed: `fanOutInWorkers` needs
 * `piscina`, `rxssh/queue` needs `bullmq` and `ioredis`. `packageName` names it; the message says
 * how to install it. Nothing was started. Host `*`: it is not about a host.
 *
 * @example
 * ```ts
 * import { MissingPeerError } from 'rxssh';
 *
 * const onError = (err: unknown) => err instanceof MissingPeerError && console.error(`npm install ${err.packageName}`);
 * ```
 */
export class MissingPeerError extends SshError {
  override readonly name = 'MissingPeerError' as const;
  readonly code = 'ERR_SSH_MISSING_PEER' as const;
  /** The npm package to install (`piscina`, `bullmq`, `ioredis`). */
  readonly packageName: string;

  constructor(packageName: string, feature: string, cause?: unknown) {
    super(`${feature} needs the optional peer dependency ${packageName}, which is not installed (npm install ${packageName})`, { host: '*', port: 0, phase: 'config', cause });
    this.packageName = packageName;
  }
}

/** Every SshError class, by name: what {@link errorFromData} makes again. */
const ERROR_CLASSES: Readonly<Record<string, { readonly prototype: SshError }>> = {
  ConnectError,
  TimeoutError,
  HostKeyRejectedError,
  AuthenticationError,
  ChannelOpenError,
  ExitStatusError,
  ConnectionLostError,
  SshConfigError,
  ProtocolError,
  StdinOverflowError,
  Ssh2CompatibilityError,
  HostKeyUnknownError,
  HostKeyMismatchError,
  HostKeyRevokedError,
  SftpError,
  ChannelClosedError,
  WorkerLostError,
  QueueError,
  HostCertificateError,
  MissingPeerError,
};

/**
 * Makes an error from its data again ({@link SshError.toJSON}): the same class (so
 * `instanceof` and a fan-out's statuses work), the same message and fields, the cause as an
 * `Error` with its message and code. A name that is not an SshError's gives a plain `Error`.
 *
 * @example
 * ```ts
 * const again = errorFromData(new ExitStatusError('false', 1, null, '', { host: 'h', port: 22, phase: 'exec' }).toJSON());
 * again instanceof ExitStatusError; // true
 * ```
 */
export function errorFromData(data: ErrorData): Error {
  const Class = Object.hasOwn(ERROR_CLASSES, data.name) ? ERROR_CLASSES[data.name] : undefined;
  const error: Error = Class ? (Object.create(Class.prototype) as Error) : new Error(data.message);
  const cause = data.cause ? Object.assign(new Error(data.cause.message), data.cause.code !== undefined ? { code: data.cause.code } : {}) : undefined;
  const hidden = (value: unknown): PropertyDescriptor => ({ value, writable: true, configurable: true, enumerable: false });
  Object.defineProperties(error, {
    message: hidden(data.message),
    stack: hidden(`${data.name}: ${data.message}\n    (from another thread or process)`),
    ...(cause ? { cause: hidden(cause) } : {}),
  });
  Object.assign(error, data.fields);
  if (!Class) Object.defineProperty(error, 'name', hidden(data.name));
  return error;
}
