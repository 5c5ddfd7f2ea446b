/** Errors of reaching and keeping a connection: connect, deadlines, loss, protocol faults, configuration, ssh2, optional peers. */
import { type SshErrorContext, SshError } from './base.js';

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
 * The `ProxyCommand` that carries the connection failed: it could not be started, or it exited
 * (before the server's banner, or under an established connection). Carries its exit status or
 * signal and the last lines it wrote to stderr.
 *
 * @example
 * ```ts
 * import { ProxyCommandError } from 'rxssh';
 *
 * const onError = (err: unknown) => {
 *   if (err instanceof ProxyCommandError) console.log(err.exitCode, err.stderr); // 255 'ssh: connect to host bastion port 22: Connection refused'
 * };
 * ```
 */
export class ProxyCommandError extends SshError {
  override readonly name = 'ProxyCommandError' as const;
  readonly code = 'ERR_SSH_PROXY_COMMAND' as const;
  /** The command as run (tokens expanded). */
  readonly command: string;
  /** Its exit status, or null when a signal ended it or it never started. */
  readonly exitCode: number | null;
  /** The signal that ended it, or null. */
  readonly signal: string | null;
  /** The last lines it wrote to stderr (at most 2 KiB). */
  readonly stderr: string;

  constructor(message: string, command: string, exitCode: number | null, signal: string | null, stderr: string, context: SshErrorContext) {
    super(stderr ? `${message}: ${stderr.trim().split('\n').at(-1) ?? ''}` : message, context);
    this.command = command;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
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
