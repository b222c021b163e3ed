// The scripts a report inlines: d3 and Observable Plot (their UMD builds from node_modules) and
// the page's own chart code. Inlined, the page opens from file:// with no network.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PACKAGE_ROOT } from "../package-info.js";

const require = createRequire(import.meta.url);
let cached: string[] | undefined;

/** Script bodies in load order; a "</script" inside them is escaped so the page stays well formed. */
export function inlineScripts(): string[] {
  cached ??= [
    join(dirname(require.resolve("d3")), "d3.min.js"), // d3's entry is dist/d3.mjs; its UMD build sits beside it
    join(dirname(require.resolve("@observablehq/plot")), "../dist/plot.umd.min.js"),
    join(PACKAGE_ROOT, "ts/report/browser/charts.js"),
  ].map((path) => readFileSync(path, "utf8").replace(/<\/script/gi, "<\\/script"));
  return cached;
}
