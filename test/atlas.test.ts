// The atlas's arithmetic on sets small enough to work out by hand.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeAtlas } from "../ts/atlas/atlas.js";
import { clusterLanguages } from "../ts/atlas/clusters.js";
import { intersectionSize, jaccard, nearestLanguages, neuronKeys, overlapMatrix, sharedNeurons } from "../ts/atlas/overlap.js";

// 2 layers. a = {0:1, 0:2, 1:5}; b = {0:2, 1:5, 1:6}; c = {1:1}; d = {} ; e = {0:1, 0:2, 1:5, 1:6}
const SETS = [
  { code: "a", layers: [[1, 2], [5]] },
  { code: "b", layers: [[2], [5, 6]] },
  { code: "c", layers: [[], [1]] },
  { code: "d", layers: [[], []] },
  { code: "e", layers: [[1, 2], [5, 6]] },
];

describe("overlap", () => {
  it("compares (layer, neuron) pairs: the same index in another layer is another neuron", () => {
    expect(jaccard(neuronKeys({ code: "x", layers: [[7], []] }), neuronKeys({ code: "y", layers: [[], [7]] }))).toBe(0);
  });

  it("counts the keys two ascending lists share, and calls two empty sets unrelated", () => {
    expect(intersectionSize([1, 3, 5], [3, 4, 5, 6])).toBe(2);
    expect(intersectionSize([3, 4, 5, 6], [1, 3, 5])).toBe(2);
    expect(intersectionSize([], [1])).toBe(0);
    expect(intersectionSize([2, 9], [1, 2, 3])).toBe(1);
    expect(jaccard([], [])).toBe(0);
    expect(jaccard([1, 2], [2, 3, 4])).toBe(1 / 4);
  });

  it("gives the Jaccard index worked out by hand", () => {
    const m = overlapMatrix(SETS);
    expect(m[0][1]).toBeCloseTo(2 / 4, 12); // a∩b = {0:2, 1:5}, a∪b = 4
    expect(m[0][4]).toBeCloseTo(3 / 4, 12);
    expect(m[1][4]).toBeCloseTo(3 / 4, 12);
    expect(m[0][2]).toBe(0);
    expect(m[3][3]).toBe(0); // an empty set overlaps nothing, not even itself
    expect(m[3][0]).toBe(0);
    expect(m[2][2]).toBe(1);
    expect(m.every((row, i) => row.every((v, j) => v === m[j][i]))).toBe(true);
  });

  it("lists nearest languages by overlap, ties in plan order, none with zero overlap", () => {
    const m = overlapMatrix(SETS);
    const near = nearestLanguages(SETS.map((s) => s.code), m, 2);
    expect(near.filter((n) => n.language === "a").map((n) => [n.neighbour, n.rank])).toEqual([["e", 1], ["b", 2]]);
    expect(near.filter((n) => n.language === "e").map((n) => n.neighbour)).toEqual(["a", "b"]); // 3/4 each: plan order
    expect(near.filter((n) => n.language === "c")).toEqual([]);
    expect(near.filter((n) => n.language === "d")).toEqual([]);
  });

  it("orders neurons shared by as many languages by layer and index, not by the order the sets list them", () => {
    // x lists 1:5 before y brings 0:1: both are shared by two languages, so 0:1 comes first
    const sets = [{ code: "x", layers: [[], [5]] }, { code: "y", layers: [[1], [5]] }, { code: "z", layers: [[1], []] }];
    expect(sharedNeurons(sets)).toEqual([{ layer: 0, neuron: 1, languages: ["y", "z"] }, { layer: 1, neuron: 5, languages: ["x", "y"] }]);
  });

  it("finds the neurons shared by several languages, most shared first", () => {
    expect(sharedNeurons(SETS)).toEqual([
      { layer: 0, neuron: 2, languages: ["a", "b", "e"] },
      { layer: 1, neuron: 5, languages: ["a", "b", "e"] },
      { layer: 0, neuron: 1, languages: ["a", "e"] },
      { layer: 1, neuron: 6, languages: ["b", "e"] },
    ]);
    expect(sharedNeurons(SETS, 3)).toHaveLength(2);
  });
});

describe("clusters", () => {
  // distances (1 - similarity): p-q 0.1, r-s 0.2, {p,q}-{r,s} average of 0.6 0.7 0.8 0.9 = 0.75
  const similarity = [
    [1, 0.9, 0.4, 0.3],
    [0.9, 1, 0.2, 0.1],
    [0.4, 0.2, 1, 0.8],
    [0.3, 0.1, 0.8, 1],
  ];

  it("merges by average linkage, written as SciPy's linkage matrix", () => {
    const { linkage } = clusterLanguages(similarity, 2);
    expect(linkage.map(([a, b, , size]) => [a, b, size])).toEqual([[0, 1, 2], [2, 3, 2], [4, 5, 4]]);
    expect(linkage.map((row) => row[2])).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.2, 12), expect.closeTo(0.75, 12)]);
  });

  it("cuts the tree into the number of clusters asked for", () => {
    expect(clusterLanguages(similarity, 2).assignment).toEqual([1, 1, 2, 2]);
    expect(clusterLanguages(similarity, 3).assignment).toEqual([1, 1, 2, 3]); // r-s, the later merge, undone
    expect(clusterLanguages(similarity, 1).assignment).toEqual([1, 1, 1, 1]);
    expect(clusterLanguages(similarity, 9).assignment).toEqual([1, 2, 3, 4]);
  });

  it("lists merges by height whichever subtree holds the tighter pair, and splits a tie of three into two rows", () => {
    // r-s (0.1) is tighter than p-q (0.2): SciPy's rows go by distance, so r-s comes first and gets id 4
    const swapped = [[1, 0.8, 0.4, 0.3], [0.8, 1, 0.2, 0.1], [0.4, 0.2, 1, 0.9], [0.3, 0.1, 0.9, 1]];
    const { linkage } = clusterLanguages(swapped, 1);
    expect(linkage.map(([a, b, , size]) => [a, b, size])).toEqual([[2, 3, 2], [0, 1, 2], [4, 5, 4]]);
    expect(linkage.map((row) => row[2])).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.2, 12), expect.closeTo(0.75, 12)]);
    // three languages at the same distance: one merge of three becomes two binary rows at that height
    const tie = clusterLanguages([[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]], 1);
    expect(tie.linkage).toEqual([[0, 1, 0.5, 2], [2, 3, 0.5, 3]]);
    // four at one distance, then a fifth far off: a chain of three rows, each naming the one before
    const four = clusterLanguages([[1, 0.5, 0.5, 0.5, 0.1], [0.5, 1, 0.5, 0.5, 0.1], [0.5, 0.5, 1, 0.5, 0.1], [0.5, 0.5, 0.5, 1, 0.1], [0.1, 0.1, 0.1, 0.1, 1]], 2);
    expect(four.linkage.map(([a, b, , size]) => [a, b, size])).toEqual([[0, 1, 2], [2, 5, 3], [3, 6, 4], [4, 7, 5]]);
    expect(four.assignment).toEqual([1, 1, 1, 1, 2]);
  });

  it("lists merges by height when the first subtree walked holds the later merge", () => {
    // p-q 0.2; r-s 0.1, t joins {r,s} at 0.4; the tree walks {p,q} first, SciPy's rows go by distance
    const d = [
      [0, 0.2, 0.9, 0.9, 0.9],
      [0.2, 0, 0.9, 0.9, 0.9],
      [0.9, 0.9, 0, 0.1, 0.4],
      [0.9, 0.9, 0.1, 0, 0.4],
      [0.9, 0.9, 0.4, 0.4, 0],
    ];
    const { linkage } = clusterLanguages(d.map((row) => row.map((v) => 1 - v)), 1);
    expect(linkage.map(([a, b, , size]) => [a, b, size])).toEqual([[2, 3, 2], [0, 1, 2], [4, 5, 3], [6, 7, 5]]);
    expect(linkage.map((row) => row[2])).toEqual([0.1, 0.2, 0.4, 0.9].map((v) => expect.closeTo(v, 12)));
  });

  it("clusters one or two languages without a tree library call going wrong", () => {
    expect(clusterLanguages([], 3)).toEqual({ linkage: [], assignment: [], clusters: 0 });
    expect(clusterLanguages([[1]], 3)).toEqual({ linkage: [], assignment: [1], clusters: 1 });
    const two = clusterLanguages([[1, 0.4], [0.4, 1]], 1);
    expect(two.assignment).toEqual([1, 1]);
    expect(two.linkage.map(([a, b, , size]) => [a, b, size])).toEqual([[0, 1, 2]]);
    expect(two.linkage[0][2]).toBeCloseTo(0.6, 12);
    expect(clusterLanguages([[1, 0.4], [0.4, 1]], 2).assignment).toEqual([1, 2]);
  });

  it("averages over all members when a cluster grows (UPGMA, not the mean of the two clusters' means)", () => {
    // t joins {p,q} at 0.1 / 0.3 (mean 0.2); then u: to p 0.5, q 0.5, t 0.8 -> average 0.6 (WPGMA would give 0.65)
    const s = [
      [1, 0.95, 0.9, 0.5],
      [0.95, 1, 0.7, 0.5],
      [0.9, 0.7, 1, 0.2],
      [0.5, 0.5, 0.2, 1],
    ];
    const { linkage } = clusterLanguages(s, 1);
    expect(linkage.map((row) => [row[0], row[1], row[3]])).toEqual([[0, 1, 2], [2, 4, 3], [3, 5, 4]]);
    expect(linkage[1][2]).toBeCloseTo((0.1 + 0.3) / 2, 12);
    expect(linkage[2][2]).toBeCloseTo((0.5 + 0.5 + 0.8) / 3, 12);
  });
});

describe("writeAtlas", () => {
  it("writes what pandas reads, from the set files", () => {
    const dir = mkdtempSync(join(tmpdir(), "atlas-"));
    const languages = SETS.map((s) => {
      const setPath = join(dir, `${s.code}.json`);
      writeFileSync(setPath, JSON.stringify({ format: "sparse-sub/neuron-set@1", language: s.code, layers: s.layers }));
      return { code: s.code, name: s.code === "a" ? "Name, with comma" : undefined, tokens: 100, setPath };
    });
    const summary = writeAtlas({ dir: join(dir, "atlas"), languages, subsets: [], nearest: 1, clusters: 2 });
    expect(summary.neurons).toEqual({ min: 0, median: 3, max: 4, total_unique: 5 });
    expect(summary.empty).toEqual(["d"]);
    expect(summary.most_similar.slice(0, 2)).toEqual([{ a: "a", b: "e", jaccard: 0.75, shared: 3 }, { a: "b", b: "e", jaccard: 0.75, shared: 3 }]);
    const text = (f: string) => readFileSync(join(dir, "atlas", f), "utf8");
    expect(text("languages.csv").split("\n")[1]).toBe('a,"Name, with comma",100,3,2,0.333333,1,e,0.75'); // depth: (0+0+1)/3
    expect(text("overlap.csv").split("\n")[1]).toBe("a,1,0.5,0,0,0.75");
    expect(text("layers.csv").split("\n").slice(1, 3)).toEqual(["all,a,0,2", "all,a,1,1"]);
    expect(text("nearest.csv").trim().split("\n")).toEqual(["language,rank,neighbour,jaccard", "a,1,e,0.75", "b,1,e,0.75", "e,1,a,0.75"]); // c and d overlap nothing
  });

  it("writes every file's rows as worked out by hand, and a subset's sets beside the all-language ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "atlas-"));
    const file = (code: string, layers: number[][]) => {
      const setPath = join(dir, `${code}.${layers.flat().length}.json`);
      writeFileSync(setPath, JSON.stringify({ format: "sparse-sub/neuron-set@1", language: code, layers }));
      return setPath;
    };
    const languages = SETS.map((s) => ({ code: s.code, tokens: 10, setPath: file(s.code, s.layers) }));
    // the subset's own sets: a' = {0:1} (Jaccard with a: 1/3), b' = {0:2, 1:5} (with b: 2/3)
    const subsets = [{ name: "pair", sets: [{ code: "a", setPath: file("a", [[1], []]) }, { code: "b", setPath: file("b", [[2], [5]]) }] }];
    const summary = writeAtlas({ dir: join(dir, "atlas"), languages, subsets, nearest: 2, clusters: 2 });
    const lines = (f: string) => readFileSync(join(dir, "atlas", f), "utf8").trimEnd().split("\n");
    // average linkage on 1 - Jaccard: a-e at 0.25 first, b joins at (0.5 + 0.25) / 2 = 0.375; a, b, e end in one cluster
    const cluster = Object.fromEntries(lines("clusters.csv").slice(1).map((l) => l.split(",")));
    expect(cluster.b).toBe(cluster.a);
    expect(cluster.e).toBe(cluster.a);
    expect(new Set(Object.values(cluster)).size).toBe(2);
    expect(lines("languages.csv")).toEqual([
      "language,name,tokens,neurons,layers_with_neurons,mean_depth,cluster,nearest,nearest_jaccard",
      // depth: a (0+0+1)/3, b (0+1+1)/3, c 1, e (0+0+1+1)/4; d has none; nearest: the most overlapping, a before b on a tie
      `a,,10,3,2,0.333333,${cluster.a},e,0.75`,
      `b,,10,3,2,0.666667,${cluster.b},e,0.75`,
      `c,,10,1,1,1,${cluster.c},,`,
      `d,,10,0,0,,${cluster.d},,`,
      `e,,10,4,2,0.5,${cluster.e},a,0.75`,
    ]);
    expect(lines("linkage.csv").slice(0, 3)).toEqual(["a,b,distance,size", "0,4,0.25,2", "1,5,0.375,3"]);
    expect(lines("shared.csv")).toEqual(["layer,neuron,languages,codes", "0,2,3,a b e", "1,5,3,a b e", "0,1,2,a e", "1,6,2,b e"]);
    expect(lines("nearest.csv")).toEqual(["language,rank,neighbour,jaccard", "a,1,e,0.75", "a,2,b,0.5", "b,1,e,0.75", "b,2,a,0.5", "e,1,a,0.75", "e,2,b,0.75"]);
    expect(lines("subsets.csv")).toEqual(["subset,language,neurons,neurons_all,jaccard_with_all", "pair,a,1,3,0.333333", "pair,b,2,3,0.666667"]);
    expect(lines("layers.csv").slice(-4)).toEqual(["pair,a,0,1", "pair,a,1,0", "pair,b,0,1", "pair,b,1,1"]);
    expect(lines("layers.csv")).toHaveLength(1 + 5 * 2 + 4);
    expect(summary.subsets).toEqual([{ name: "pair", languages: 2, mean_jaccard_with_all: 0.5 }]);
    expect(summary.files).toEqual(["languages.csv", "layers.csv", "overlap.csv", "nearest.csv", "clusters.csv", "linkage.csv", "shared.csv", "summary.json", "subsets.csv"]);
    expect(summary.most_similar.map((p) => `${p.a}${p.b}`)).toEqual(["ae", "be", "ab", "ac", "ad", "bc", "bd", "cd", "ce", "de"]);
    expect(summary).toMatchObject({ languages: 5, clusters: 2, neurons: { min: 0, median: 3, max: 4, total_unique: 5 }, empty: ["d"] });
    expect(JSON.parse(readFileSync(join(dir, "atlas", "summary.json"), "utf8"))).toEqual(summary);
    // without subsets: no subsets.csv; the default cut is round(sqrt(5)) = 2 clusters; an even count's median is the mean of the middle two
    const plain = writeAtlas({ dir: join(dir, "plain"), languages: languages.slice(0, 4), subsets: [], nearest: 1 });
    expect(plain.clusters).toBe(2);
    expect(plain.neurons.median).toBe(2); // totals 3, 3, 1, 0: (1 + 3) / 2
    expect(plain.files).not.toContain("subsets.csv");
    expect(existsSync(join(dir, "plain", "subsets.csv"))).toBe(false);
  });

  it("measures depth over all layers, breaks a Jaccard tie by shared neurons, keeps ten pairs and each subset's own rows", () => {
    const dir = mkdtempSync(join(tmpdir(), "atlas-"));
    // 3 layers: depth is layer / 2. a-b: 1 shared of 2 (J 0.5); c-d: 2 shared of 4 (J 0.5, more shared: first)
    const sets: Record<string, number[][]> = {
      a: [[1], [], []], b: [[1, 2], [], []], c: [[], [], [3, 4]], d: [[], [5, 6], [3, 4]], e: [[], [], [7]], f: [[], [8], []],
    };
    const file = (code: string, layers: number[][], tag = "") => {
      const setPath = join(dir, `${code}${tag}.json`);
      writeFileSync(setPath, JSON.stringify({ format: "sparse-sub/neuron-set@1", language: code, layers }));
      return setPath;
    };
    const languages = Object.entries(sets).map(([code, layers]) => ({ code, tokens: 1, setPath: file(code, layers) }));
    // subset "one": a's whole set (J 1); "two": b' = {0:2} (J 1/2 with b), c' = {2:3} (J 1/2 with c)
    const subsets = [
      { name: "one", sets: [{ code: "a", setPath: file("a", sets.a, ".one") }] },
      { name: "two", sets: [{ code: "b", setPath: file("b", [[2], [], []], ".two") }, { code: "c", setPath: file("c", [[], [], [3]], ".two") }] },
    ];
    const summary = writeAtlas({ dir: join(dir, "atlas"), languages, subsets, nearest: 1, clusters: 2 });
    const rows = readFileSync(join(dir, "atlas", "languages.csv"), "utf8").trimEnd().split("\n").slice(1).map((l) => l.split(","));
    // columns: language, name, tokens, neurons, layers_with_neurons, mean_depth, cluster, nearest, nearest_jaccard
    expect(rows.map((r) => [r[0], r[5]])).toEqual([["a", "0"], ["b", "0"], ["c", "1"], ["d", "0.75"], ["e", "1"], ["f", "0.5"]]); // d: (1+1+2+2)/2/4
    expect(rows.map((r) => [r[0], r[7], r[8]])).toEqual([["a", "b", "0.5"], ["b", "a", "0.5"], ["c", "d", "0.5"], ["d", "c", "0.5"], ["e", "", ""], ["f", "", ""]]);
    // 15 pairs, ten kept: the two at 0.5 (c-d first, sharing 2), then the unrelated ones in plan order
    expect(summary.most_similar.map((p) => `${p.a}${p.b}:${p.shared}`)).toEqual(["cd:2", "ab:1", "ac:0", "ad:0", "ae:0", "af:0", "bc:0", "bd:0", "be:0", "bf:0"]);
    expect(summary.subsets).toEqual([{ name: "one", languages: 1, mean_jaccard_with_all: 1 }, { name: "two", languages: 2, mean_jaccard_with_all: 0.5 }]);
  });

  it("names a file that is not a neuron set", () => {
    const dir = mkdtempSync(join(tmpdir(), "atlas-"));
    writeFileSync(join(dir, "x.json"), JSON.stringify({ language: "x" }));
    expect(() => writeAtlas({ dir: join(dir, "atlas"), languages: [{ code: "x", setPath: join(dir, "x.json") }], subsets: [], nearest: 1 })).toThrow(`${join(dir, "x.json")}: not a sparse-sub neuron set (no 'layers')`);
  });
});
