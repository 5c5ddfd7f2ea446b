/** Remote paths as `scp` reads them: `~` is the remote home, a directory receives a file under its name. */
import { basename, posix } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { SftpError } from '../errors.js';
import type { SftpSession } from './sftp.js';
import { SFTP_STATUS } from './types.js';

/**
 * A remote path as `scp` reads it: `~` and `~/…` are the remote user's home (where the SFTP
 * server starts); anything else is unchanged.
 *
 * @example
 * ```ts
 * const path = await remotePath(sftp, '~/app.tgz'); // '/home/deploy/app.tgz'
 * ```
 */
export async function remotePath(sftp: SftpSession, path: string): Promise<string> {
  if (path !== '~' && !path.startsWith('~/')) return path;
  const home = await lastValueFrom(sftp.realpath('.'));
  return path === '~' ? home : posix.join(home, path.slice(2));
}

/**
 * Where an upload of `local` to `remote` lands, as `scp` and `parallel-scp` decide: `~` is the
 * remote home; an existing directory (with or without a trailing `/`) receives the file under
 * its own name; a missing one fails at the server's answer, as with `scp`.
 *
 * @example
 * ```ts
 * await uploadPath(sftp, './build.tgz', '/srv/releases/'); // '/srv/releases/build.tgz'
 * ```
 */
export async function uploadPath(sftp: SftpSession, local: string, remote: string): Promise<string> {
  const path = await remotePath(sftp, remote);
  const stats = await lastValueFrom(sftp.stat(path)).catch((err: unknown) => {
    if (err instanceof SftpError && err.status === SFTP_STATUS.NO_SUCH_FILE) return undefined;
    throw err;
  });
  return stats?.isDirectory ? posix.join(path, basename(local)) : path;
}
