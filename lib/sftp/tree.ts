/**
 * Directory trees over SFTP (`SftpSession.uploadDir`/`downloadDir`): the source walked first
 * (entry names checked, depth bounded), the directories made, then the files moved
 * `parallelFiles` at a time; a download never writes outside its destination.
 */
import { promises as fsp } from 'node:fs';
import { posix, sep } from 'node:path';
import { defer, EMPTY, from, lastValueFrom, mergeMap, tap, type Observable } from 'rxjs';
import { SftpError } from '../errors.js';
import { MAX_TREE_DEPTH, safeEntryName, type TreeProgress, type TreeTransferConfig } from './types.js';
import type { SftpCore } from './core.js';

/** One side of a tree transfer: how to list the source, make a directory, move a file. */
export interface TreeSide {
  list: (rel: string) => Promise<Array<{ name: string; isDirectory: boolean; isFile: boolean; isSymbolicLink: boolean }>>;
  makeDir: (rel: string) => Promise<void>;
  transfer: (rel: string, signal: AbortSignal) => Promise<void>;
}

/** A tree transfer: walk the source with `side.list`, create every directory, then move the files. */
export function treeTransfer(
  core: SftpCore,
  operation: string,
  remoteRoot: string,
  config: TreeTransferConfig,
  side: TreeSide,
): Observable<TreeProgress> {
  return core.transfer<TreeProgress>(operation, remoteRoot, async (emit, signal) => {
    const dirs: string[] = [''];
    const files: string[] = [];
    const walk = async (rel: string, depth: number): Promise<void> => {
      if (depth > MAX_TREE_DEPTH) {
        throw new SftpError(operation, posix.join(remoteRoot, rel), new Error(`the tree is deeper than ${MAX_TREE_DEPTH} levels (OpenSSH's limit); nothing was transferred`), core.where);
      }
      for (const e of await side.list(rel)) {
        if (!safeEntryName(e.name)) {
          // OpenSSH: "Server sent suspect path". Nothing is written: the walk ends before any transfer.
          throw new SftpError('readdir', posix.join(remoteRoot, rel), new Error(`suspect entry name ${JSON.stringify(e.name)} (a path, not a name)`), core.where);
        }
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (config.filter && !config.filter(child, e.isDirectory)) continue;
        if (e.isDirectory) {
          dirs.push(child);
          await walk(child, depth + 1);
        } else if (e.isFile) files.push(child);
        else config.onSkip?.(child, e.isSymbolicLink ? 'symbolic link' : 'special file');
      }
    };
    await walk('', 1);
    for (const d of dirs) await side.makeDir(d);
    await eachFile(files, config.parallelFiles ?? 8, signal, side.transfer, (done, rel) =>
      emit({ files: done, total: files.length, path: rel }),
    );
  });
}

/** Runs `work` for each file, `width` at a time, until `signal` aborts; reports after each. */
function eachFile(
  files: readonly string[],
  width: number,
  signal: AbortSignal,
  work: (rel: string, signal: AbortSignal) => Promise<void>,
  report: (done: number, rel: string) => void,
): Promise<void> {
  let done = 0;
  // `width` files at a time; once aborted, files not started yet are not started.
  return lastValueFrom(
    from(files).pipe(
      mergeMap((rel) => defer(() => (signal.aborted ? EMPTY : from(work(rel, signal).then(() => rel)))), Math.max(1, width)),
      tap((rel) => report(++done, rel)),
    ),
    { defaultValue: undefined },
  ).then(() => undefined);
}

/** Fails unless `dir` (after resolving symbolic links) lies inside the destination root. */
export async function insideDestination(core: SftpCore, root: string, dir: string, remoteDir: string, rel: string): Promise<void> {
  const [realRoot, realDir] = await Promise.all([fsp.realpath(root), fsp.realpath(dir)]);
  if (realDir !== realRoot && !realDir.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw new SftpError('downloadDir', posix.join(remoteDir, rel), new Error(`the local path ${dir} leads outside the destination (to ${realDir}) through a symbolic link`), core.where);
  }
}
