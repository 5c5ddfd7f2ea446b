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
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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
