/**
 * What crosses between a fan-out's main thread and its worker threads: values as structured
 * clones (Buffers arrive as Uint8Arrays and are made Buffers again), errors as plain data
 * revived into the same typed classes, so statuses, retries and exit codes work unchanged.
 */
import { toBuffer } from './bytes.js';

import {
  AuthenticationError,
  ChannelOpenError,
  ConnectError,
  ConnectionLostError,
  ExitStatusError,
  HostCertificateError,
  HostKeyMismatchError,
  HostKeyRejectedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  ProtocolError,
  SftpError,
  SshConfigError,
  SshError,
  TimeoutError,
  type SshErrorContext,
  type SshPhase,
} from '../errors.js';

/** An error as data. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

const CONTEXT_SUFFIX = / \([^()]*:\d+, phase [a-z-]+\)$/;

export function encodeError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const key of ['host', 'port', 'phase', 'code', 'command', 'exitCode', 'signal', 'stderrTail', 'timeoutMs', 'fingerprint', 'methodsTried', 'methodsLeft', 'reason', 'keyId', 'file', 'line', 'expected', 'operation', 'path', 'status', 'keyword', 'origin']) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (value === undefined || typeof value === 'function') continue;
    fields[key] = value;
  }
  const cause = (err as { cause?: { message?: unknown; code?: unknown } }).cause;
  if (cause && typeof cause === 'object') fields['cause'] = { message: String(cause.message ?? ''), code: cause.code };
  // The message without the " (host:port, phase …)" suffix the constructors add again.
  return { name: err.name, message: err instanceof SshError ? err.message.replace(CONTEXT_SUFFIX, '') : err.message, fields };
}

export function reviveError(wire: WireError): Error {
  const f = wire.fields;
  const causeData = f['cause'] as { message: string; code: unknown } | undefined;
  const ctx: SshErrorContext = {
    host: String(f['host'] ?? ''),
    port: Number(f['port'] ?? 0),
    phase: (f['phase'] as SshPhase | undefined) ?? 'connection',
    ...(causeData ? { cause: Object.assign(new Error(causeData.message), { code: causeData.code }) } : {}),
  };
  const fp = f['fingerprint'] as string | undefined;
  const entry = { file: String(f['file'] ?? ''), line: Number(f['line'] ?? 0), key: Buffer.alloc(0) };
  switch (wire.name) {
    case 'ConnectError':
      return new ConnectError(wire.message, ctx);
    case 'TimeoutError':
      return new TimeoutError(Number(f['timeoutMs'] ?? 0), ctx);
    case 'AuthenticationError':
      return new AuthenticationError(wire.message.replace(/; (tried|server allows|the server did not say).*$/, ''), (f['methodsTried'] as string[]) ?? [], (f['methodsLeft'] as string[] | null) ?? null, ctx);
    case 'ChannelOpenError':
      return new ChannelOpenError(wire.message, f['reason'] as number | undefined, ctx);
    case 'ExitStatusError':
      return new ExitStatusError(String(f['command'] ?? ''), (f['exitCode'] as number | null) ?? null, (f['signal'] as string | null) ?? null, String(f['stderrTail'] ?? ''), ctx);
    case 'ConnectionLostError':
      return new ConnectionLostError(wire.message, ctx);
    case 'ProtocolError':
      return new ProtocolError(wire.message, ctx);
    case 'HostKeyUnknownError':
      return new HostKeyUnknownError(wire.message, fp, ctx);
    case 'HostKeyMismatchError':
      return new HostKeyMismatchError(entry, fp ?? '', ctx, wire.message);
    case 'HostKeyRevokedError':
      return new HostKeyRevokedError(entry, fp ?? '', ctx);
    case 'HostCertificateError':
      return new HostCertificateError(String(f['reason'] ?? ''), String(f['keyId'] ?? ''), fp ?? '', ctx);
    case 'HostKeyRejectedError':
      return new HostKeyRejectedError(wire.message, fp, ctx);
    case 'SshConfigError': {
      const origin = String(f['origin'] ?? '');
      return new SshConfigError(wire.message.startsWith(`${origin}: `) ? wire.message.slice(origin.length + 2) : wire.message, String(f['keyword'] ?? ''), origin, ctx);
    }
    case 'SftpError':
      return new SftpError(String(f['operation'] ?? ''), String(f['path'] ?? ''), Object.assign(new Error(wire.message), { code: f['status'] }), ctx);
    default:
      return Object.assign(new Error(wire.message), { name: wire.name });
  }
}

/** A value as it arrived from a worker: chunk data back to Buffers. */
export function reviveValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'stream' in value && 'data' in value && (value as { data: unknown }).data instanceof Uint8Array) {
    const v = value as { stream: string; data: Uint8Array };
    return { ...v, data: toBuffer(v.data) };
  }
  return value;
}

/** Messages from a worker about one host. */
export type WorkerMessage = { readonly type: 'next'; readonly value: unknown } | { readonly type: 'error'; readonly error: WireError } | { readonly type: 'complete' };
