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
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Their own database and Temporal namespace; their MLflow models deleted at the end.
          globalSetup: ['test/integration/helpers/global-setup.ts'],
          // One real stack is shared by every file: run files one after another.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
