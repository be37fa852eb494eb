import { defineConfig } from "vitest/config";

// Two tiers: unit tests sit beside the code (src/**/*.test.ts) and need nothing running;
// integration tests (test/**/*.test.ts) talk to the real Redis and the real S3 server.
export default defineConfig({
  test: {
    reporters: ["default", "./vitest.summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "bench/src/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/test/chaos/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file gets its own queue prefix, but the machine has 2 cores: keep it calm.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      {
        // Kills workers, Redis and the S3 gateway: run alone (`pnpm test:chaos`), never beside
        // the other integration tests that share the S3 server.
        test: {
          name: "chaos",
          include: ["services/*/test/chaos/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
