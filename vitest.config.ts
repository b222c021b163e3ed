import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // integration suites each start real Python workers: keep files sequential on 2 cores
    fileParallelism: false,
  },
});
