// The atlas stage (plan "atlas"): LAPE again over each named subset's counts, then one job that
// writes <run>/atlas/ (overlap, nearest languages, clusters, shared neurons; see atlas/atlas.ts)
// and every language's set in the reference torch.save format.
import { join } from "node:path";
import type { CollectActivationsResult, SelectNeuronsResponse } from "../gen/sparse_sub/v1/worker.js";
import { jobIds } from "../ids.js";
import { exportRequest, selectRequest } from "../plan/requests.js";
import { readNeuronSet, writeAtlas, type AtlasResult } from "../atlas/atlas.js";
import type { BuildContext, NeuronSetJobs } from "./build-context.js";
import { defineJob, type Job } from "./graph.js";

export const REFERENCE_EXPORT = "language_neurons.pt";
const EXPORT_OUTPUTS: ReadonlySet<string> = new Set(["referencePath"]);

export function atlasJobs(build: BuildContext, neurons: NeuronSetJobs): Job[] {
  const { plan, corpora, layout, wireId, fingerprint, stage, exists } = build;
  const atlas = plan.atlas!;
  const subsets = Object.entries(atlas.subsets);
  const subsetJobs = subsets.map(([name, members]) => {
    const id = jobIds.selectSubset(name);
    const counts = members.map((code) => ({ language: code, path: layout.activations(code) }));
    const request = () => selectRequest(plan, wireId(id), counts, layout.subsetNeurons(name));
    return defineJob<SelectNeuronsResponse>({
      id,
      deps: members.map((code) => jobIds.collect(code)),
      key: () => fingerprint(request()),
      reusable: (r) => r.neuronSets.every((s) => exists(s.path)),
      run: ({ worker }) => stage(worker, request(), (r) => worker.client.selectNeurons(r)),
    });
  });

  const codes = corpora.map((c) => c.code).filter((code) => neurons.path(code) !== undefined);
  const collected = !plan.neuron_sets;
  const referencePath = join(layout.atlas, REFERENCE_EXPORT);
  const atlasJob = defineJob<AtlasResult>({
    id: jobIds.atlas,
    deps: [...neurons.deps, ...subsetJobs.map((j) => j.id), ...(collected ? codes.map((c) => jobIds.collect(c)) : [])],
    key: () => fingerprint({ atlas, codes, referencePath }, codes.flatMap((c) => neurons.userFiles(c))),
    reusable: (r) => r.files.every((f) => exists(join(r.dir, f))) && exists(r.reference_path),
    run: async ({ worker, result }) => {
      const summary = writeAtlas({
        dir: layout.atlas,
        languages: codes.map((code) => ({
          code,
          name: corpora.find((c) => c.code === code)?.name,
          tokens: collected ? Number(result<CollectActivationsResult>(jobIds.collect(code)).tokenCount) : undefined,
          setPath: neurons.path(code),
        })),
        subsets: subsets.map(([name, members]) => ({ name, sets: members.map((code) => ({ code, setPath: join(layout.subsetNeurons(name), `${code}.json`) })) })),
        nearest: atlas.nearest,
        clusters: atlas.clusters,
      });
      const numLayers = readNeuronSet(neurons.path(codes[0]), codes[0]).layers.length;
      await stage(worker, exportRequest(codes, codes.map((c) => neurons.path(c)), referencePath, numLayers), (r) => worker.client.convertNeuronSet(r), EXPORT_OUTPUTS);
      return { ...summary, reference_path: referencePath, reference_languages: codes };
    },
  });
  return [...subsetJobs, atlasJob];
}
