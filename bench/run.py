"""Runs every benchmark and writes bench/RESULTS.md (see bench/README.md).

    npm run bench                      # CPU, small Llama shape (minutes on 2 cores)
    npm run bench -- --device cuda     # GPU, Llama-3.1-8B shape, bf16, sequence 2048
    npm run bench -- --quick           # smoke run: tiny sizes, nothing written

Each mode's numbers go to bench/results/<device>.json; RESULTS.md is rendered from all of them,
so a CPU run keeps the last GPU numbers and the other way round."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_DIR = HERE / "results"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "py-worker"), "TOKENIZERS_PARALLELISM": "false"}

# (label, method, share): the training competitors, each in its own process
COMPETITORS = [
    ("sparse 0.2%", "sparse", 0.002),
    ("sparse 1%", "sparse", 0.01),
    ("gradient masking 1%", "masked", 0.01),
    ("clone-and-write 1% (reference)", "clone", 0.01),
    ("LoRA r16", "lora", None),
]


def run_json(command: list[str]) -> dict:
    print("$", " ".join(command), file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1] if (done.stderr or done.stdout).strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine(device: str) -> dict:
    import torch
    import transformers
    import peft

    info = {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
            "date": datetime.date.today().isoformat()}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return info


def measure(args) -> dict:
    python = sys.executable
    common = ["--shape", args.shape, "--device", args.device, "--batch-size", str(args.batch_size), "--sequence-length", str(args.sequence_length)]
    training = []
    for label, method, share in COMPETITORS:
        command = [python, str(HERE / "training.py"), "--method", method, "--steps", str(args.steps), *common]
        if share is not None:
            command += ["--share", str(share)]
        training.append({"label": label, **run_json(command)})
    step_pairs = run_json([python, str(HERE / "step_pairs.py"), *common, "--rounds", str(args.pairs), "--steps", str(args.pair_steps)])
    collection = run_json([python, str(HERE / "collection.py"), "--shape", args.shape, "--device", args.device, "--pairs", str(args.collect_pairs),
                           "--sequences", str(args.collect_sequences), "--sequence-length", str(args.sequence_length)])
    scoring = run_json([python, str(HERE / "scoring.py"), "--shape", args.shape, "--device", args.device, "--items", str(args.scoring_items)])
    control = None
    if args.device == "cpu":
        control = {**run_json([python, str(HERE / "control_plane.py"), "--steps", str(args.control_steps), "--pairs", str(args.pairs)]),
                   **run_json(["node", str(HERE / "control-plane.mjs")])}
    return {"command": " ".join(["npm run bench --", *sys.argv[1:]]).strip(), "machine": machine(args.device), "shape": args.shape,
            "training": training, "step_pairs": step_pairs, "collection": collection, "scoring": scoring, "control_plane": control}


# Each goal: (name, where its ratio summary lives in a run, goal for the ratio, how the ratio is shown)
def ratio_goals(data: dict) -> list[tuple[str, dict | None, float, str]]:
    pairs, collection, control = data.get("step_pairs") or {}, data.get("collection") or {}, data.get("control_plane") or {}
    return [
        ("step time, sparse 1% vs LoRA r16", pairs.get("sparse_vs_lora"), 1.05, "x"),
        ("step time, sparse 1% vs clone-and-write", pairs.get("sparse_vs_clone"), 0.60, "x"),
        ("collection time vs a plain forward", collection.get("ratio"), 1.05, "overhead"),
        ("what gRPC adds to a training job: (1 + messages) x the per-call cost / job time", control.get("ratio"), 1.01, "overhead"),
    ]


def shown(value: float, style: str) -> str:
    return f"{(value - 1) * 100:+.1f}%" if style == "overhead" else f"{value:.3f}x"


def goal_text(summary: dict | None, goal: float, style: str) -> tuple[str, str]:
    """(median [interval], verdict) of a ratio summary from bench/paired.py."""
    from paired import verdict

    if not summary:
        return "-", "not measured"
    spread = f"{shown(summary['median'], style)} [{shown(summary['low'], style)}, {shown(summary['high'], style)}]"
    return spread, verdict(summary["low"], summary["high"], goal)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if a and b else "-"


def mib(value: int | None) -> str:
    return f"{value / 2**20:,.1f}" if isinstance(value, (int, float)) else "-"


def goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render_mode(device: str, data: dict) -> list[str]:
    m = data["machine"]
    lines = [f"## {device.upper()}: {data['shape']} Llama shape", "",
             f"Machine: {m.get('gpu', m['platform'])}, {m['cpu_count']} cores; Python {m['python']}, torch {m['torch']}, "
             f"transformers {m['transformers']}, peft {m['peft']}; {m['date']}.  ", f"Command: `{data['command']}`", ""]
    rows = {r["label"]: r for r in data["training"]}
    ok = [r for r in data["training"] if "error" not in r]
    first = ok[0] if ok else {}
    lines += [f"### 1-2. Training one step (batch {first.get('batch_size')} x {first.get('sequence_length')} tokens, {first.get('dtype')}, AdamW, median of {first.get('steps')} steps)", "",
              "| competitor | trainable params | params + grads + AdamW state (MiB) | peak memory (MiB) | tokens/s | step time vs LoRA (separate processes) | vs clone-and-write |",
              "|---|---|---|---|---|---|---|"]
    lora, clone = rows.get("LoRA r16", {}), rows.get("clone-and-write 1% (reference)", {})
    state = lambda r: r.get("trainable_bytes", 0) + r.get("gradient_bytes", 0) + r.get("optimizer_state_bytes", 0)
    for r in data["training"]:
        if "error" in r:
            lines.append(f"| {r['label']} | {r['error']} | | | | | |")
            continue
        lines.append(f"| {r['label']} | {r['trainable_parameters']:,} | {mib(state(r))} | {mib(r['peak_bytes'])} | {r['tokens_per_second']:,.0f} | "
                     f"{ratio(r['seconds_per_step'], lora.get('seconds_per_step', 0))} | {ratio(r['seconds_per_step'], clone.get('seconds_per_step', 0))} |")
    peak_kind = first.get("peak_kind", "")
    lines += ["", f"Peak memory: {peak_kind}."]
    ours, masked = rows.get("sparse 1%", {}), rows.get("gradient masking 1%", {})
    if "error" not in ours and "error" not in masked and "error" not in lora:
        grad_opt = lambda r: r["gradient_bytes"] + r["optimizer_state_bytes"]
        lines += ["", "Memory goals (one process per competitor; exact byte counts, not timings):", "",
                  f"- optimizer state + gradients, sparse 1% vs gradient masking 1%: 1/{grad_opt(masked) / grad_opt(ours):.0f} (goal <= 1/60): {goal(grad_opt(masked) / grad_opt(ours) >= 60)}",
                  f"- peak memory, sparse 1% vs LoRA r16: {ratio(ours['peak_bytes'], lora['peak_bytes'])}x (goal <= 1.10): {goal(ours['peak_bytes'] <= 1.10 * lora['peak_bytes'])}"]
    sp = data.get("step_pairs") or {}
    if sp and "error" not in sp:
        lines += ["", f"### Step time, interleaved ({sp['rounds']} rounds in one process, each the median of {sp['steps']} steps per competitor)", "",
                  "| competitor | seconds per step (median of rounds) |", "|---|---|"]
        lines += [f"| {name} | {sp['seconds_per_step'][key]:.4f} |" for key, name in (("sparse", "sparse 1%"), ("lora", "LoRA r16"), ("clone", "clone-and-write 1%"))]
    elif sp:
        lines += ["", f"step-time pairs failed: {sp['error']}"]
    c = data["collection"]
    lines += ["", f"### 3. Activation collection ({c.get('tokens', '-')} tokens per trial, batch {c.get('batch_size', '-')} x {c.get('sequence_length', '-')}, {c.get('ratio', {}).get('pairs', '-')} interleaved pairs)", ""]
    if "error" in c:
        lines.append(f"failed: {c['error']}")
    else:
        lines += ["| forward | tokens/s (median) |", "|---|---|",
                  f"| plain decoder forward, no hooks | {c['plain_tokens_per_second']:,.0f} |",
                  f"| collection (hooks counting gate > 0) | {c['collect_tokens_per_second']:,.0f} |", "",
                  f"- counts identical across batch sizes {c['batch_sizes_compared']}: {c['counts_identical_across_batch_sizes']}"]
    sc = data.get("scoring")
    if sc:
        lines += ["", f"### 5. Multiple-choice scoring ({sc.get('items', '-')} Belebele-shaped items: {sc.get('passage_words', '-')}-word passage, 4 options)", ""]
        if "error" in sc:
            lines.append(f"failed: {sc['error']}")
        else:
            lines += ["| path | forward tokens | seconds |", "|---|---|---|",
                      f"| shared context (passage once, options from its cache) | {sc['shared_tokens']:,} | {sc['shared_seconds']:.2f} |",
                      f"| each option scored with its own passage | {sc['independent_tokens']:,} | {sc['independent_seconds']:.2f} |", "",
                      f"- tokens: {sc['shared_tokens'] / sc['independent_tokens']:.2f}x, time: {sc['shared_seconds'] / sc['independent_seconds']:.2f}x; same predictions: {sc['same_predictions']}"]
    cp = data.get("control_plane")
    if cp:
        lines += ["", "### 4. Control plane", ""]
        if "error" in cp:
            lines.append(f"failed: {cp['error']}")
        else:
            p = cp["plan_expansion"]
            lines += ["| measurement | value |", "|---|---|",
                      f"| training job ({cp['steps']} steps, warm model), WorkerService.Train called in-process | {cp['direct_seconds']:.3f} s (median) |",
                      f"| the same job through gRPC on loopback | {cp['grpc_seconds']:.3f} s (median) |",
                      f"| whole jobs, gRPC / in-process, median [~95% interval] | {goal_text(cp['job_ratio'], 1.01, 'overhead')[0]} (job-to-job noise; not the goal's measure) |",
                      f"| messages streamed per job | {cp['messages_per_job']} |",
                      f"| a unary call (GetWorkerInfo) through gRPC minus in-process | {cp['unary_call_overhead_seconds']['median'] * 1e3:.3f} ms (median) |",
                      f"| plan of {p['languages']} languages x {p['methods']} methods -> {p['jobs']} jobs (parse, corpora, jobs, resume keys) | {p['seconds'] * 1000:.0f} ms |", "",
                      f"- plan expansion: {p['seconds']:.3f} s (goal < 1 s): {goal(p['seconds'] < 1)}"]
    return lines


NOTES = """## Notes on the goals

- **Step time vs clone-and-write (goal <= 0.6x): missed on this CPU shape, and not reachable by
  arithmetic.** A profile of one step (torch.profiler, small shape, batch 2 x 256) shows the large
  matrix products of the sparse trainer are exactly LoRA's: per layer 3 forward MLP products and
  3 input-gradient products, [512 x 512] x [512 x 1536] and back; the slices add only
  [512 x 15]-sized products. Clone-and-write adds one full weight-gradient product per projection
  (3 per layer) plus full clones of the three matrices. With F = forward MLP cost, the MLP costs
  ours ~2F against clone ~3F; attention, the LM head and the rest are shared. So ours / clone is
  at best ~0.67 when the MLP is the whole step, ~0.75-0.8 for Llama-3.1-8B's MLP share, and
  0.78-0.87 measured here, where the 8k-vocabulary head and attention weigh more. The goal would
  need clone-and-write to have costs beyond its FLOPs (the full clones are memory-bound on a GPU:
  to be measured with `--device cuda`).
- The sparse trainer adds its slice corrections in place (`index_add_`): an earlier
  `index_copy` version copied a zeroed [tokens, intermediate] gradient per projection and
  was 1.14x LoRA's step time; it is now at or below LoRA's.
- **Collection overhead (goal <= +5%): not resolved, in both runs.** The counting hook (one
  compare and an int32 column sum per layer) costs about +3.5-4% of a plain forward here; the
  interval of 21 batch-by-batch interleaved pairs still reaches past 5% on this machine. The
  earlier +3.9% / +12.5% verdicts came from one timing per side. Reaching "met" needs either a
  cheaper count or a quieter machine; the GPU run (`npm run gpu-check`) will say how it looks
  where collection actually runs.
- **Control plane:** until 2026-12 this compared a worker against a separate Python process
  doing "the same work", which ran 15-40% slower for a reason never found (so the goal could not
  be resolved). It now calls one WorkerService, its model loaded once, both ways in one process:
  `Train` directly, and `Train` through a gRPC channel on loopback; the only difference is the
  RPC (serialization, the progress stream, the network stack). Progress reports are throttled
  to 4 per second per phase, so fast steps do not pay for reporting.
- **Evaluation's share of the demo (goal <= 33%): missed, 45%.** What changed it without changing a
  score: reading scores the passage once and only the options after it (31 -> 15 s per
  evaluation), and model loads went from 3 to 1 per demo (ffn restores the base from a host copy
  instead of dropping it; the pool gives a freed worker to a job on the model it holds, so the
  evaluation of the ffn model directory runs last). The demo went from 710 s to 536 s; the base
  evaluation job's parts did not change between "after" and "models kept" (43 vs 48 s is this
  machine's noise; the scores are identical). What is left is arithmetic: one evaluation runs
  ~12k tokens forward (5,000 held-out perplexity tokens in 6 languages, 5,700 reading tokens,
  ~1,000 alignment tokens), ~3 TFLOP on a 135M model, plus two greedy translation batches whose
  length is set by their longest answer (up to 128 steps of ~60-90 ms, bound by reading the
  weights, not by rows). One training job is 24 steps x 512 tokens x (forward + backward), ~10
  TFLOP. With 5 evaluations against 4 trainings and 6 collections at the same FLOP rate, the
  share cannot fall much below ~40%. Reaching 33% needs less evaluation work per model (a
  smaller demo evaluation) or scores that change (bf16 on CPU, a merged LoRA, dropping finished
  rows from a generation batch); none was taken. Measured per evaluated model (bench/evaluation.py
  --model / --adapter, 2026-12-03): base 43-48 s, ffn directory 42.9 s, LoRA unmerged 58.1 s.
- **How timings become verdicts.** CPU timings on a shared 2-core machine vary by ~10% between
  runs. Every timing goal is therefore measured in interleaved pairs (A, B, A, B, ... in one
  process; bench/paired.py) and reported as the median ratio with a ~95% interval for the
  median; the verdict is "met" or "missed" only when the whole interval is on one side of the
  goal, else "not resolved". Two runs are kept side by side to show the verdicts hold.
"""


def goals_across_runs(runs: list[dict]) -> list[str]:
    """The timing goals of every kept run side by side: a verdict that flips between runs of the
    same code on the same machine would not be measuring its goal."""
    header = ["goal"] + [f"run {i + 1} ({r['machine']['date']})" for i, r in enumerate(runs)] + (["verdicts agree"] if len(runs) > 1 else [])
    lines = ["### Timing goals: ratio median [~95% interval], verdict", "",
             "Each ratio comes from interleaved pairs (bench/paired.py): met only when the whole interval meets the goal, missed only when none of it does.", "",
             f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    names = [g[0] for g in ratio_goals(runs[-1])]
    for index, name in enumerate(names):
        cells, verdicts = [], []
        for run in runs:
            _name, summary, target, style = ratio_goals(run)[index]
            spread, verdict = goal_text(summary, target, style)
            cells.append(f"{spread}: **{verdict}**" if verdict != "met" else f"{spread}: met")
            verdicts.append(verdict)
        bound = ratio_goals(runs[-1])[index]
        label = f"{name} (goal <= {shown(bound[2], bound[3])})"
        agree = (["yes" if len(set(verdicts)) == 1 else "**no**"] if len(runs) > 1 else [])
        lines.append(f"| {' | '.join([label, *cells, *agree])} |")
    return lines


def render(results: dict[str, dict]) -> str:
    lines = ["# Benchmarks", "",
             "Generated by `bench/run.py` (`npm run bench`); do not edit by hand. Ratios matter more than absolute",
             "numbers: every competitor runs on the same machine, model shape, batch and seed. Models are random-init",
             "Llama configurations (weights do not change the cost).", ""]
    for device in ("cpu", "cuda"):
        runs = results.get(device, {}).get("runs", [])
        if runs:
            lines += render_mode(device, runs[-1]) + [""] + goals_across_runs(runs) + [""]
        else:
            lines += [f"## {device.upper()}", "", "Not measured yet: no " + ("GPU was available to this project when the benchmarks last ran."
                                                                               if device == "cuda" else "CPU run recorded."), ""]
    lines += render_evaluation(results.get("evaluation", {}).get("runs", []))
    lines += [NOTES]
    return "\n".join(lines)


def render_evaluation(runs: list[dict]) -> list[str]:
    """bench/evaluation.py's records side by side: one demo evaluation job, part by part, and the
    whole demo's job time per kind (the share evaluation takes)."""
    if not runs:
        return []
    header = ["part"] + [f"{r['label']} ({r['commit']}, {r['date']})" for r in runs]
    lines = ["## Evaluation: one demo evaluation job (bench/evaluation.py, base model, batch "
             f"{runs[-1]['batch_size']})", "", f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    for part in runs[-1]["seconds"]:
        lines.append(f"| {part} | " + " | ".join(f"{r['seconds'].get(part, float('nan')):.2f} s" for r in runs) + " |")
    lines.append("| **total** | " + " | ".join(f"**{r['total_s']:.1f} s**" for r in runs) + " |")
    same = all(r["scores"] == runs[0]["scores"] for r in runs)
    lines += ["", f"- every score identical across these runs (perplexity per language, chrF both ways, reading accuracy, alignment): {same}"]
    demos = [r for r in runs if r.get("demo_jobs")]
    if demos:
        lines += ["", "The whole demo (`npx sparse-sub run configs/demo.plan.json`), job seconds summed per kind:", "",
                  "| run | collect | train | evaluate | evaluation's share |", "|---|---|---|---|---|"]
        for r in demos:
            jobs = r["demo_jobs"]
            total = sum(jobs.values())
            lines.append(f"| {r['label']} | {jobs.get('collect', 0):.0f} s | {jobs.get('train', 0):.0f} s | {jobs.get('evaluate', 0):.0f} s | "
                         f"{jobs.get('evaluate', 0) / total:.0%} (goal <= 33%) |")
    return lines + [""]


KEPT_RUNS = 2  # RESULTS.md shows the last two runs of each device side by side


def load_results() -> dict[str, dict]:
    results = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        results[path.stem] = data if "runs" in data else {"runs": []}  # an older single-run file: superseded
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, prints, writes nothing (a smoke test)")
    parser.add_argument("--render", action="store_true", help="only re-render RESULTS.md from bench/results/")
    args = parser.parse_args()
    if args.render:
        (HERE / "RESULTS.md").write_text(render(load_results()))
        return
    gpu = args.device == "cuda"
    args.shape = "llama-3.1-8b" if gpu else "small"
    args.batch_size, args.sequence_length = (1, 2048) if gpu else (2, 256)
    args.steps, args.collect_sequences, args.control_steps = (5, 32, 60) if gpu else (5, 32, 60)
    # pairs: enough that the median's interval is narrower than the goal's margin on this machine
    args.pairs, args.pair_steps, args.collect_pairs = (5, 2, 9) if gpu else (9, 3, 21)
    args.scoring_items = 64 if gpu else 16
    if args.quick:
        args.sequence_length, args.steps, args.collect_sequences, args.control_steps, args.scoring_items = 32, 2, 4, 3, 2
        args.pairs, args.pair_steps, args.collect_pairs = 1, 1, 1
    data = measure(args)
    if args.quick:
        print(json.dumps(data, indent=2))
        return
    RESULTS_DIR.mkdir(exist_ok=True)
    results = load_results()
    runs = (results.get(args.device, {}).get("runs", []) + [data])[-KEPT_RUNS:]
    (RESULTS_DIR / f"{args.device}.json").write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    results[args.device] = {"runs": runs}
    (HERE / "RESULTS.md").write_text(render(results))
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
