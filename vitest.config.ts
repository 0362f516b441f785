import { defineConfig } from "vitest/config";

// Two projects: unit tests need no server; integration tests share one local control plane per
// run, started by the global setup (test/cluster/global-setup.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts"],
          // Some unit tests spawn the CLI or run property checks; on 2 busy cores 5 s is too short.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/cluster/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
