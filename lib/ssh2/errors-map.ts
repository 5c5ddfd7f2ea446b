/**
 * Maps ssh2's untyped errors (an `Error` with a `level` string) onto rxssh's typed classes, in
 * one place. Everything ssh2 can emit goes through `fromSsh2Error`.
 */
import {
  AuthenticationError,
  ChannelOpenError,
  ConnectError,
  ConnectionLostError,
  ProtocolError,
  TimeoutError,
  type SshError,
  type SshErrorContext,
  type SshPhase,
} from '../errors.js';
import { HOSTILE_PACKET_SIZE } from './connection.js';

/** The host/port of the connection an error belongs to. */
export interface Where {
  readonly host: string;
  readonly port: number;
}

/** What the session knows when ssh2 reports an error. */
export interface ErrorState extends Where {
  readonly phase: SshPhase;
  /** Methods tried so far, for authentication errors. */
  readonly methodsTried: readonly string[];
  /** The methods the server last said could continue. */
  readonly methodsLeft: readonly string[] | null;
  /** The keepalive interval × (count + 1), for keepalive timeouts. */
  readonly keepaliveMs: number;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'EAI_ADDRFAMILY']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EACCES', 'EPERM']);

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Turns anything ssh2 or the socket emitted into a typed {@link SshError}. */
export function fromSsh2Error(err: unknown, state: ErrorState): SshError {
  const level = field(err, 'level');
  const code = field(err, 'code');
  const where = { host: state.host, port: state.port, cause: err };
  const message = messageOf(err);

  if (typeof code === 'string' && DNS_CODES.has(code)) {
    return new ConnectError(`Cannot resolve ${state.host}: ${message}`, { ...where, phase: 'dns' });
  }
  if (level === 'client-socket' || typeof code === 'string') {
    if (typeof code === 'string' && CONNECT_CODES.has(code) && (state.phase === 'tcp' || state.phase === 'dns')) {
      return new ConnectError(`Cannot connect: ${message}`, { ...where, phase: 'tcp' });
    }
    if (state.phase === 'tcp' || state.phase === 'dns') {
      return new ConnectError(`Cannot connect: ${message}`, { ...where, phase: state.phase });
    }
    return new ConnectionLostError(`Connection lost: ${message}`, { ...where, phase: state.phase });
  }
  if (level === 'client-timeout') {
    if (message.includes('Keepalive')) {
      return new TimeoutError(state.keepaliveMs, { ...where, phase: 'keepalive' });
    }
    return new TimeoutError(0, { ...where, phase: state.phase });
  }
  if (level === 'client-authentication' || (state.phase === 'auth' && typeof code === 'number')) {
    return new AuthenticationError(message, state.methodsTried, state.methodsLeft, { ...where, phase: 'auth' });
  }
  if (typeof code === 'number') {
    // A DISCONNECT message from the server (code = SSH reason number).
    return new ConnectionLostError(`Server disconnected: ${message}`, { ...where, phase: state.phase });
  }
  if (message === 'Connection lost before handshake') {
    return new ConnectionLostError(message, { ...where, phase: 'banner' });
  }
  const phase = state.phase === 'dns' || state.phase === 'tcp' ? 'banner' : state.phase;
  return new ProtocolError(message, { ...where, phase });
}

/**
 * The error for a channel the server would not give us: a `ProtocolError` when the guard refused
 * it (a hostile maximum packet size), otherwise a `ChannelOpenError` with the server's reason.
 */
export function channelOpenFailure(what: string, err: (Error & { reason?: unknown }) | undefined, context: SshErrorContext): SshError {
  if (err?.reason === HOSTILE_PACKET_SIZE) return new ProtocolError(`${what}: ${err.message}`, context);
  const reason = typeof err?.reason === 'number' ? err.reason : undefined;
  return new ChannelOpenError(`${what}: ${err?.message ?? 'no channel'}`, reason, context);
}

/**
 * The error for work cut off by a lost connection: the typed error rxssh ended the connection
 * with (a host key changed at re-key, keepalive gave up, a protocol fault), or else
 * `ConnectionLostError` (the peer went away), naming the `route` (`jump host HOST:PORT`) when the
 * connection went through one.
 */
export function connectionLost(failure: SshError | undefined, message: string, context: SshErrorContext, route?: string): SshError {
  if (failure !== undefined && !(failure instanceof ConnectionLostError)) return failure;
  return new ConnectionLostError(route ? `${message} (through ${route})` : message, context);
}

/** An operation asked of (or cut off by) a connection that has closed. */
export function connectionClosed(context: SshErrorContext): ConnectionLostError {
  return new ConnectionLostError('Connection is closed', context);
}
