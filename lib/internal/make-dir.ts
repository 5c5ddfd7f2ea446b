/**
 * `mkdir -p` that always ends: Node's `mkdir(…, { recursive: true })` loops for ever on some
 * paths (`/proc/nope` spins at 100 % CPU on Linux), so the missing directories are made one by
 * one, each with a plain `mkdir`, and the first error is thrown as it is.
 */
import { mkdirSync, promises as fsp, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The directories from the first missing one down to `dir`. */
function missing(dir: string, exists: (path: string) => boolean): string[] {
  const chain: string[] = [];
  for (let path = resolve(dir); !exists(path); path = dirname(path)) {
    chain.unshift(path);
    if (dirname(path) === path) break;
  }
  return chain;
}

const existsSync = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Makes `dir` and its missing parents; throws the first failure (ENOENT, EACCES, ENOTDIR …). */
export function makeDirSync(dir: string): void {
  for (const path of missing(dir, existsSync)) {
    try {
      mkdirSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${dir}`), { code: 'ENOTDIR' });
}

/** {@link makeDirSync}, asynchronously. */
export async function makeDir(dir: string): Promise<void> {
  const present = new Set<string>();
  const chain: string[] = [];
  for (let path = resolve(dir); ; path = dirname(path)) {
    const found = await fsp.stat(path).then(
      () => true,
      () => false,
    );
    if (found) {
      present.add(path);
      break;
    }
    chain.unshift(path);
    if (dirname(path) === path) break;
  }
  for (const path of chain) {
    await fsp.mkdir(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  if (!(await fsp.stat(dir)).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${dir}`), { code: 'ENOTDIR' });
}
