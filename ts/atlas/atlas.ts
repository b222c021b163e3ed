// The language atlas of a run: from every language's neuron set (and, per subset, the sets LAPE
// chose over only those languages) to files pandas reads, in <run>/atlas/ (README "The atlas").
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../atomic-files.js";
import { toCsv } from "../csv.js";
import { clusterLanguages } from "./clusters.js";
import { intersectionSize, jaccard, nearestLanguages, neuronKeys, overlapMatrix, sharedNeurons, type LanguageNeurons } from "./overlap.js";

export interface AtlasLanguage {
  code: string;
  name?: string;
  tokens?: number; // tokens counted for its activations (absent for imported sets)
  setPath: string; // its sparse-sub JSON neuron set
}

export interface AtlasInput {
  dir: string; // <run>/atlas
  languages: AtlasLanguage[];
  subsets: { name: string; sets: { code: string; setPath: string }[] }[];
  nearest: number;
  clusters?: number;
}

export interface AtlasSummary {
  dir: string;
  languages: number;
  clusters: number;
  neurons: { min: number; median: number; max: number; total_unique: number };
  empty: string[]; // languages LAPE gave no neuron
  most_similar: { a: string; b: string; jaccard: number; shared: number }[]; // the closest pairs (ties: more neurons shared first)
  subsets: { name: string; languages: number; mean_jaccard_with_all: number }[];
  files: string[]; // relative to dir
}

/** The atlas job's result (results.json "atlas"). */
export interface AtlasResult extends AtlasSummary {
  reference_path: string; // every language's set, List[language][layer] -> LongTensor, plan order
  reference_languages: string[];
}

export const ATLAS_FILES = ["languages.csv", "layers.csv", "overlap.csv", "nearest.csv", "clusters.csv", "linkage.csv", "shared.csv", "summary.json"] as const;

export function readNeuronSet(path: string, code: string): LanguageNeurons {
  const data = JSON.parse(readFileSync(path, "utf8")) as { layers?: unknown };
  if (!Array.isArray(data.layers)) throw new Error(`${path}: not a sparse-sub neuron set (no 'layers')`);
  return { code, layers: data.layers as number[][] };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function writeAtlas(input: AtlasInput): AtlasSummary {
  const sets = input.languages.map((l) => readNeuronSet(l.setPath, l.code));
  const codes = sets.map((s) => s.code);
  const matrix = overlapMatrix(sets);
  const clustering = clusterLanguages(matrix, input.clusters ?? Math.max(1, Math.round(Math.sqrt(codes.length))));
  const nearest = nearestLanguages(codes, matrix, input.nearest);
  const counts = sets.map((s) => s.layers.map((l) => l.length));
  const totals = counts.map((perLayer) => perLayer.reduce((a, b) => a + b, 0));
  const numLayers = Math.max(0, ...sets.map((s) => s.layers.length));

  const subsetRows = input.subsets.flatMap((subset) =>
    subset.sets.map(({ code, setPath }) => {
      const own = readNeuronSet(setPath, code);
      const all = sets[codes.indexOf(code)];
      return { subset: subset.name, language: code, neurons: neuronKeys(own).length, neurons_all: neuronKeys(all).length, jaccard_with_all: round(jaccard(neuronKeys(own), neuronKeys(all))), layers: own.layers };
    }),
  );

  const write = (file: string, text: string) => writeFileAtomic(join(input.dir, file), text);
  write("languages.csv", toCsv(["language", "name", "tokens", "neurons", "layers_with_neurons", "mean_depth", "cluster", "nearest", "nearest_jaccard"],
    input.languages.map((l, i) => {
      const first = nearest.find((n) => n.language === l.code && n.rank === 1);
      const depth = totals[i] > 0 ? counts[i].reduce((sum, c, layer) => sum + c * (layer / Math.max(numLayers - 1, 1)), 0) / totals[i] : undefined;
      return { language: l.code, name: l.name, tokens: l.tokens, neurons: totals[i], layers_with_neurons: counts[i].filter((c) => c > 0).length,
        mean_depth: depth === undefined ? undefined : round(depth), cluster: clustering.assignment[i], nearest: first?.neighbour, nearest_jaccard: first ? round(first.jaccard) : undefined };
    })));
  write("layers.csv", toCsv(["selection", "language", "layer", "neurons"], [
    ...counts.flatMap((perLayer, i) => perLayer.map((neurons, layer) => ({ selection: "all", language: codes[i], layer, neurons }))),
    ...subsetRows.flatMap((r) => r.layers.map((indices, layer) => ({ selection: r.subset, language: r.language, layer, neurons: indices.length }))),
  ]));
  write("overlap.csv", toCsv(["language", ...codes], codes.map((code, i) => ({ language: code, ...Object.fromEntries(codes.map((other, j) => [other, round(matrix[i][j])])) }))));
  write("nearest.csv", toCsv(["language", "rank", "neighbour", "jaccard"], nearest.map((n) => ({ ...n, jaccard: round(n.jaccard) }))));
  write("clusters.csv", toCsv(["language", "cluster"], codes.map((language, i) => ({ language, cluster: clustering.assignment[i] }))));
  write("linkage.csv", toCsv(["a", "b", "distance", "size"], clustering.linkage.map(([a, b, distance, size]) => ({ a, b, distance: round(distance), size }))));
  const shared = sharedNeurons(sets);
  write("shared.csv", toCsv(["layer", "neuron", "languages", "codes"], shared.map((n) => ({ layer: n.layer, neuron: n.neuron, languages: n.languages.length, codes: n.languages.join(" ") }))));
  const files: string[] = [...ATLAS_FILES];
  if (subsetRows.length > 0) {
    write("subsets.csv", toCsv(["subset", "language", "neurons", "neurons_all", "jaccard_with_all"], subsetRows));
    files.push("subsets.csv");
  }

  // ties (common among languages with a neuron or two) go to the pair sharing more neurons
  const keys = sets.map(neuronKeys);
  const pairs = codes.flatMap((a, i) => codes.slice(i + 1).map((b, k) => ({ a, b, jaccard: round(matrix[i][i + 1 + k]), shared: intersectionSize(keys[i], keys[i + 1 + k]) })));
  const summary: AtlasSummary = {
    dir: input.dir,
    languages: codes.length,
    clusters: clustering.clusters,
    neurons: { min: Math.min(...totals), median: median(totals), max: Math.max(...totals), total_unique: new Set(sets.flatMap(neuronKeys)).size },
    empty: codes.filter((_, i) => totals[i] === 0),
    most_similar: pairs.sort((x, y) => y.jaccard - x.jaccard || y.shared - x.shared).slice(0, 10),
    subsets: input.subsets.map((s) => {
      const rows = subsetRows.filter((r) => r.subset === s.name);
      return { name: s.name, languages: rows.length, mean_jaccard_with_all: round(rows.reduce((sum, r) => sum + r.jaccard_with_all, 0) / Math.max(rows.length, 1)) };
    }),
    files,
  };
  writeJsonAtomic(join(input.dir, "summary.json"), summary);
  return summary;
}
