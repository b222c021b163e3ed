// Languages clustered by their neuron sets: average-linkage agglomerative clustering (UPGMA,
// ml-hclust) on the distance 1 - Jaccard. The tree is written in SciPy's linkage format, so
// `scipy.cluster.hierarchy.fcluster` / `dendrogram` can re-cut or draw it.
import { agnes, type Cluster } from "ml-hclust";

export interface Clustering {
  /** SciPy linkage rows [a, b, distance, size]: ids < K are languages (plan order), id K + i is row i's cluster. */
  linkage: [number, number, number, number][];
  /** Cluster number (1-based, in order of first appearance in the plan) per language. */
  assignment: number[];
  clusters: number;
}

export function clusterLanguages(matrix: readonly number[][], clusters: number): Clustering {
  const count = matrix.length;
  if (count < 2) return { linkage: [], assignment: matrix.map(() => 1), clusters: count };
  const distances = matrix.map((row, i) => row.map((similarity, j) => (i === j ? 0 : 1 - similarity)));
  const tree = agnes(distances, { method: "average", isDistanceMatrix: true });
  const linkage = linkageRows(tree, count);
  const assignment = cutInto(linkage, count, Math.min(Math.max(clusters, 1), count));
  return { linkage, assignment, clusters: new Set(assignment).size };
}

/** Post-order walk: children get ids before their parent, merges in ascending height. */
function linkageRows(tree: Cluster, count: number): [number, number, number, number][] {
  const merges: { node: Cluster; a: Cluster; b: Cluster }[] = [];
  const visit = (node: Cluster) => {
    if (node.isLeaf) return;
    for (const child of node.children) visit(child);
    // a node with more than two children (equal heights) becomes a chain of binary merges; each
    // row of the chain gives the node its next id, so the following row and the parent read the last
    let left = node.children[0];
    for (const right of node.children.slice(1)) {
      merges.push({ node, a: left, b: right });
      left = node;
    }
  };
  visit(tree);
  merges.sort((x, y) => x.node.height - y.node.height); // stable: children stay before parents at equal height
  const ids = new Map<Cluster, number>();
  const sizes = new Map<Cluster, number>();
  const idOf = (node: Cluster) => (node.isLeaf ? node.index : ids.get(node)!);
  const sizeOf = (node: Cluster) => (node.isLeaf ? 1 : sizes.get(node)!);
  return merges.map(({ node, a, b }, row) => {
    const [first, second] = [idOf(a), idOf(b)].sort((x, y) => x - y);
    ids.set(node, count + row);
    sizes.set(node, sizeOf(a) + sizeOf(b));
    return [first, second, node.height, sizes.get(node)!];
  });
}

/** fcluster(..., criterion="maxclust"): undo the last merges until `clusters` groups remain. */
function cutInto(linkage: [number, number, number, number][], count: number, clusters: number): number[] {
  const parent = Array.from({ length: count + linkage.length }, (_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  linkage.slice(0, count - clusters).forEach(([a, b], row) => {
    parent[root(a)] = count + row;
    parent[root(b)] = count + row;
  });
  const numbers = new Map<number, number>();
  return Array.from({ length: count }, (_, i) => {
    const r = root(i);
    if (!numbers.has(r)) numbers.set(r, numbers.size + 1);
    return numbers.get(r)!;
  });
}
