// evaluation.deactivation: per language, held-out perplexity of every language with that
// language's neurons switched off, and with a random set of the same size per layer (the
// control). The base evaluation gives the "no intervention" column the results compare with.
import type { EvaluateResult } from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { deactivationLanguages, randomControl } from "../plan/deactivation.js";
import { deactivationRequest } from "../plan/requests.js";
import type { BuildContext, NeuronSetJobs } from "./build-context.js";
import { defineJob, type Job } from "./graph.js";

export function deactivationJobs(build: BuildContext, neurons: NeuronSetJobs): Job[] {
  const { plan, corpora, wireId, progress, fingerprint, stage, baseModel, evaluationFiles } = build;
  const controls = randomControl(plan) ? (["language", "random"] as const) : (["language"] as const);
  return deactivationLanguages(plan).flatMap((language) =>
    controls.map((control) => {
      const id = jobIds.deactivate(language, control);
      const request = (jobId: string) => deactivationRequest(plan, jobId, corpora, neurons.path(language), control === "random");
      return defineJob<EvaluateResult>({
        id,
        deps: neurons.deps,
        model: baseModel,
        key: () => fingerprint(request(""), [...evaluationFiles, ...neurons.userFiles(language)]),
        run: ({ worker, signal }) => stage(worker, request(wireId(id)), (r) => worker.client.evaluate(r, { signal, onProgress: progress(id) })),
      });
    }),
  );
}
