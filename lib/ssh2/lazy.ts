/**
 * Loading ssh2 late: importing rxssh loads none of ssh2 (about 17 ms of CPU on this machine);
 * the first connection, key parse or server does. Each piece of ssh2 is required once, when
 * first asked for.
 */
import { createRequire } from 'node:module';

/** A value made on first call, then kept. */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}

/** `require` from here: ssh2 is CommonJS. */
export const requireSsh2 = createRequire(import.meta.url);

/** A function exported by one of ssh2's internal files, or undefined if it moved. */
export function ssh2Function<F>(file: string, name: string): F | undefined {
  try {
    const fn: unknown = (requireSsh2(file) as Record<string, unknown>)[name];
    return typeof fn === 'function' ? (fn as F) : undefined;
  } catch {
    return undefined;
  }
}
