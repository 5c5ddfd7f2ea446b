/** Errors as data and back: the class of every SshError by name, for worker threads and Redis. */
import { type SshError, type ErrorData } from './base.js';
import { HostKeyRejectedError, HostKeyUnknownError, HostKeyMismatchError, HostKeyRevokedError, HostCertificateError } from './host-key.js';
import { ConnectError, TimeoutError, ConnectionLostError, SshConfigError, ProtocolError, ProxyCommandError, Ssh2CompatibilityError, MissingPeerError } from './connection.js';
import { AuthenticationError } from './auth.js';
import { ChannelOpenError, ExitStatusError, StdinOverflowError, SftpError, ChannelClosedError, BecomeError } from './channel.js';
import { WorkerLostError, QueueError, HostSkippedError } from './fleet.js';

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
  ProxyCommandError,
  HostSkippedError,
  BecomeError,
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
