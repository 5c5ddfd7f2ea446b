/**
 * What every part of the CLI shares and that loads nothing: pssh's exit codes and the usage
 * error.
 */

/** Thrown for bad command lines; the CLI exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** pssh's exit codes. */
export const EXIT = { ok: 0, misc: 1, usage: 2, timeout: 3, connection: 4, remote: 5 } as const;
