/**
 * OpenSSH known_hosts written: one appended line per learned key, serialized per file inside
 * the process and locked across processes, mode 0600.
 */
import { constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { knownHostsName, hashHostName } from './known-hosts-lookup.js';

/** Serializes learning per file inside this process (so per host name too). */
export const learnQueues = new Map<string, Promise<unknown>>();

export function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = learnQueues.get(file) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  learnQueues.set(file, settled);
  void settled.then(() => {
    if (learnQueues.get(file) === settled) learnQueues.delete(file);
  });
  return next;
}

export const LOCK_STALE_MS = 10_000;

/**
 * Holds `FILE.lock` (created with O_EXCL) while `work` runs, so that runs in other processes
 * learning into the same file take turns too. A lock older than 10 s is taken as stale.
 */
export async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await fsp.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      const handle = await fsp.open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await fsp.stat(lock).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS || Date.now() > deadline) {
        await fsp.rm(lock, { force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await work();
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

/**
 * Records a host key the user confirmed (as `ssh` does after "yes"): appended to `file` (made
 * with mode 0600 if missing) through the same serialized, locked writer as {@link acceptNew},
 * the name hashed unless `hash` is false. For a prompt of your own around
 * `HostKeyUnknownError`.
 *
 * @example
 * ```ts
 * import { recordHostKey, HostKeyUnknownError } from 'rxssh';
 *
 * const onError = async (err: unknown) => {
 *   if (err instanceof HostKeyUnknownError && err.offeredKey) await recordHostKey('/home/ops/.ssh/known_hosts', err.host, err.port, err.offeredKey);
 * };
 * ```
 */
export function recordHostKey(file: string, host: string, port: number, openssh: string, hash = true): Promise<void> {
  const name = knownHostsName(host, port);
  return serialized(file, () => withFileLock(file, () => appendLine(file, `${hash ? hashHostName(name) : name} ${openssh}\n`)));
}

/** Appends one line as one `write()` on an O_APPEND descriptor, after a newline if the file lacks its last one. */
export async function appendLine(file: string, line: string): Promise<void> {
  const handle = await fsp.open(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    const { size } = await handle.stat();
    let text = line;
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) text = `\n${line}`;
    }
    await handle.write(text);
  } finally {
    await handle.close();
  }
}
