// `npm run bench -- [--device cuda] [--quick]`: builds, then runs bench/run.py with the worker's Python.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerPython } from "./python-path.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const build = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync(workerPython(root), [join(root, "bench/run.py"), ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
