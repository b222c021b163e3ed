import { describe, expect, it } from "vitest";
import { readingRows, translationRows, udhrPairs } from "../ts/corpora/udhr-tasks.js";
import { readDeclaration, splitDeclaration, udhrIds } from "../ts/corpora/udhr.js";

describe("UDHR corpora", () => {
  it("parses the 30 articles and the preamble of a declaration", () => {
    const afr = readDeclaration("afr");
    expect(afr.name).toBe("Afrikaans");
    expect([...afr.articles.keys()]).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(afr.preamble).toMatch(/^Aanhef\nAANGESIEN erkenning/);
    expect(afr.articles.get(1)).toMatch(/^Artikel 1\nAlle menslike wesens word vry/);
  });

  it("holds out whole articles, disjoint from training text", () => {
    const { train, heldout } = splitDeclaration(readDeclaration("mlt"), [29, 30]);
    expect(heldout).toHaveLength(2);
    expect(train).toHaveLength(29); // preamble + 28 articles
    for (const text of heldout) expect(train).not.toContain(text);
  });

  it("refuses unknown ids and missing articles with their names", () => {
    expect(udhrIds()).toContain("eng");
    expect(() => readDeclaration("zzz")).toThrow("'zzz' is not a UDHR declaration id");
    const eng = readDeclaration("eng");
    eng.articles.delete(30);
    expect(() => splitDeclaration(eng, [30])).toThrow("UDHR 'eng' has no article 30");
  });

  it("keeps each paragraph once (list items wrap paragraphs in some declarations)", () => {
    const article = readDeclaration("afr").articles.get(26)!.split("\n");
    expect(article).toHaveLength(4); // heading + 3 paragraphs
    expect(new Set(article).size).toBe(article.length);
  });
});

describe("offline UDHR tasks", () => {
  const pairs = udhrPairs("afr", [26, 27, 28, 29, 30]);

  it("pairs held-out paragraphs with their English originals, sentence by sentence where the sentences line up", () => {
    expect(pairs.map((p) => p.id)).toEqual([
      "26.1.1", "26.1.2", "26.1.3", "26.1.4", "26.2.1", "26.2.2", "26.3", "27.1", "27.2", "28.1", "29.1", "29.2", "29.3", "30.1",
    ]);
    expect(pairs[0].english).toBe("Everyone has the right to education.");
    expect(pairs[0].text).toBe("Elkeen het die reg tot opvoeding.");
    expect(pairs[6].english).toMatch(/^Parents have a prior right/); // one sentence: kept whole
    expect(translationRows("af", pairs)[0]).toEqual({ id: "26.1.1", sentence_eng_Latn: pairs[0].english, sentence_af: pairs[0].text });
  });

  it("builds reading items both ways whose right option is the passage's translation", () => {
    const rows = readingRows(pairs, "Afrikaans") as Record<string, string>[];
    expect(rows).toHaveLength(2 * pairs.length);
    expect(rows.map((r) => r.correct_answer_num).join("")).toBe("12341234123412" + "34123412341234");
    rows.forEach((row, i) => {
      const pair = pairs[i % pairs.length];
      const [passage, answer] = i < pairs.length ? [pair.text, pair.english] : [pair.english, pair.text];
      expect(row.flores_passage).toBe(passage);
      expect(row[`mc_answer${row.correct_answer_num}`]).toBe(answer);
      expect(new Set([1, 2, 3, 4].map((k) => row[`mc_answer${k}`])).size).toBe(4);
    });
    expect(rows[pairs.length].question).toBe("Which Afrikaans text says the same as the passage?");
  });
});
