/**
 * Directory entries over SFTP: listing a directory batch by batch, `mkdir -p` that tolerates a
 * race with another client, and `rm -r`. `SftpSession` delegates to them.
 */
import { concatMap, defer, lastValueFrom, Observable, toArray } from 'rxjs';
import { posix } from 'node:path';
import type { FileEntryWithStats, Stats } from '../ssh2/index.js';
import { SftpError } from '../errors.js';
import { SFTP_STATUS, type MkdirConfig, type RemoveConfig, type SftpEntry, type SftpStats } from './types.js';
import { toStats, type SftpCore } from './core.js';

/** Attributes of a path, not following links. */
export function lstat(core: SftpCore, path: string): Observable<SftpStats> {
  return core.call<Stats>('lstat', path, (done) => core.sftp.lstat(path, done)).pipe(concatMap((s) => [toStats(s)]));
}

/** `SftpSession.readdir`: entries batch by batch, `.` and `..` left out; unsubscribing closes the handle. */
export function readdir(core: SftpCore, path: string): Observable<SftpEntry> {
  return new Observable<SftpEntry>((subscriber) => {
    if (core.ended) return subscriber.error(core.ended);
    let handle: Buffer | undefined;
    let active = true;
    const fail = (op: string, err: unknown): void => {
      if (active) subscriber.error(core.error(op, path, err));
    };
    const next = (): void => {
      if (!handle || !active) return;
      core.sftp.readdir(handle, (err: unknown, list: FileEntryWithStats[] | false) => {
        if (!active) return;
        if (err && (err as { code?: number }).code === SFTP_STATUS.EOF) return finish();
        if (err) return fail('readdir', err);
        for (const e of list || []) {
          if (e.filename === '.' || e.filename === '..') continue;
          subscriber.next({ name: e.filename, longname: e.longname, stats: toStats(e.attrs as unknown as Stats) });
        }
        next();
      });
    };
    const finish = (): void => {
      const h = handle;
      handle = undefined;
      if (h) void core.closeHandle(h);
      if (active) subscriber.complete();
    };
    try {
      core.sftp.opendir(path, (err, h) => {
        if (err) return fail('opendir', err);
        handle = h;
        if (!active) return finish();
        next();
      });
    } catch (err) {
      fail('opendir', err);
    }
    return () => {
      active = false;
      if (handle) void core.closeHandle(handle);
    };
  });
}

/** `SftpSession.mkdir`. */
export function mkdir(core: SftpCore, path: string, options: MkdirConfig): Observable<void> {
  const one = (p: string): Observable<void> =>
    core.call<void>('mkdir', p, (done) => core.sftp.mkdir(p, options.mode !== undefined ? { mode: options.mode } : {}, done));
  if (!options.recursive) return one(path);
  return defer(async () => {
    const parts = posix.normalize(path).split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/') || '/';
      if (p === '/' || p === '.') continue;
      const exists = await lastValueFrom(core.stat(p)).then(
        (s) => s.isDirectory,
        () => false,
      );
      if (exists) continue;
      // Another client (or another host of a fan-out on the same server) may make it between
      // the stat and the mkdir: a failure is fine when the directory is there afterwards.
      await lastValueFrom(one(p), { defaultValue: undefined }).catch(async (err: unknown) => {
        const made = await lastValueFrom(core.stat(p)).then((st) => st.isDirectory, () => false);
        if (!made) throw err;
      });
    }
  });
}

/** `SftpSession.rm`. */
export function rm(core: SftpCore, path: string, options: RemoveConfig): Observable<void> {
  return defer(async () => {
    const stats = await lastValueFrom(lstat(core, path));
    if (!stats.isDirectory) {
      await lastValueFrom(core.call<void>('unlink', path, (done) => core.sftp.unlink(path, done)), { defaultValue: undefined });
      return;
    }
    if (!options.recursive) throw new SftpError('rm', path, new Error('is a directory (use recursive)'), core.where);
    const children = await lastValueFrom(readdir(core, path).pipe(toArray()));
    for (const child of children) await lastValueFrom(rm(core, posix.join(path, child.name), options), { defaultValue: undefined });
    await lastValueFrom(core.call<void>('rmdir', path, (done) => core.sftp.rmdir(path, done)), { defaultValue: undefined });
  });
}
