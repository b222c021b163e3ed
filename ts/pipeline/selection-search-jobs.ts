// identification lists (top_rate, filter_rate, activation_bar_ratio): LAPE once per candidate
// combination over the same counts, then per target a short training on each candidate's set
// (same text, steps, seed and method) and a choice: the candidate whose held-out validation loss
// after those steps is lowest becomes the target's set (neurons/<target>.json) for every method.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-files.js";
import { SparseSubError } from "../errors.js";
import type { SelectNeuronsResponse, TrainResult } from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { methodLabel, processesOf } from "../plan/methods/index.js";
import { searchTrainRequest, selectRequest } from "../plan/requests.js";
import { searchMethod, selectionCandidates, type CandidateTraining, type SelectionCandidate, type SelectionChoice } from "../plan/selection-search.js";
import { corpusFiles, type BuildContext, type NeuronSetJobs } from "./build-context.js";
import { defineJob, type Job } from "./graph.js";

export function selectionSearchJobs(build: BuildContext): { jobs: Job[]; neurons: Omit<NeuronSetJobs, "jobs"> } {
  const { plan, corpora, layout } = build;
  const candidates = selectionCandidates(plan.identification!);
  const countsFiles = corpora.map((c) => ({ language: c.code, path: layout.activations(c.code) }));
  const jobs: Job[] = candidates.map((candidate) => candidateSelectionJob(build, candidate, countsFiles));
  for (const target of plan.training.targets) {
    const trainings = candidates.map((candidate) => candidateTrainingJob(build, target, candidate));
    jobs.push(...trainings, chooseJob(build, target, candidates));
  }
  const choices = plan.training.targets.map((t) => jobIds.chooseSelection(t));
  return {
    jobs,
    neurons: {
      path: (language) => join(layout.neurons, `${language}.json`),
      deps: choices,
      depsOf: (language) => (plan.training.targets.includes(language) ? [jobIds.chooseSelection(language)] : []),
      userFiles: () => [],
    },
  };
}

function candidateSelectionJob({ plan, wireId, fingerprint, stage, exists, layout }: BuildContext, candidate: SelectionCandidate, counts: { language: string; path: string }[]): Job {
  const id = jobIds.selectCandidate(candidate.id);
  const request = () => selectRequest(plan, wireId(id), counts, layout.candidateNeurons(candidate.id), candidate);
  return defineJob<SelectNeuronsResponse>({
    id,
    deps: counts.map((c) => jobIds.collect(c.language)),
    key: () => fingerprint(request()),
    reusable: (r) => r.neuronSets.every((s) => exists(s.path)),
    run: ({ worker }) => stage(worker, request(), (r) => worker.client.selectNeurons(r)),
  });
}

function candidateTrainingJob(build: BuildContext, target: string, candidate: SelectionCandidate): Job {
  const { plan, corpora, layout, wireId, progress, fingerprint, stage, baseModel } = build;
  const language = corpora.find((c) => c.code === target)!;
  const spec = searchMethod(plan.training.methods, plan.training.selection_search!.method)!;
  const id = jobIds.searchTrain(target, candidate.id);
  const setPath = join(layout.candidateNeurons(candidate.id), `${target}.json`);
  const outputs = { outputPath: layout.searchPack(target, candidate.id), drawnNeuronSetPath: "", checkpointPath: layout.searchCheckpoint(target, candidate.id) };
  const request = () => searchTrainRequest(plan, wireId(id), language, spec, setPath, outputs);
  return defineJob<CandidateTraining>({
    id,
    deps: [jobIds.selectCandidate(candidate.id)],
    processes: processesOf(spec),
    model: baseModel,
    key: () => fingerprint(request(), corpusFiles(language.train, language.heldout)),
    run: async ({ worker, signal, result }) => {
      const selected = result<SelectNeuronsResponse>(jobIds.selectCandidate(candidate.id)).neuronSets.find((s) => s.language === target);
      const neurons = Number(selected?.neuronCount ?? 0);
      if (neurons === 0) return { candidate: candidate.id, neurons, validation_loss: null, steps: 0, seconds: 0 }; // nothing to train
      const trained = await stage(worker, request(), (r) => worker.client.train(r, { signal, onProgress: progress(id) }));
      return { candidate: candidate.id, neurons, validation_loss: lastValidationLoss(trained), steps: trained.steps, seconds: trained.seconds };
    },
  });
}

const lastValidationLoss = (trained: TrainResult): number | null => trained.validationLoss.at(-1)?.loss ?? null;

function chooseJob(build: BuildContext, target: string, candidates: SelectionCandidate[]): Job {
  const { plan, layout, fingerprint, exists } = build;
  const spec = searchMethod(plan.training.methods, plan.training.selection_search!.method)!;
  const path = join(layout.neurons, `${target}.json`);
  return defineJob<SelectionChoice>({
    id: jobIds.chooseSelection(target),
    deps: candidates.map((c) => jobIds.searchTrain(target, c.id)),
    key: () => fingerprint({ target, candidates: candidates.map((c) => c.id), path }),
    reusable: () => exists(path),
    run: async ({ result }) => {
      const points = candidates.map((c) => {
        const trained = result<CandidateTraining>(jobIds.searchTrain(target, c.id));
        return { ...c, neurons: trained.neurons, validation_loss: trained.validation_loss };
      });
      const chosen = bestCandidate(points);
      if (!chosen) {
        throw new SparseSubError("PLAN_INVALID", `no candidate selection gives ${target} any neurons`, {
          issues: [{ path: "identification.top_rate", message: `every candidate leaves ${target} without neurons: raise top_rate` }],
        });
      }
      writeFileAtomic(path, readFileSync(join(layout.candidateNeurons(chosen.id), `${target}.json`)));
      return { language: target, method: methodLabel(spec), steps: plan.training.selection_search!.steps, chosen: chosen.id, candidates: points };
    },
  });
}

/** Lowest validation loss; a tie goes to the candidate listed first. Candidates not trained are out. */
export function bestCandidate<T extends { validation_loss: number | null }>(points: T[]): T | undefined {
  let best: T | undefined;
  for (const point of points) {
    if (point.validation_loss === null || !Number.isFinite(point.validation_loss)) continue;
    if (!best || point.validation_loss < best.validation_loss!) best = point;
  }
  return best;
}
