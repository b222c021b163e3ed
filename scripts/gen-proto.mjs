#!/usr/bin/env node
// Regenerates the protocol code for both sides from proto/:
//   TypeScript (ts-proto via buf)        -> ts/gen/
//   Python (grpcio-tools, pinned in py-worker/requirements.txt) -> py-worker/sparse_sub_worker/gen/
// `--check` generates into a temporary folder and fails if the committed code differs.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { workerPython } from "./python-path.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const TS_OUT = "ts/gen";
const PY_OUT = "py-worker/sparse_sub_worker/gen";
const PY_PROTOS = ["sparse_sub/v1/worker.proto"]; // google/rpc comes from googleapis-common-protos
const PY_PACKAGE = "sparse_sub_worker.gen";

function generate(outRoot) {
  const tsOut = join(outRoot, TS_OUT);
  const pyOut = join(outRoot, PY_OUT);
  mkdirSync(tsOut, { recursive: true });
  mkdirSync(pyOut, { recursive: true });
  const buf = join(root, "node_modules/.bin/buf");
  execFileSync(buf, ["generate", "--output", outRoot === root ? "." : outRoot], { cwd: root, stdio: "inherit" });
  execFileSync(
    workerPython(root),
    ["-m", "grpc_tools.protoc", "-Iproto", `--python_out=${pyOut}`, `--pyi_out=${pyOut}`, `--grpc_python_out=${pyOut}`, ...PY_PROTOS],
    { cwd: root, stdio: "inherit" },
  );
  // grpc_tools writes absolute-package imports (`from sparse_sub.v1 import ...`); make them
  // relative to our package so the worker needs no sys.path tricks.
  for (const file of walk(pyOut)) {
    if (!file.endsWith(".py")) continue;
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(/^from sparse_sub\.v1 import/gm, `from ${PY_PACKAGE}.sparse_sub.v1 import`));
  }
  for (const dir of [pyOut, join(pyOut, "sparse_sub"), join(pyOut, "sparse_sub/v1")]) {
    writeFileSync(join(dir, "__init__.py"), "");
  }
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function snapshot(base, dirs) {
  const files = new Map();
  for (const dir of dirs) {
    let paths = [];
    try { paths = walk(join(base, dir)); } catch { continue; }
    for (const path of paths) {
      if (path.includes("__pycache__")) continue;
      files.set(relative(base, path), readFileSync(path, "utf8"));
    }
  }
  return files;
}

if (process.argv.includes("--check")) {
  const scratch = mkdtempSync(join(tmpdir(), "sparse-sub-gen-"));
  try {
    cpSync(join(root, "proto"), join(scratch, "proto"), { recursive: true });
    generate(scratch);
    const fresh = snapshot(scratch, [TS_OUT, PY_OUT]);
    const committed = snapshot(root, [TS_OUT, PY_OUT]);
    const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter((f) => fresh.get(f) !== committed.get(f));
    if (stale.length > 0) {
      console.error(`generated protocol code is stale (run npm run gen:proto): ${stale.join(", ")}`);
      process.exit(1);
    }
    console.log("generated protocol code is up to date");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  rmSync(join(root, TS_OUT), { recursive: true, force: true });
  rmSync(join(root, PY_OUT), { recursive: true, force: true });
  generate(root);
  console.log(`wrote ${TS_OUT}/ and ${PY_OUT}/`);
}
