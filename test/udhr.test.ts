import { describe, expect, it } from "vitest";
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
});
