/**
 * `rxssh put` and `rxssh get`: pscp and pslurp on the SFTP layer, with `run`'s host options,
 * progress, status lines and exit codes.
 */
import { basename, join, posix } from 'node:path';
import { statSync } from 'node:fs';
import { defer, lastValueFrom, switchMap, type Observable } from 'rxjs';
import { SftpError, remotePath, uploadPath, withConnection, type FanOutTarget } from '../index.js';
import { makeDirSync } from '../util/make-dir.js';
import type { Secrets } from './credentials.js';
import type { Io } from './io.js';
import { parseUntilPositional } from './args.js';
import { runCommand } from './run.js';
import { FLEET_ENV, FLEET_OPTIONS, fleetOptions } from './fleet-options.js';
import { hostConnection, hostOptions, withPsshEnv, type Values } from './host.js';
import { outputName } from './report.js';
import { EXIT, UsageError } from './usage.js';

export const PUT_HELP = `usage: rxssh put [options] [-r] LOCAL REMOTE

Copies LOCAL (a file, or a tree with -r) to REMOTE on every host, like pscp, over SFTP
(pipelined, hash-exact). Takes run's host options (-h -H --aliases -g -l -p -t -O -x -X -F -A
-v --identity --known-hosts --accept-new --password-env --passphrase-env --json); -r copies a
directory tree, -a keeps modes and times (permission bits only, never setuid). --sudo
(--sudo-user, --become-password-env, --ask-become-pass) runs the SFTP server under sudo, so
root-owned files can be written and read.
`;

export const GET_HELP = `usage: rxssh get [options] [-r] REMOTE LOCALDIR

Copies REMOTE (a file, or a tree with -r) from every host into LOCALDIR/HOST/, like pslurp -L,
over SFTP. HOST is named as run's -o names its files. Takes run's host options; -a keeps modes
and times (permission bits only, never setuid).
`;

/** Runs `rxssh put` or `rxssh get`; resolves with the exit code. */
// eslint-disable-next-line max-lines-per-function -- Long by design: the command's steps in the order it runs them (flags, hosts, paths, the transfer, the report).
export async function copyCommand(which: 'put' | 'get', argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseUntilPositional(argv, {
    ...FLEET_OPTIONS,
    recursive: { type: 'boolean', short: 'r' },
    archive: { type: 'boolean', short: 'a' },
  } as const);
  if (parsed.values.help) {
    io.stdout.write(which === 'put' ? PUT_HELP : GET_HELP);
    return EXIT.ok;
  }
  const values = withPsshEnv(parsed.values as Values, io, FLEET_ENV);
  const [from, to, ...extra] = parsed.rest;
  if (!from || !to || extra.length) throw new UsageError(which === 'put' ? 'usage: rxssh put [options] [-r] LOCAL REMOTE' : 'usage: rxssh get [options] [-r] REMOTE LOCALDIR');
  const recursive = values['recursive'] === true;
  const config = values['archive'] === true ? { preserve: true } : {};
  const o = hostOptions(values, io);
  const fleet = fleetOptions(values, o);
  if (which === 'put') {
    let isDir: boolean;
    try {
      isDir = statSync(from).isDirectory();
    } catch (err) {
      throw new UsageError(`${from}: ${(err as Error).message}`);
    }
    if (isDir && !recursive) throw new UsageError(`${from} is a directory (use -r)`);
  } else {
    try {
      makeDirSync(to);
    } catch (err) {
      throw new UsageError(`${to}: cannot make the directory (${(err as Error).message})`);
    }
  }
  // One directory per host, numbered like run -o's files when two hosts' names coincide.
  const dirs = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const t of fleet.targets) {
    const label = t.label ?? outputName(t, o.localUser);
    if (dirs.has(label)) continue;
    const base = outputName(t, o.localUser);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    dirs.set(label, count ? `${base}.${count}` : base);
  }
  if (o.become && o.become.method !== 'sudo') throw new UsageError(`--become-method ${o.become.method}: put and get run the SFTP server under sudo only (su and doas need a terminal)`);
  // --sudo: the SFTP server runs as that user (files written with its rights, modes as asked).
  const sftpConfig = (secrets: Secrets) => (o.become ? { become: secrets.becomeConfig(o.become) } : {});
  // As sftp -R: a symbolic link or special file in the tree is not copied, and that is said.
  const skipped = (t: FanOutTarget, secrets: Secrets) => (rel: string, kind: string) => secrets.warn(`${t.label ?? t.host}: ${posix.join(from, rel)}: not a regular file (${kind}), not copied`);
  const pipeline = (t: FanOutTarget, secrets: Secrets) =>
    hostConnection(t, o, secrets).pipe(
      withConnection((c) =>
        c.withSftp<unknown>((sftp) =>
          defer(async () => {
            if (which === 'put') {
              // As scp: `~` is the remote home; an existing directory receives the file.
              return recursive ? sftp.uploadDir(from, await remotePath(sftp, to), { ...config, onSkip: skipped(t, secrets) }) : sftp.upload(from, await uploadPath(sftp, from, to), config);
            }
            const remote = await remotePath(sftp, from);
            if (!recursive && (await lastValueFrom(sftp.stat(remote))).isDirectory) {
              throw new SftpError('get', remote, new Error(`${from} is a directory (use -r)`), { host: c.host, port: c.port });
            }
            const dir = join(to, dirs.get(t.label ?? '') ?? outputName(t, o.localUser));
            makeDirSync(dir);
            const local = join(dir, basename(posix.normalize(from)) || 'root');
            return recursive ? sftp.downloadDir(remote, local, { ...config, onSkip: skipped(t, secrets) }) : sftp.download(remote, local, config);
          }).pipe(switchMap((transfer: Observable<unknown>) => transfer)),
          sftpConfig(secrets),
        ),
      ),
    );
  return runCommand({ ...o, ...fleet, command: `${which} ${from} ${to}` }, io, undefined, pipeline);
}
