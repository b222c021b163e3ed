// evaluation.steering: per (pair, strength), greedy generations from openings of the `from`
// language's held-out text, base and steered, each output's language identified on the worker.
import type { SteerResult } from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { steerRequest } from "../plan/requests.js";
import { steeringRuns } from "../plan/steering.js";
import type { BuildContext, NeuronSetJobs } from "./build-context.js";
import { corpusFiles } from "./build-context.js";
import { defineJob, type Job } from "./graph.js";

export function steeringJobs(build: BuildContext, neurons: NeuronSetJobs): Job[] {
  const { plan, corpora, layout, wireId, progress, fingerprint, stage, baseModel } = build;
  const mean = plan.evaluation.steering?.mode === "mean";
  return steeringRuns(plan).map((run) => {
    const id = jobIds.steer(run.from, run.to, run.strength, run.control);
    const sets = { off: neurons.path(run.from), boost: neurons.path(run.to), boostCounts: layout.activations(run.to) };
    const request = (jobId: string) => steerRequest(plan, jobId, corpora, run, sets);
    const source = corpora.find((c) => c.code === run.from)!;
    return defineJob<SteerResult>({
      id,
      deps: [...new Set([...neurons.depsOf(run.from), ...neurons.depsOf(run.to), ...(mean ? [jobIds.collect(run.to)] : [])])],
      model: baseModel,
      key: () => fingerprint(request(""), [...corpusFiles(source.heldout ?? source.train), ...neurons.userFiles(run.from), ...neurons.userFiles(run.to)]),
      run: ({ worker, signal }) => stage(worker, request(wireId(id)), (r) => worker.client.steer(r, { signal, onProgress: progress(id) })),
    });
  });
}
