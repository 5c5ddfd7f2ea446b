/**
 * Builds dist/: the types with tsc (one .d.ts per source file, docs kept), the JavaScript with
 * esbuild — one bundle per entry point and worker script, shared code in chunks, dependencies
 * left as imports, no comments. Loading 88 modules cost rxssh's import about 27 ms of CPU; the
 * bundles cost about 9 (bench/startup.ts measures it).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(new URL('../node_modules/.bin/tsc', import.meta.url).pathname, ['-p', 'tsconfig.build.json', '--emitDeclarationOnly'], { cwd: root, stdio: 'inherit' });
await build({
  absWorkingDir: root,
  entryPoints: [
    'lib/index.ts',
    'lib/fleet/index.ts',
    'lib/queue/index.ts',
    'lib/testing/index.ts',
    'lib/cli/bin.ts',
    // Loaded by path (worker threads), so they must exist as files of their own.
    'lib/fleet/worker-host.ts',
    'lib/cli/worker-pipeline.ts',
  ],
  outbase: 'lib',
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
