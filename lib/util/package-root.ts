/**
 * Files of the rxssh package itself (a worker thread's script, package.json), found from the
 * package's root rather than from the calling file: in the published package the code is
 * bundled into chunks, so `import.meta.url` of a chunk says nothing about where a file is.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The package's root directory (where its package.json is), by self-reference. */
export function packageRoot(): URL {
  return new URL('.', pathToFileURL(createRequire(import.meta.url).resolve('rxssh/package.json')));
}

/**
 * A file shipped in dist/, or, running from the TypeScript sources (tsx, vitest: `here` ends in
 * `.ts`), its source beside the caller.
 */
export function shippedFile(here: string, source: string, dist: string): URL {
  return here.endsWith('.ts') ? new URL(source, here) : new URL(dist, packageRoot());
}
