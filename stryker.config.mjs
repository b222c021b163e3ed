// Mutation testing of the controller (`npm run mutation`, scripts/mutation.mjs): the plan, job
// graph and results code against the unit suites in stryker.vitest.config.ts. Not in CI: a
// full run takes tens of minutes on 2 cores.
export default {
  testRunner: "vitest",
  vitest: { configFile: "stryker.vitest.config.ts" },
  coverageAnalysis: "perTest", // each mutant runs only the tests that reach it
  // Static mutants (module-level code: method definitions, schemas, lookup tables) are never
  // active under the vitest runner, which evaluates each module once: they all "survived", even
  // ones whose tests fail when the same change is made by hand (ffn's definition, a metric
  // title). Ignored here, so the kill rate counts only mutants the tests could see.
  ignoreStatic: true,
  mutate: [
    "ts/plan/schema.ts",
    "ts/plan/methods/*.ts",
    "ts/plan/tasks.ts",
    "ts/pipeline/jobs.ts",
    "ts/pipeline/graph.ts",
    "ts/results/records.ts",
    "ts/results/paper.ts",
    "ts/results/table.ts",
    "ts/results/deactivation.ts",
    "ts/results/steering.ts",
    "ts/results/search-tables.ts",
    "ts/results/stage-tables.ts",
    "ts/plan/selection-search.ts",
    "ts/plan/steering.ts",
    "ts/atlas/*.ts",
  ],
  // the sandbox copies the project: not the worker's virtualenv, runs or build outputs
  ignorePatterns: ["py-worker", "runs", "dist", ".cache", "bench/results"],
  disableTypeChecks: "ts/**/*.ts",
  concurrency: 2,
  timeoutMS: 5_000, // a mutant that hangs the job graph counts as killed; no need to wait long
  reporters: ["json", "progress"],
  jsonReporter: { fileName: ".cache/mutation/stryker.json" },
  tempDirName: ".cache/stryker-tmp",
  cleanTempDir: "always",
};
