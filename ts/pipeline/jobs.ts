// The pipeline's jobs: collect per language -> select -> train per target -> evaluate
// (base, and each target's pack). Each job builds its request with plan/requests.ts and
// returns what it produced; the files it writes live in the run directory.
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { LanguageCorpora } from "../corpora/prepare.js";
import { SparseSubError } from "../errors.js";
import type {
  CollectActivationsResult,
  ConvertNeuronSetResponse,
  EvaluateResult,
  Progress,
  SelectNeuronsResponse,
  TrainResult,
} from "../gen/sparse_sub/v1/worker.js";
import { collectRequest, evaluateRequest, importRequest, selectRequest, trainRequest } from "../plan/requests.js";
import type { Plan } from "../plan/schema.js";
import { defineJob, type Job } from "./graph.js";

export interface RunLayout {
  dir: string;
  corpora: string;
  activations: (language: string) => string;
  neurons: string;
  pack: (language: string) => string;
}

export function runLayout(dir: string): RunLayout {
  return {
    dir,
    corpora: join(dir, "corpora"),
    activations: (language) => join(dir, "activations", `${language}.safetensors`),
    neurons: join(dir, "neurons"),
    pack: (language) => join(dir, "packs", `${language}.sparse.safetensors`),
  };
}

const BASE = "evaluate:base";
export const jobIds = {
  collect: (language: string) => `collect:${language}`,
  select: "select",
  importNeurons: "import",
  train: (language: string) => `train:${language}`,
  evaluateBase: BASE,
  evaluatePack: (language: string) => `evaluate:${language}`,
};

/** A stable fingerprint of a request (job id excluded) for resume. */
function fingerprint(request: object): string {
  const { jobId: _ignored, ...rest } = request as { jobId?: string };
  return createHash("sha256").update(JSON.stringify(rest)).digest("hex").slice(0, 16);
}

export interface PipelineJobsOptions {
  plan: Plan;
  corpora: LanguageCorpora[];
  layout: RunLayout;
  runId: string; // prefixes job ids sent to workers (telemetry topics)
  onProgress: (jobId: string, progress: Progress) => void;
}

export function pipelineJobs({ plan, corpora, layout, runId, onProgress }: PipelineJobsOptions): Job[] {
  const byCode = new Map(corpora.map((c) => [c.code, c]));
  const wireId = (id: string) => `${runId}/${id}`;
  const progress = (id: string) => (p: Progress) => onProgress(id, p);
  const jobs: Job[] = [];

  const neuronSetPath = identificationJobs(plan, layout, wireId, progress, jobs, corpora);

  jobs.push(defineJob<EvaluateResult>({
    id: BASE,
    kind: "evaluate",
    deps: [],
    key: () => fingerprint(evaluateRequest(plan, "", corpora, "")),
    run: ({ worker, signal }) => worker.client.evaluate(evaluateRequest(plan, wireId(BASE), corpora, ""), { signal, onProgress: progress(BASE) }),
  }));

  for (const target of plan.training.targets) {
    const language = byCode.get(target)!;
    const trainId = jobIds.train(target);
    const request = () => trainRequest(plan, wireId(trainId), language, neuronSetPath.path(target), layout.pack(target));
    jobs.push(defineJob<TrainResult>({
      id: trainId,
      kind: "train",
      deps: neuronSetPath.deps,
      key: () => fingerprint(request()),
      reusable: (r) => existsSync(r.outputPath),
      run: ({ worker, signal }) => worker.client.train(request(), { signal, onProgress: progress(trainId) }),
    }));

    const evalId = jobIds.evaluatePack(target);
    jobs.push(defineJob<EvaluateResult>({
      id: evalId,
      kind: "evaluate",
      deps: [trainId],
      key: () => fingerprint(evaluateRequest(plan, "", corpora, layout.pack(target))),
      run: ({ worker, signal }) =>
        worker.client.evaluate(evaluateRequest(plan, wireId(evalId), corpora, layout.pack(target)), { signal, onProgress: progress(evalId) }),
    }));
  }
  return jobs;
}

/** The jobs that produce neuron sets: collect + LAPE select, or an import of a reference file,
 * or none (JSON files given). Returns where each language's set will be and what to wait for. */
function identificationJobs(
  plan: Plan,
  layout: RunLayout,
  wireId: (id: string) => string,
  progress: (id: string) => (p: Progress) => void,
  jobs: Job[],
  corpora: LanguageCorpora[],
): { path: (language: string) => string; deps: string[] } {
  const inRunDir = (language: string) => join(layout.neurons, `${language}.json`);
  const given = plan.neuron_sets;
  if (given && "files" in given) return { path: (language) => given.files[language], deps: [] };
  if (given) {
    const request = importRequest(given, layout.neurons);
    jobs.push(defineJob<ConvertNeuronSetResponse>({
      id: jobIds.importNeurons,
      kind: "select",
      deps: [],
      key: () => fingerprint({ ...request, file: fileFingerprint(given.reference_file) }),
      reusable: (r) => r.neuronSets.every((s) => existsSync(s.path)),
      run: async ({ worker }) => {
        const response = await worker.client.convertNeuronSet(request);
        const missing = plan.training.targets.filter((t) => response.missingLanguages.includes(t));
        if (missing.length > 0) {
          throw new SparseSubError("PLAN_INVALID", `${given.reference_file} holds no neurons for ${missing.join(", ")}`, {
            issues: [{ path: "neuron_sets.languages", message: `no neurons for ${missing.join(", ")} (the reference drops trailing languages without neurons)` }],
          });
        }
        return response;
      },
    }));
    return { path: inRunDir, deps: [jobIds.importNeurons] };
  }

  for (const language of corpora) {
    const id = jobIds.collect(language.code);
    const request = () => collectRequest(plan, wireId(id), language, layout.activations(language.code));
    jobs.push(defineJob<CollectActivationsResult>({
      id,
      kind: "collect",
      deps: [],
      key: () => fingerprint(request()),
      reusable: (r) => existsSync(r.outputPath),
      run: ({ worker, signal }) => worker.client.collectActivations(request(), { signal, onProgress: progress(id) }),
    }));
  }
  const countsFiles = corpora.map((c) => ({ language: c.code, path: layout.activations(c.code) }));
  const selection = () => selectRequest(plan, wireId(jobIds.select), countsFiles, layout.neurons);
  jobs.push(defineJob<SelectNeuronsResponse>({
    id: jobIds.select,
    kind: "select",
    deps: corpora.map((c) => jobIds.collect(c.code)),
    key: () => fingerprint(selection()),
    reusable: (r) => r.neuronSets.every((s) => existsSync(s.path)),
    run: ({ worker }) => worker.client.selectNeurons(selection()),
  }));
  return { path: inRunDir, deps: [jobIds.select] };
}

/** Size and modification time: enough to notice a replaced input file between runs. */
function fileFingerprint(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return "missing";
  }
}
