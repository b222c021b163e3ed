// Draws the report's charts in the browser with Observable Plot (inlined beside this script).
// Each <figure data-chart="..."> names a chart and its filter; the data is the page's
// <script id="report-data"> JSON. Every chart gets a "data (CSV)" link with exactly its rows.
/* global Plot, d3 */
(function () {
  "use strict";
  // Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
  const data = JSON.parse(document.getElementById("report-data").textContent);

  const colour = (domain) => ({ type: "categorical", domain, range: PALETTE, legend: true });
  const widthOf = (figure) => Math.max(320, Math.min(1000, figure.clientWidth || 800));

  const charts = {
    loss(figure, rows) {
      const methods = data.methods.filter((m) => rows.some((r) => r.method === m));
      return Plot.plot({
        width: widthOf(figure),
        height: 320,
        x: { label: "optimizer step", grid: true },
        y: { label: "loss (nats per token)", grid: true },
        color: colour(methods),
        marks: [
          Plot.line(rows.filter((r) => r.curve === "training"), { x: "step", y: "loss", stroke: "method", strokeOpacity: 0.8, tip: true }),
          Plot.line(rows.filter((r) => r.curve === "validation"), { x: "step", y: "loss", stroke: "method", strokeWidth: 2.5, strokeDasharray: "6 3" }),
          Plot.dot(rows.filter((r) => r.curve === "validation"), { x: "step", y: "loss", fill: "method", r: 3.5, tip: true }),
        ],
      });
    },
    weights(figure, rows) {
      const methods = data.methods.filter((m) => rows.some((r) => r.method === m));
      return Plot.plot({
        width: widthOf(figure),
        height: 150 * methods.length + 60,
        marginRight: 110,
        fy: { label: null, domain: methods },
        x: { label: "decoder layer", grid: true },
        y: { label: "‖ΔW‖ (Frobenius norm of the change)", grid: true, labelAnchor: "center" },
        color: colour(["gate_proj", "up_proj", "down_proj"]),
        marks: [
          Plot.frame({ strokeOpacity: 0.2 }),
          Plot.line(rows, { x: "layer", y: "change", stroke: "projection", fy: "method", tip: true }),
          Plot.dot(rows, { x: "layer", y: "change", fill: "projection", fy: "method", r: 2 }),
        ],
      });
    },
    ratio(figure, rows) {
      return Plot.plot({
        width: Math.min(widthOf(figure), 640),
        height: 60 + 32 * rows.length,
        marginLeft: 120,
        x: { label: "‖ΔW down_proj‖ / ‖ΔW gate_proj‖ (ratio)", grid: true },
        y: { label: null, domain: data.methods.filter((m) => rows.some((r) => r.method === m)) },
        marks: [Plot.barX(rows, { y: "method", x: "ratio", fill: PALETTE[0], tip: true }), Plot.ruleX([1], { stroke: "#555", strokeDasharray: "3 3" })],
      });
    },
    neurons(figure, rows) {
      const languages = [...new Set(rows.map((r) => r.language))];
      return Plot.plot({
        width: widthOf(figure),
        height: 320,
        x: { label: "decoder layer", grid: true },
        y: { label: "selected neurons", grid: true },
        color: colour(languages),
        marks: [
          Plot.line(rows, { x: "layer", y: "neurons", stroke: "language", tip: true }),
          Plot.dot(rows, { x: "layer", y: "neurons", fill: "language", r: 2.5 }),
        ],
      });
    },
    shared(figure, rows) {
      return Plot.plot({
        width: widthOf(figure),
        height: 220,
        x: { label: "decoder layer", grid: true },
        y: { label: "neurons in 2+ languages' sets", grid: true },
        marks: [Plot.barY(rows, { x: "layer", y: "neurons", fill: PALETTE[5], tip: true }), Plot.ruleY([0])],
      });
    },
    alignment(figure, rows) {
      const models = ["base", ...data.methods].filter((m) => rows.some((r) => r.model === m));
      return Plot.plot({
        width: widthOf(figure),
        height: 320,
        x: { label: "decoder layer", grid: true },
        y: { label: "cosine similarity to English (mean over pairs)", grid: true },
        color: colour(models),
        marks: [
          Plot.line(rows, { x: "layer", y: "similarity", stroke: "model", strokeDasharray: (r) => (r.model === "base" ? "4 3" : null), tip: true }),
          Plot.dot(rows, { x: "layer", y: "similarity", fill: "model", r: 2 }),
        ],
      });
    },
    deactivation(figure, rows) {
      const evaluated = [...new Set(rows.map((r) => r.evaluated))];
      const deactivated = [...new Set(rows.map((r) => r.row))];
      const limit = Math.max(0.01, ...rows.map((r) => Math.abs(r.change)));
      return Plot.plot({
        width: widthOf(figure),
        height: 60 + 26 * deactivated.length,
        marginLeft: 120,
        marginBottom: 60,
        x: { label: "language scored", domain: evaluated, tickRotate: evaluated.length > 12 ? -45 : 0 },
        y: { label: "neurons off", domain: deactivated },
        color: { type: "diverging", scheme: "BuRd", domain: [-limit, limit], legend: true, label: "perplexity change (relative)", tickFormat: "+%" },
        marks: [
          Plot.cell(rows, { x: "evaluated", y: "row", fill: "change", tip: true, inset: 0.5 }),
          Plot.text(rows, { x: "evaluated", y: "row", text: (r) => `${r.change >= 0 ? "+" : ""}${(r.change * 100).toFixed(0)}%`, fontSize: 9 }),
        ],
      });
    },
    overlap(figure, rows) {
      const order = [...new Set(rows.map((r) => r.a))];
      const side = Math.min(widthOf(figure), 60 + 14 * order.length + 120);
      return Plot.plot({
        width: side,
        height: side,
        marginLeft: 100,
        marginBottom: 100,
        x: { label: null, domain: order, tickRotate: -90 },
        y: { label: null, domain: order },
        color: { type: "linear", scheme: "Blues", domain: [0, Math.max(0.01, ...rows.filter((r) => r.a !== r.b).map((r) => r.jaccard))], legend: true, label: "Jaccard overlap" },
        marks: [Plot.cell(rows.filter((r) => r.a !== r.b), { x: "b", y: "a", fill: "jaccard", tip: true })],
      });
    },
    jobs(figure, rows) {
      const stages = [...new Set(rows.map((r) => r.stage))];
      return Plot.plot({
        width: widthOf(figure),
        height: 40 + 18 * rows.length,
        marginLeft: 170,
        x: { label: "wall time (seconds)", grid: true },
        y: { label: null, domain: rows.map((r) => r.job) },
        color: colour(stages),
        marks: [Plot.barX(rows, { y: "job", x: "seconds", fill: "stage", tip: true }), Plot.ruleX([0])],
      });
    },
    runs(figure, rows) {
      const runs = [...new Set(rows.map((r) => r.run))];
      return Plot.plot({
        width: widthOf(figure),
        height: 320,
        marginBottom: 50,
        fx: { label: null },
        x: { axis: null, domain: runs },
        y: { label: "held-out perplexity of the target language (lower is better)", grid: true },
        color: colour(runs),
        marks: [Plot.barY(rows, { fx: "method", x: "run", y: "perplexity", fill: "run", tip: true }), Plot.ruleY([0])],
      });
    },
    runloss(figure, rows) {
      const runs = [...new Set(rows.map((r) => r.run))];
      const methods = [...new Set(rows.map((r) => r.method))];
      return Plot.plot({
        width: widthOf(figure),
        height: 150 * methods.length + 60,
        marginRight: 110,
        fy: { label: null, domain: methods },
        x: { label: "optimizer step", grid: true },
        y: { label: "validation loss (nats per token)", grid: true, labelAnchor: "center" },
        color: colour(runs),
        marks: [
          Plot.frame({ strokeOpacity: 0.2 }),
          Plot.line(rows, { x: "step", y: "loss", stroke: "run", fy: "method", tip: true }),
          Plot.dot(rows, { x: "step", y: "loss", fill: "run", fy: "method", r: 2.5 }),
        ],
      });
    },
  };

  /** The rows of one figure: its dataset, filtered by every data-where-* attribute. */
  function rowsOf(figure) {
    const where = Object.entries(figure.dataset).filter(([key]) => key.startsWith("where")).map(([key, value]) => [key.slice(5).toLowerCase(), value]);
    return data[figure.dataset.rows].filter((row) => where.every(([key, value]) => String(row[key]) === value));
  }

  function csv(rows) {
    const columns = Object.keys(rows[0] ?? {});
    const cell = (value) => (/[",\n]/.test(String(value)) ? `"${String(value).replace(/"/g, '""')}"` : String(value ?? ""));
    return [columns.join(","), ...rows.map((row) => columns.map((c) => cell(row[c])).join(","))].join("\n") + "\n";
  }

  for (const figure of document.querySelectorAll("figure[data-chart]")) {
    const rows = rowsOf(figure);
    const holder = figure.querySelector(".plot");
    if (rows.length === 0) {
      holder.textContent = "No data for this chart in this run.";
      figure.dataset.drawn = "empty";
      continue;
    }
    const chart = charts[figure.dataset.chart](figure, rows);
    chart.setAttribute("role", "img");
    chart.setAttribute("aria-label", figure.querySelector("figcaption").textContent);
    holder.append(chart);
    figure.dataset.drawn = String(rows.length);
    const link = document.createElement("a");
    link.className = "download";
    link.textContent = "data (CSV)";
    link.download = `${data.run}-${figure.id}.csv`;
    link.href = URL.createObjectURL(new Blob([csv(rows)], { type: "text/csv" }));
    figure.querySelector("figcaption").append(" ", link);
  }
  document.body.dataset.chartsReady = "true";
  void d3; // Plot's UMD build reads d3 from the page
})();
