import { defineConfig } from 'vitest/config';

// Examples import 'rxssh' as a user would; inside the repo that is the source.
const alias = {
  'rxssh/testing': new URL('./lib/testing/index.ts', import.meta.url).pathname,
  rxssh: new URL('./lib/index.ts', import.meta.url).pathname,
};

/**
 * `npm run test:unit`: every spec that needs neither root nor a real server (no sshd, no
 * Dropbear, no AsyncSSH, no installed tarball), for contributors without root. `npm test` runs
 * these and the integration specs.
 */
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['spec/**/*.spec.ts'],
    exclude: ['spec/integration/**', 'spec/package/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    allowOnly: false,
  },
});
