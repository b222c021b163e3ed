"""Where one evaluation job of the demo spends its time: perplexity per language, each task, and
alignment, on the demo's own model and files (a finished or partial demo run directory). The
scores are printed beside the times, so a speed-up that changed a score shows up here.

    python bench/evaluation.py [--run runs/demo] [--batch-size 16] [--record LABEL]

Prints one JSON line: seconds per part, the evaluation's total, and each part's score. With
--record, also appends it to bench/results/evaluation.json under LABEL (e.g. "before", "after"),
with the whole demo's job times from the run's results.json, and re-renders bench/RESULTS.md."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py-worker"))

from sparse_sub_worker.analysis import alignment  # noqa: E402
from sparse_sub_worker.corpus import TextFilesCorpus, load_sequences  # noqa: E402
from sparse_sub_worker.evaluation import score_sequences  # noqa: E402
from sparse_sub_worker.methods.adapters import adapter_applied  # noqa: E402
from sparse_sub_worker.models.loading import ModelRequest, load_model  # noqa: E402
from sparse_sub_worker.tasks.runner import TaskSpec, run_task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default=str(ROOT / "runs/demo"), help="a demo run directory (its corpora/ is read)")
    parser.add_argument("--plan", default=str(ROOT / "configs/demo.plan.json"))
    parser.add_argument("--batch-size", type=int, default=0, help="default: the plan's evaluation.batch_size")
    parser.add_argument("--record", default="", help="append to bench/results/evaluation.json under this label")
    parser.add_argument("--model", default="", help="evaluate this model instead of the plan's (e.g. runs/demo/models/af.ffn)")
    parser.add_argument("--adapter", default="", help="with a peft adapter directory applied (e.g. runs/demo/adapters/af.lora)")
    args = parser.parse_args()
    plan = json.loads(Path(args.plan).read_text())
    corpus = Path(args.run) / "corpora"
    if not corpus.is_dir():
        sys.exit(f"{corpus}: no corpora directory; run the demo first (npx sparse-sub run {args.plan})")
    batch = args.batch_size or plan["evaluation"]["batch_size"]
    sequence_length = plan["evaluation"]["sequence_length"]
    target = plan["training"]["targets"][0]
    torch.set_num_threads(os.cpu_count() or 1)

    loaded = load_model(ModelRequest(args.model or plan["model"]["source"], dtype=plan["model"].get("dtype", "auto"), device="cpu"))
    with adapter_applied(loaded, args.adapter, "--adapter") if args.adapter else nullcontext():
        measured = evaluate(loaded, plan, corpus, batch, sequence_length, target)
    print(json.dumps(measured))
    if args.record:
        record(args.record, measured, Path(args.run) / "results.json")


def evaluate(loaded, plan: dict, corpus: Path, batch: int, sequence_length: int, target: str) -> dict:
    seconds: dict[str, float] = {}
    scores: dict[str, float] = {}

    def timed(name: str, fn):
        start = time.perf_counter()
        out = fn()
        seconds[name] = round(time.perf_counter() - start, 2)
        return out

    for language in [entry["code"] for entry in plan["languages"]]:
        sequences = load_sequences(TextFilesCorpus((str(corpus / language / "heldout.jsonl"),)), loaded.encoder, "heldout",
                                   sequence_length, separate_documents=True, keep_tail=True)
        scores[f"perplexity {language}"] = timed(f"perplexity {language}", lambda: score_sequences(loaded.model, sequences, batch)).perplexity
    udhr = corpus / target
    for direction in ("eng-x", "x-eng"):
        spec = TaskSpec(name="flores", language=target, direction=direction, files=(str(udhr / "udhr_translation.jsonl"),))
        outcome = timed(f"translation {direction}", lambda: run_task(loaded.model, loaded.encoder, spec, batch))
        scores[f"translation {direction} chrf"] = outcome.metrics["chrf"]
    spec = TaskSpec(name="belebele", language=target, mode="loglik", files=(str(udhr / "udhr_reading.jsonl"),))
    outcome = timed("reading loglik", lambda: run_task(loaded.model, loaded.encoder, spec, batch))
    scores["reading loglik accuracy"] = outcome.metrics["accuracy"]
    rows = [json.loads(line) for line in (udhr / "udhr_translation.jsonl").read_text().splitlines() if line]
    english = [r["sentence_eng_Latn"] for r in rows]
    other = [next(v for k, v in r.items() if k.startswith("sentence_") and k != "sentence_eng_Latn") for r in rows]
    per_layer = timed("alignment", lambda: alignment(loaded.model, loaded.encoder, english, other, batch))
    scores["alignment mean"] = sum(per_layer) / len(per_layer)
    return {"batch_size": batch, "total_s": round(sum(seconds.values()), 2), "seconds": seconds, "scores": scores}


def demo_job_seconds(results_file: Path) -> dict[str, float]:
    """Seconds the demo's jobs took, summed per kind (collect, select, train, evaluate, weights)."""
    if not results_file.is_file():
        return {}
    totals: dict[str, float] = {}
    for job in json.loads(results_file.read_text())["jobs"]:
        kind = job["id"].split("/")[-1].split(":")[0]
        totals[kind] = round(totals.get(kind, 0.0) + job["seconds"], 1)
    return totals


def record(label: str, measured: dict, results_file: Path) -> None:
    out = ROOT / "bench/results/evaluation.json"
    runs = json.loads(out.read_text())["runs"] if out.is_file() else []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    runs = [r for r in runs if r["label"] != label] + [{"label": label, "commit": commit, "date": time.strftime("%Y-%m-%d"),
                                                         **measured, "demo_jobs": demo_job_seconds(results_file)}]
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    subprocess.run([sys.executable, str(ROOT / "bench/run.py"), "--render"], check=True)


if __name__ == "__main__":
    main()
