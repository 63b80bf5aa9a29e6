import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["libs/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["libs/testkit/src/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real processes; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
