// The unit suites Stryker runs each mutant against (stryker.config.json): the ones that start no
// worker, so a mutant takes seconds, not minutes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/plan.test.ts", "test/jobs.test.ts", "test/graph.test.ts", "test/results.test.ts", "test/tasks.test.ts", "test/run-directory.test.ts", "test/steer.test.ts", "test/search-tables.test.ts", "test/atlas.test.ts", "test/deactivation.test.ts", "test/stage-tables.test.ts"],
    testTimeout: 60_000,
  },
});
