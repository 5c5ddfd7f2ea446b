/**
 * Builds dist/: the types with tsc (one .d.ts per source file, docs kept), the JavaScript with
 * esbuild — one bundle per entry point and worker script, shared code in chunks, dependencies
 * left as imports, no comments. Loading 88 modules cost rxssh's import about 27 ms of CPU; the
 * bundles cost about 9 (bench/startup.ts measures it).
 *
 * The `rxssh` bin is a build of its own (dist/cli/bin.js and dist/cli/chunks/) with the parts
 * of rxjs it uses bundled in, from rxjs's ES module build: on Node, `import 'rxjs'` loads
 * rxjs's whole CommonJS build (its "node" export), ~30 ms of every CLI run. The library keeps
 * rxjs as an import (a peer dependency: the user's Observables and rxssh's must be one rxjs).
 * The CLI hands nothing of rxjs to the library's entry points: its worker threads run
 * dist/fleet/worker-host.js and dist/cli/worker-pipeline.js, both of the library build, and
 * what crosses threads is data.
 *
 * Every .js file is ASCII: esbuild escapes non-ASCII characters in code but keeps the ones of
 * the doc comments it leaves in (a dash, an ellipsis), and V8 holds the source of a script with
 * one such character as two bytes per character: ~250 KB of source took ~500 KB of the heap
 * every process pays for loading rxssh, and a small heap is what makes a bulk transfer's external memory set
 * off full GCs (docs/benchmarks.md, bulkcpu: 10-11 mark-compacts per 256 MiB download before,
 * 7-8 after).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(new URL('../node_modules/.bin/tsc', import.meta.url).pathname, ['-p', 'tsconfig.build.json', '--emitDeclarationOnly'], { cwd: root, stdio: 'inherit' });
/** What both builds share: ES module bundles for Node 20, split into chunks, no comments. */
const bundles = { absWorkingDir: root, outbase: 'lib', outdir: 'dist', bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };
await build({
  ...bundles,
  entryPoints: [
    'lib/index.ts',
    'lib/fleet/index.ts',
    'lib/queue/index.ts',
    'lib/testing/index.ts',
    // Loaded by path (worker threads), so they must exist as files of their own.
    'lib/fleet/worker-host.ts',
    'lib/cli/worker-pipeline.ts',
  ],
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
});
await build({
  ...bundles,
  entryPoints: ['lib/cli/bin.ts'],
  // Every package stays an import except rxjs, taken from its ES module build (tree-shaken).
  external: ['ssh2', 'bullmq', 'ioredis', 'piscina'],
  alias: { rxjs: './node_modules/rxjs/dist/esm/index.js' },
  chunkNames: 'cli/chunks/[name]-[hash]',
});

/** Escapes the non-ASCII characters the builds left (in comments: code is ASCII already) as `\\uXXXX`. */
for (const entry of readdirSync(new URL('../dist', import.meta.url), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const file = join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, 'utf8');
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}
