import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each project names its files (a root `include` would be merged into both).
    exclude: ['node_modules/**', 'dist/**'],
    pool: 'forks',
    // Generous: child-process and rebuild tests run slowly when the two cores are busy.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Two cores: a little parallelism across files, each file with its own schema and key prefix.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'core', include: ['**/*.test.ts'], exclude: ['**/*.kafka.test.ts', '**/*.browser.test.ts'] },
      },
      // Headless Chromium: the global setup installs Debian's chromium package when it is missing.
      {
        extends: true,
        test: { name: 'browser', include: ['**/*.browser.test.ts'], globalSetup: ['test/browser.global-setup.ts'] },
      },
      // Against a real broker: the global setup starts scripts/kafka.sh only when one of these files runs.
      {
        extends: true,
        test: { name: 'kafka', include: ['**/*.kafka.test.ts'], globalSetup: ['test/kafka.global-setup.ts'] },
      },
    ],
  },
});
