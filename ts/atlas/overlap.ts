// How languages' neuron sets relate: Jaccard overlap of every pair, each language's nearest
// languages, and the neurons that several languages share. Sets are compared as whole
// (layer, neuron) pairs: neuron 7 of layer 3 is not neuron 7 of layer 4.

export interface LanguageNeurons {
  code: string;
  layers: number[][]; // per layer, ascending neuron indices
}

const LAYER_STRIDE = 1 << 21; // > any intermediate size: (layer, neuron) -> one sortable number

/** The set as ascending (layer, neuron) keys. */
export function neuronKeys(set: LanguageNeurons): number[] {
  return set.layers.flatMap((indices, layer) => indices.map((neuron) => layer * LAYER_STRIDE + neuron));
}

/** |A ∩ B| of two ascending key lists. */
export function intersectionSize(a: readonly number[], b: readonly number[]): number {
  let [i, j, shared] = [0, 0, 0];
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return shared;
}

/** |A ∩ B| / |A ∪ B|; 0 when both are empty (nothing shared, nothing to compare). */
export function jaccard(a: readonly number[], b: readonly number[]): number {
  const shared = intersectionSize(a, b);
  const union = a.length + b.length - shared;
  return union === 0 ? 0 : shared / union;
}

/** Symmetric K x K Jaccard matrix, 1 on the diagonal (0 for an empty set). */
export function overlapMatrix(sets: readonly LanguageNeurons[]): number[][] {
  const keys = sets.map(neuronKeys);
  const matrix = keys.map(() => new Array<number>(keys.length).fill(0));
  for (let i = 0; i < keys.length; i++) {
    matrix[i][i] = keys[i].length > 0 ? 1 : 0;
    for (let j = i + 1; j < keys.length; j++) matrix[i][j] = matrix[j][i] = jaccard(keys[i], keys[j]);
  }
  return matrix;
}

export interface Neighbour {
  language: string;
  rank: number; // 1 = most overlapping
  neighbour: string;
  jaccard: number;
}

/** Each language's `count` most overlapping others (ties: plan order), skipping zero overlap. */
export function nearestLanguages(codes: readonly string[], matrix: readonly number[][], count: number): Neighbour[] {
  return codes.flatMap((language, i) =>
    codes
      .map((neighbour, j) => ({ neighbour, j, jaccard: matrix[i][j] }))
      .filter(({ j, jaccard }) => j !== i && jaccard > 0)
      .sort((a, b) => b.jaccard - a.jaccard || a.j - b.j)
      .slice(0, count)
      .map(({ neighbour, jaccard }, rank) => ({ language, rank: rank + 1, neighbour, jaccard })),
  );
}

export interface SharedNeuron {
  layer: number;
  neuron: number;
  languages: string[]; // plan order
}

/** Neurons in the sets of at least `minimum` languages, most shared first (then by layer, neuron). */
export function sharedNeurons(sets: readonly LanguageNeurons[], minimum = 2): SharedNeuron[] {
  const owners = new Map<number, string[]>();
  for (const set of sets) {
    for (const key of neuronKeys(set)) {
      const list = owners.get(key);
      if (list) list.push(set.code);
      else owners.set(key, [set.code]);
    }
  }
  return [...owners]
    .filter(([, languages]) => languages.length >= minimum)
    .sort((a, b) => b[1].length - a[1].length || a[0] - b[0])
    .map(([key, languages]) => ({ layer: Math.floor(key / LAYER_STRIDE), neuron: key % LAYER_STRIDE, languages }));
}
