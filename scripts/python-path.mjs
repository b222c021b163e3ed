// Where the worker's Python interpreter lives: the virtualenv that `npm install` provisions,
// or SPARSE_SUB_PYTHON when the user brings their own environment (e.g. a GPU box).
import { existsSync } from "node:fs";
import { join } from "node:path";

export function workerPython(root) {
  if (process.env.SPARSE_SUB_PYTHON && process.env.SPARSE_SUB_VENV === "none") return process.env.SPARSE_SUB_PYTHON;
  const venvPython = join(root, "py-worker/.venv/bin/python");
  if (!existsSync(venvPython)) {
    throw new Error(`worker virtualenv missing at ${venvPython}: run \`npm install\` (or node scripts/setup-python.mjs)`);
  }
  return venvPython;
}
