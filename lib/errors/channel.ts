/** Errors of channels and what runs on them: open refused, a command's exit, stdin overflow, SFTP. */
import { type SshErrorContext, SshError } from './base.js';

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
 * Running a command as another user (`become`: `sudo`, `su`) failed before the command started:
 * `reason` says why — `password-required` (the method asked for a password and none was
 * given), `incorrect-password` (it asked again: the password was wrong; rxssh does not try
 * twice), `not-allowed` (the user may not run it, e.g. not in sudoers), or `failed` (the method
 * ended otherwise; `stderrTail` has its words). The password never appears in it.
 *
 * @example
 * ```ts
 * import { BecomeError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof BecomeError && err.reason === 'incorrect-password') console.log('wrong sudo password');
 * };
 * ```
 */
export class BecomeError extends SshError {
  override readonly name = 'BecomeError' as const;
  readonly code = 'ERR_SSH_BECOME' as const;
  /** Why it failed. */
  readonly reason: 'password-required' | 'incorrect-password' | 'not-allowed' | 'failed';
  /** `sudo`, `su` or `doas`. */
  readonly method: string;
  /** The user the command was to run as. */
  readonly user: string;
  /** What the method wrote to stderr (at most 2 KiB), without rxssh's prompt marker. */
  readonly stderrTail: string;

  constructor(reason: BecomeError['reason'], method: string, user: string, stderrTail: string, context: SshErrorContext) {
    const why = {
      'password-required': 'a password is required but none was given',
      'incorrect-password': 'the password was not accepted',
      'not-allowed': 'not allowed',
      failed: 'it failed',
    }[reason];
    super(`${method} to ${user}: ${why}${reason === 'failed' && stderrTail.trim() ? ` (${stderrTail.trim().split('\n').at(-1) ?? ''})` : ''}`, context);
    this.reason = reason;
    this.method = method;
    this.user = user;
    this.stderrTail = stderrTail;
  }
}
