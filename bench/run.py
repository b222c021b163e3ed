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
    collection = run_json([python, str(HERE / "collection.py"), "--shape", args.shape, "--device", args.device,
                           "--sequences", str(args.collect_sequences), "--sequence-length", str(args.sequence_length)])
    scoring = run_json([python, str(HERE / "scoring.py"), "--shape", args.shape, "--device", args.device, "--items", str(args.scoring_items)])
    control = run_json(["node", str(HERE / "control-plane.mjs"), "--steps", str(args.control_steps)]) if args.device == "cpu" else None
    return {"command": " ".join(["npm run bench --", *sys.argv[1:]]).strip(), "machine": machine(args.device), "shape": args.shape,
            "training": training, "collection": collection, "scoring": scoring, "control_plane": control}


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
              "| competitor | trainable params | params + grads + AdamW state (MiB) | peak memory (MiB) | tokens/s | step time vs LoRA | vs clone-and-write |",
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
    if "error" not in ours and "error" not in masked and "error" not in lora and "error" not in clone:
        grad_opt = lambda r: r["gradient_bytes"] + r["optimizer_state_bytes"]
        lines += ["", "Goals:", "",
                  f"- optimizer state + gradients, sparse 1% vs gradient masking 1%: 1/{grad_opt(masked) / grad_opt(ours):.0f} (goal <= 1/60): {goal(grad_opt(masked) / grad_opt(ours) >= 60)}",
                  f"- peak memory, sparse 1% vs LoRA r16: {ratio(ours['peak_bytes'], lora['peak_bytes'])}x (goal <= 1.10): {goal(ours['peak_bytes'] <= 1.10 * lora['peak_bytes'])}",
                  f"- step time, sparse 1% vs LoRA r16: {ratio(ours['seconds_per_step'], lora['seconds_per_step'])}x (goal <= 1.05): {goal(ours['seconds_per_step'] <= 1.05 * lora['seconds_per_step'])}",
                  f"- step time, sparse 1% vs clone-and-write: {ratio(ours['seconds_per_step'], clone['seconds_per_step'])}x (goal <= 0.6): {goal(ours['seconds_per_step'] <= 0.6 * clone['seconds_per_step'])}"]
    c = data["collection"]
    lines += ["", f"### 3. Activation collection ({c.get('tokens', '-')} tokens, batch {c.get('batch_size', '-')} x {c.get('sequence_length', '-')})", ""]
    if "error" in c:
        lines.append(f"failed: {c['error']}")
    else:
        lines += ["| forward | tokens/s |", "|---|---|",
                  f"| plain decoder forward, no hooks | {c['plain_tokens_per_second']:,.0f} |",
                  f"| collection (hooks counting gate > 0) | {c['collect_tokens_per_second']:,.0f} |", "",
                  f"- collection overhead: {c['overhead'] * 100:+.1f}% (goal <= +5%): {goal(c['overhead'] <= 0.05)}",
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
            g, p = cp["grpc"], cp["plan_expansion"]
            lines += ["| measurement | value |", "|---|---|",
                      f"| training job ({g['steps']} steps, warm model) through gRPC + ZeroMQ telemetry | {g['grpc_seconds']:.2f} s |",
                      f"| the same work in-process (load text, train, write pack) | {g['in_process_seconds']:.2f} s |",
                      f"| telemetry events received | {g['telemetry_events']} |",
                      f"| plan of {p['languages']} languages x {p['methods']} methods -> {p['jobs']} jobs (parse, corpora, jobs, resume keys) | {p['seconds'] * 1000:.0f} ms |", "",
                      f"- gRPC path overhead: {g['overhead'] * 100:+.1f}% (goal < 1%): "
                      + (goal(g['overhead'] < 0.01) if g['overhead'] >= 0 else "no measurable overhead; the baseline is slower (see the notes)"),
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
- **Control plane:** the gRPC path measures as fast as or faster than the same work in a separate
  Python process. The in-process baseline runs ~15-40% slower than the worker on this machine for
  a reason not yet found (same code, settings and thread count; measured with no worker alive),
  so this comparison bounds the overhead (no measurable cost) rather than measuring it. Progress
  reports are throttled to 4 per second per phase, so fast steps do not pay for reporting.
- CPU timings on this shared 2-core machine vary by ~10% between runs (compare sparse 0.2% and
  1% above); ratios within one run are what the goals use.
"""


def render(results: dict[str, dict]) -> str:
    lines = ["# Benchmarks", "",
             "Generated by `bench/run.py` (`npm run bench`); do not edit by hand. Ratios matter more than absolute",
             "numbers: every competitor runs on the same machine, model shape, batch and seed. Models are random-init",
             "Llama configurations (weights do not change the cost).", ""]
    for device in ("cpu", "cuda"):
        if device in results:
            lines += render_mode(device, results[device]) + [""]
        else:
            lines += [f"## {device.upper()}", "", "Not measured yet: no " + ("GPU was available to this project when the benchmarks last ran."
                                                                               if device == "cuda" else "CPU run recorded."), ""]
    lines += [NOTES]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, prints, writes nothing (a smoke test)")
    parser.add_argument("--render", action="store_true", help="only re-render RESULTS.md from bench/results/")
    args = parser.parse_args()
    if args.render:
        results = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))}
        (HERE / "RESULTS.md").write_text(render(results))
        return
    gpu = args.device == "cuda"
    args.shape = "llama-3.1-8b" if gpu else "small"
    args.batch_size, args.sequence_length = (1, 2048) if gpu else (2, 256)
    args.steps, args.collect_sequences, args.control_steps = (5, 32, 60) if gpu else (5, 16, 60)
    args.scoring_items = 64 if gpu else 16
    if args.quick:
        args.sequence_length, args.steps, args.collect_sequences, args.control_steps, args.scoring_items = 32, 2, 4, 3, 2
    data = measure(args)
    if args.quick:
        print(json.dumps(data, indent=2))
        return
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{args.device}.json").write_text(json.dumps(data, indent=2) + "\n")
    results = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))}
    (HERE / "RESULTS.md").write_text(render(results))
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
