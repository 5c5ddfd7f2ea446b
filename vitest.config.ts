import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    globalSetup: ['spec/integration/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A skipped or focused test checks nothing: refuse them.
    allowOnly: false,
  },
});
