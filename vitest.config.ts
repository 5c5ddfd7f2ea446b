import { defineConfig } from 'vitest/config';

// Examples import 'rxssh' as a user would; inside the repo that is the source.
const alias = {
  'rxssh/testing': new URL('./lib/testing/index.ts', import.meta.url).pathname,
  'rxssh/fleet': new URL('./lib/fleet/index.ts', import.meta.url).pathname,
  'rxssh/queue': new URL('./lib/queue/index.ts', import.meta.url).pathname,
  rxssh: new URL('./lib/index.ts', import.meta.url).pathname,
};

/**
 * Specs that load the machine on their own (10,000 targets, 1,000 connections in flight): run
 * after the others, alone, so that their per-host timeouts measure rxssh and not a neighbour.
 */
export const ALONE = ['spec/integration/fan-out.spec.ts'];

export default defineConfig({
  resolve: { alias },
  test: {
    // The run's own TMPDIR first (removed last), then the suite's sshd.
    globalSetup: ['spec/helpers/temp-root.ts', 'spec/integration/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A skipped or focused test checks nothing: refuse them.
    allowOnly: false,
    // Two files at a time on this 2-core machine (the specs share no state: own ports, temp
    // directories, accounts), then the heavy ones alone.
    projects: [
      { extends: true, test: { name: 'specs', include: ['spec/**/*.spec.ts'], exclude: ALONE, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
