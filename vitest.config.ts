import { defineConfig } from 'vitest/config';

// Examples import 'rxssh' as a user would; inside the repo that is the source.
const alias = {
  'rxssh/testing': new URL('./lib/testing/index.ts', import.meta.url).pathname,
  'rxssh/fleet': new URL('./lib/fleet/index.ts', import.meta.url).pathname,
  'rxssh/queue': new URL('./lib/queue/index.ts', import.meta.url).pathname,
  rxssh: new URL('./lib/index.ts', import.meta.url).pathname,
};

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['spec/**/*.spec.ts'],
    // The run's own TMPDIR first (removed last), then the suite's sshd.
    globalSetup: ['spec/helpers/temp-root.ts', 'spec/integration/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A skipped or focused test checks nothing: refuse them.
    allowOnly: false,
  },
});
