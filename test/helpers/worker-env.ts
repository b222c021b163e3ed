// Shared by integration tests: the project's worker Python and a tiny random-init Llama whose
// tokenizer is trained on UDHR text (made by the worker's own testing module).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { readDeclaration, splitDeclaration } from "../../ts/corpora/udhr.js";
import { PACKAGE_ROOT } from "../../ts/package-info.js";
import { workerPython } from "../../ts/worker/launch.js";

export const python = workerPython();

/** Runs Python in the worker's environment. */
export function runPython(args: string[]) {
  return execa(python, args, { cwd: join(PACKAGE_ROOT, "py-worker"), env: { PYTHONPATH: join(PACKAGE_ROOT, "py-worker") } });
}

/** Runs a command of test/helpers/fixtures.py (the tests' Python side) and parses what it prints. */
export async function runFixture<T = unknown>(command: string, ...args: string[]): Promise<T> {
  const { stdout } = await runPython([join(PACKAGE_ROOT, "test/helpers/fixtures.py"), command, ...args]);
  const last = stdout.trim().split("\n").at(-1);
  return (last ? JSON.parse(last) : undefined) as T;
}

export async function makeTinyModel(udhrIds: string[], options: { layers?: number; hidden?: number; intermediate?: number; seed?: number } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "sparse-sub-tiny-"));
  const textFile = join(dir, "tokenizer-text.txt");
  writeFileSync(textFile, udhrIds.flatMap((id) => splitDeclaration(readDeclaration(id), [30]).train).join("\n"));
  const out = join(dir, "model");
  await runPython([
    "-m", "sparse_sub_worker.testing.tiny_model", "--out", out, "--text", textFile,
    "--layers", String(options.layers ?? 2), "--hidden", String(options.hidden ?? 32),
    "--intermediate", String(options.intermediate ?? 64), "--vocab-size", "400", "--seed", String(options.seed ?? 0),
  ]);
  return out;
}
