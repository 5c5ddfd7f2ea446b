/**
 * The two values of rxssh's own that a fan-out reads in a host's pipeline, told apart by their
 * `type` discriminator and nothing else: an `ExecChunk` (`type: 'chunk'`, from `exec`) is
 * output, an `ExecResult` (`type: 'exec-result'`, from `run`) is a command's whole outcome.
 * Every other value is the host's own, kept as it is (an object that only looks like a chunk
 * is not taken for one).
 */
import type { ExecChunk } from '../channel/types.js';
import type { ExecResult } from '../channel/run.js';

function typed(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

/** True for an `ExecChunk` (its `type` is `'chunk'`). */
export function isExecChunk(value: unknown): value is ExecChunk {
  return typed(value) === 'chunk';
}

/** True for an `ExecResult` (its `type` is `'exec-result'`). */
export function isExecResult(value: unknown): value is ExecResult<string | Buffer> {
  return typed(value) === 'exec-result';
}
