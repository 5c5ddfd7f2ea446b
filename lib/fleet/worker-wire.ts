/**
 * What crosses between a fan-out's main thread and its worker threads: values as structured
 * clones (Buffers arrive as Uint8Arrays and are made Buffers again), errors as plain data
 * revived into the same typed classes, so statuses, retries and exit codes work unchanged.
 */
import { toBuffer } from '../util/bytes.js';
import { isExecChunk, isExecResult } from './values.js';

import { errorFromData, SshError, type ErrorData } from '../errors.js';

/** An error as data: an SshError's own wire form ({@link SshError.toJSON}), or a plain error's name and message. */
export type WireError = ErrorData;

export function encodeError(err: unknown): WireError {
  if (err instanceof SshError) return err.toJSON();
  if (err instanceof Error) return { name: err.name, message: err.message, fields: {} };
  return { name: 'Error', message: String(err), fields: {} };
}

export function reviveError(wire: WireError): Error {
  return errorFromData(wire);
}

/** A value as it arrived from a worker: a chunk's data, and an exec result's bytes, back to Buffers. */
export function reviveValue(value: unknown): unknown {
  if (isExecChunk(value)) return { ...value, data: toBuffer(value.data) };
  if (isExecResult(value) && typeof value.stdout !== 'string') {
    return { ...value, stdout: toBuffer(value.stdout), stderr: toBuffer(value.stderr as Uint8Array) };
  }
  return value;
}

/** Messages from a worker about one host. */
export type WorkerMessage = { readonly type: 'next'; readonly value: unknown } | { readonly type: 'error'; readonly error: WireError } | { readonly type: 'complete' };

/** Messages from the main thread about one host: stop it, the main thread's flow, output taken. */
export type HostControl = { readonly type: 'cancel' } | { readonly type: 'pause' } | { readonly type: 'resume' } | { readonly type: 'ack'; readonly bytes: number };
