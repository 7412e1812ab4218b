import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tools/ground/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two Kafka brokers share two cores: files run one at a time, tests inside a file in order.
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
