import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: every spec that needs neither root nor a real server (no sshd, no
 * Dropbear, no AsyncSSH, no installed tarball), for contributors without root. `npm test` runs
 * these and the integration specs. Everything else is `vitest.config.ts`'s.
 */
// One project here: the main config's two (the heavy specs alone) are about integration specs.
const shared = { ...base.test };
delete shared.projects;

export default defineConfig({
  ...base,
  test: {
    ...shared,
    include: ['spec/**/*.spec.ts'],
    exclude: ['spec/integration/**', 'spec/package/**'],
    globalSetup: ['spec/helpers/temp-root.ts'],
    maxWorkers: 2,
  },
});
