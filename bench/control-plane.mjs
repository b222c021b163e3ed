// Controller cost of a big plan, printed as one JSON line: expanding 100 languages x 6 methods
// into jobs (parse, corpora, jobs, resume keys). The RPC's cost per job is bench/control_plane.py.
// Needs `npm run build` (imports dist/). Usage: node bench/control-plane.mjs
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareCorpora } from "../dist/corpora/prepare.js";
import { pipelineJobs, runLayout } from "../dist/pipeline/jobs.js";
import { validateGraph } from "../dist/pipeline/graph.js";
import { parsePlan } from "../dist/plan/load.js";

function planExpansion() {
  const languages = Array.from({ length: 100 }, (_, i) => ({
    code: `l${i}`,
    train: { hub_dataset: { name: "cis-lmu/GlotCC-V1", config: `l${i}-Latn`, text_field: "content" } },
    heldout: { hub_dataset: { name: "openlanguagedata/flores_plus", config: `l${i}_Latn`, split: "dev", text_field: "text" } },
  }));
  const methods = ["sparse", "random", "ffn", "full", "lora", "ia3"];
  const start = performance.now();
  const { plan } = parsePlan({ name: "big", model: { source: "meta-llama/Llama-3.1-8B" }, languages, training: { targets: languages.map((l) => l.code), methods } }, tmpdir());
  const { corpora } = prepareCorpora(plan.languages, join(tmpdir(), "unused"));
  const jobs = pipelineJobs({ plan, corpora, layout: runLayout("/tmp/big"), runId: "bench", onProgress: () => {} });
  validateGraph(jobs);
  for (const job of jobs) job.key();
  return { languages: 100, methods: methods.length, jobs: jobs.length, seconds: (performance.now() - start) / 1000 };
}

console.log(JSON.stringify({ plan_expansion: planExpansion() }));
