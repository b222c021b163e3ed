// The HTML shell every report page shares: inline style and scripts, the data block the charts
// read, and small builders for tables, figures and downloads. Nothing is fetched: one file.
import { inlineScripts } from "./assets.js";

export const escapeHtml = (text: unknown) =>
  String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A chart the browser draws from data[rows], keeping rows whose fields equal `where`. */
export function figure(id: string, chart: string, rows: string, caption: string, where: Record<string, string> = {}): string {
  const filters = Object.entries(where).map(([key, value]) => ` data-where-${key}="${escapeHtml(value)}"`).join("");
  return `<figure class="chart" id="${escapeHtml(id)}" data-chart="${chart}" data-rows="${rows}"${filters}><figcaption>${escapeHtml(caption)}</figcaption><div class="plot"></div></figure>`;
}

export interface Cell {
  html: string;
  className?: string;
}

export function table(caption: string, header: string[], rows: (string | Cell)[][], note = ""): string {
  const cell = (c: string | Cell, tag: string) => (typeof c === "string" ? `<${tag}>${c}</${tag}>` : `<${tag} class="${c.className ?? ""}">${c.html}</${tag}>`);
  return [
    `<div class="table-scroll"><table><caption>${escapeHtml(caption)}</caption>`,
    `<thead><tr>${header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell(c, i === 0 ? "th" : "td")).join("")}</tr>`).join("")}</tbody>`,
    `</table></div>`,
    note ? `<p class="note">${escapeHtml(note)}</p>` : "",
  ].join("");
}

/** A download link with the content inside it (a data: URL works from file://). */
export function download(label: string, fileName: string, type: string, content: string): string {
  return `<a class="download" download="${escapeHtml(fileName)}" href="data:${type};charset=utf-8,${encodeURIComponent(content)}">${escapeHtml(label)}</a>`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #5c5c5c; --rule: #d6d6d6; --accent: #0072B2; --warn: #D55E00; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; padding: 1.5rem; max-width: 1080px; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--rule); padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .25rem; }
.status { display: inline-block; padding: .1rem .5rem; border-radius: .75rem; font-size: .85rem; font-weight: 600; background: #e7f1f8; color: var(--accent); }
.status.failed, .status.cancelled { background: #fbeee6; color: var(--warn); }
.missing { border-left: 4px solid var(--warn); padding: .25rem .75rem; background: #fdf6f2; }
.note, figcaption { color: var(--muted); font-size: .9rem; }
figure { margin: 1rem 0 1.5rem; } figcaption { margin-bottom: .25rem; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .88rem; margin: .5rem 0; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .6rem; text-align: right; white-space: nowrap; vertical-align: top; }
th:first-child, thead th:first-child { text-align: left; }
td small { display: block; color: var(--muted); } td.noise small { font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { color: var(--muted); } dd { margin: 0; }
a.download { font-size: .85rem; color: var(--accent); }
nav a { margin-right: .75rem; color: var(--accent); }
details.plan pre { font-size: .8rem; background: #f6f6f6; padding: .5rem; overflow-x: auto; max-height: 30rem; }
@media print { a.download, nav { display: none; } figure, table { break-inside: avoid; } body { max-width: none; padding: 0; } details.plan pre { max-height: none; } }
`;

/** A whole page. `data` is what the charts read; it is embedded as JSON (with "<" escaped). */
export function page(title: string, body: string[], data: object): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>`,
    `<body>${body.join("\n")}`,
    `<script type="application/json" id="report-data">${json}</script>`,
    ...inlineScripts().map((script) => `<script>${script}</script>`),
    "</body></html>",
  ].join("\n");
}
