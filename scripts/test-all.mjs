#!/usr/bin/env node
// `npm test`: builds the controller, runs pytest (worker) and vitest (controller, including
// integration tests over the real worker), and ends with one line summing both:
//   N passed, N failed[, N skipped]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerPython } from "./python-path.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const reports = mkdtempSync(join(tmpdir(), "sparse-sub-test-"));
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status;

const totals = { passed: 0, failed: 0, skipped: 0 };
let crashed = false;

if (run("npm", ["run", "--silent", "build"]) !== 0) {
  console.error("build failed");
  crashed = true;
}

// pytest: counts from its JUnit XML
const junit = join(reports, "pytest.xml");
const pytestStatus = run(workerPython(root), ["-m", "pytest", "py-worker/tests", "-q", "-p", "no:cacheprovider", `--junitxml=${junit}`]);
if (existsSync(junit)) {
  const suite = /<testsuite [^>]*>/.exec(readFileSync(junit, "utf8"))?.[0] ?? "";
  const attr = (name) => Number(new RegExp(`${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const failed = attr("failures") + attr("errors");
  totals.failed += failed;
  totals.skipped += attr("skipped");
  totals.passed += attr("tests") - failed - attr("skipped");
} else {
  crashed = true;
}
if (pytestStatus !== 0 && pytestStatus !== 1) crashed = true; // 1 = some tests failed (counted above)

// vitest: counts from its JSON report
const vitestJson = join(reports, "vitest.json");
const vitestStatus = run(join(root, "node_modules/.bin/vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, "utf8"));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  if (report.numFailedTestSuites > 0 && report.numFailedTests === 0) crashed = true; // a file failed to load
} else {
  crashed = true;
}
if (vitestStatus !== 0 && totals.failed === 0) crashed = true;

if (crashed) totals.failed = Math.max(totals.failed, 1);
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}`);
process.exit(totals.failed > 0 ? 1 : 0);
