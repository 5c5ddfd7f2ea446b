import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: every spec that needs neither root nor a real server (no sshd, no
 * Dropbear, no AsyncSSH, no installed tarball), for contributors without root. `npm test` runs
 * these and the integration specs.
 */
export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    exclude: ['spec/integration/**', 'spec/package/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    allowOnly: false,
  },
});
