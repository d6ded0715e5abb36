import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'config/**/*.test.ts', 'cli/**/*.test.ts', 'serving/**/*.test.ts', 'test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          // The real workflows on Temporal's time-skipping test server (Java; no stack needed):
          // hours of timers in seconds of wall time. A server per test; files one after another.
          name: 'workflows',
          include: ['test/workflows/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Their own database and Temporal namespace; their MLflow models deleted at the end.
          globalSetup: ['test/integration/helpers/global-setup.ts'],
          // SDK logs at WARN: a run shows what failed, not every worker state change.
          setupFiles: ['test/integration/helpers/quiet-runtime.ts'],
          // One real stack is shared by every file: run files one after another.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
