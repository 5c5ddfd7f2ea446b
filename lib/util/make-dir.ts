/**
 * `mkdir -p` that always ends: Node's `mkdir(…, { recursive: true })` loops for ever on some
 * paths (`/proc/nope` spins at 100 % CPU on Linux), so the missing directories are made one by
 * one, each with a plain `mkdir`, and the first error is thrown as it is.
 */
import { mkdirSync, promises as fsp, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const notDirectory = (dir: string): Error => Object.assign(new Error(`ENOTDIR: not a directory, ${dir}`), { code: 'ENOTDIR' });
const ignoreExisting = (err: unknown): void => {
  if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
};

/** The directories from the first missing one down to `dir`, given which paths exist. */
function missingSync(dir: string): string[] {
  const chain: string[] = [];
  for (let path = resolve(dir); ; path = dirname(path)) {
    try {
      statSync(path);
      return chain;
    } catch {
      chain.unshift(path);
      if (dirname(path) === path) return chain;
    }
  }
}

/** Makes `dir` and its missing parents; throws the first failure (ENOENT, EACCES, ENOTDIR …). */
export function makeDirSync(dir: string): void {
  for (const path of missingSync(dir)) {
    try {
      mkdirSync(path);
    } catch (err) {
      ignoreExisting(err);
    }
  }
  if (!statSync(dir).isDirectory()) throw notDirectory(dir);
}

/** {@link makeDirSync}, asynchronously. */
export async function makeDir(dir: string): Promise<void> {
  const chain: string[] = [];
  for (let path = resolve(dir); ; path = dirname(path)) {
    if (await fsp.stat(path).then(() => true, () => false)) break;
    chain.unshift(path);
    if (dirname(path) === path) break;
  }
  for (const path of chain) await fsp.mkdir(path).catch(ignoreExisting);
  if (!(await fsp.stat(dir)).isDirectory()) throw notDirectory(dir);
}
