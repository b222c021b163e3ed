"""The checks only a GPU shows, in one command (`npm run gpu-check`; on a box without Node,
`python3 bench/gpu_check.py`). Within ~8 minutes on one H100/H200:

1. the environment: torch, CUDA, the GPU, bf16;
2. the pipeline's worker jobs at the demo model's shape (SmolLM2-135M: 30 layers, 576 x 1536,
   random init, a tokenizer trained on the UDHR text) on CUDA in bf16, over real gRPC against
   a worker in this process: collect two languages, LAPE select, train sparse and LoRA,
   evaluate (perplexity, translation, reading); every number must be finite; times and peak
   memory recorded;
3. `bench/run.py --device cuda` at the Llama-3.1-8B shape: writes the CUDA section of RESULTS.md;
4. with two GPUs or more, the distributed training tests (py-worker/tests/test_distributed.py).

Writes bench/results/gpu-check.json (and $OUT/gpu-check.json when OUT is set). Exit 1 when a
check fails. `--device cpu --quick` runs steps 1-2 on the CPU at a tiny shape: what the smoke
test runs, so the script is known to work before GPU time is spent on it.

Needs the worker's Python packages: on a machine without a registry, carry the wheels that
`node scripts/gpu-wheels.mjs` downloads (see bench/README.md)."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "py-worker"))

import grpc  # noqa: E402
import torch  # noqa: E402

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb  # noqa: E402
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2_grpc  # noqa: E402
from sparse_sub_worker.server import WorkerService  # noqa: E402
from sparse_sub_worker.telemetry import NullPublisher  # noqa: E402
from sparse_sub_worker.testing.tiny_model import make_tokenizer  # noqa: E402
from sparse_sub_worker.testing.udhr_text import udhr_articles  # noqa: E402

DEMO_SHAPE = dict(num_hidden_layers=30, hidden_size=576, intermediate_size=1536, num_attention_heads=9, num_key_value_heads=3)
TINY_SHAPE = dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2)


def environment() -> dict:
    info = {"torch": torch.__version__, "cuda_available": torch.cuda.is_available(), "cuda": torch.version.cuda}
    if torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0), gpus=torch.cuda.device_count(), bf16=torch.cuda.is_bf16_supported(),
                    memory_gib=round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1))
    return info


def demo_model(out: Path, shape: dict, texts: list[str]) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = make_tokenizer(texts, 8000)
    config = LlamaConfig(vocab_size=len(tokenizer), max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True, **shape)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def pipeline_jobs(device: str, shape: dict, steps: int) -> dict:
    """Collect -> select -> train (sparse, lora) -> evaluate, through gRPC, on `device`."""
    scratch = Path(tempfile.mkdtemp(prefix="sparse-sub-gpu-check-"))
    languages = {"en": "eng", "af": "afr"}
    texts = {code: udhr_articles(udhr, range(1, 31)) for code, udhr in languages.items()}
    model = demo_model(scratch / "model", shape, [t for articles in texts.values() for t in articles])
    files = {}
    for code, articles in texts.items():
        files[code] = scratch / f"{code}.train.txt", scratch / f"{code}.heldout.txt"
        files[code][0].write_text("\n".join(articles[:25]), encoding="utf-8")
        files[code][1].write_text("\n".join(articles[25:]), encoding="utf-8")
    translation = scratch / "udhr_translation.jsonl"
    translation.write_text("".join(json.dumps({"id": i, "sentence_eng_Latn": e, "sentence_afr_Latn": a}) + "\n"
                                   for i, (e, a) in enumerate(zip(texts["en"][25:], texts["af"][25:]))), encoding="utf-8")
    spec = pb.ModelSpec(source=str(model), dtype="bfloat16" if device != "cpu" else "float32", device=device)
    corpus = lambda path: pb.Corpus(text_files=pb.TextFiles(paths=[str(path)]))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.max_receive_message_length", 64 << 20)])
    worker_pb2_grpc.add_WorkerServicer_to_server(WorkerService(NullPublisher()), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = worker_pb2_grpc.WorkerStub(channel)
    timings, results = {}, {}

    def timed(name, call):
        start = time.perf_counter()
        value = call()
        timings[name] = round(time.perf_counter() - start, 2)
        return value

    last = lambda stream: list(stream)[-1]
    try:
        for code in languages:
            request = pb.CollectActivationsRequest(job_id=f"collect:{code}", model=spec, language=code, corpus=corpus(files[code][0]),
                                                   sequence_length=256, batch_size=8, output_path=str(scratch / f"{code}.counts.safetensors"))
            results[f"collect:{code}"] = timed(f"collect:{code}", lambda: last(stub.CollectActivations(request)).result.token_count)
        selection = timed("select", lambda: stub.SelectNeurons(pb.SelectNeuronsRequest(
            job_id="select", counts=[pb.ActivationCounts(language=c, path=str(scratch / f"{c}.counts.safetensors")) for c in languages],
            top_rate=0.05, filter_rate=0.95, activation_bar_ratio=0.95, output_dir=str(scratch / "neurons"))))
        results["selected_neurons"] = selection.selected_neuron_count
        lora = pb.AdapterConfig(target_modules=["gate_proj", "up_proj", "down_proj"], r=16, alpha=32, dropout=0.0)
        for method, extra in (("sparse", {"neuron_set_path": str(scratch / "neurons" / "af.json")}), ("lora", {"adapter": lora})):
            request = pb.TrainRequest(
                job_id=f"train:{method}", model=spec, language="af", train_corpus=corpus(files["af"][0]), validation_corpus=corpus(files["af"][1]),
                config=pb.TrainConfig(learning_rate=3e-4, weight_decay=0.01, max_grad_norm=1.0, batch_size=4, sequence_length=256, epochs=100,
                                      max_steps=steps, validate_every=steps),
                method=pb.METHOD_SPARSE if method == "sparse" else pb.METHOD_LORA,
                output_path=str(scratch / (f"af.{method}.safetensors" if method == "sparse" else "af.lora")), **extra)
            result = timed(f"train:{method}", lambda: last(stub.Train(request)).result)
            results[f"train:{method}"] = {"final_loss": result.train_loss[-1].loss if result.train_loss else float("nan"),
                                          "tokens_per_second": result.tokens_per_second, "peak_memory_bytes": result.peak_memory_bytes}
        evaluation = pb.EvaluateRequest(
            job_id="evaluate", model=spec, pack_path=str(scratch / "af.sparse.safetensors"), sequence_length=256, batch_size=8,
            sets=[pb.EvaluationSet(language=c, corpus=corpus(files[c][1])) for c in languages],
            tasks=[pb.TaskRequest(name="flores", label="udhr_translation", language="af", files=[str(translation)], max_new_tokens=32)])
        scored = timed("evaluate:sparse", lambda: last(stub.Evaluate(evaluation)).result)
        results["perplexity"] = {s.language: s.perplexity for s in scored.scores}
        results["chrf"] = scored.tasks[0].metrics["chrf"]
    finally:
        channel.close()  # before the server: gRPC threads alive at interpreter exit abort it
        server.stop(0).wait()
    numbers = [*results["perplexity"].values(), results["chrf"], *(results[f"train:{m}"]["final_loss"] for m in ("sparse", "lora"))]
    return {"device": device, "shape": shape, "steps": steps, "seconds": timings, "results": results,
            "finite": all(math.isfinite(x) for x in numbers)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="tiny shape, a few steps, no benchmarks (the smoke test)")
    args = parser.parse_args()
    report = {"environment": environment()}
    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({**report, "error": "no CUDA device: run on a GPU machine, or --device cpu --quick for a dry run"}))
        sys.exit(1)
    report["pipeline"] = pipeline_jobs(args.device, TINY_SHAPE if args.quick else DEMO_SHAPE, 3 if args.quick else 30)
    ok = report["pipeline"]["finite"]
    if not args.quick and args.device == "cuda":
        bench = subprocess.run([sys.executable, str(HERE / "run.py"), "--device", "cuda"], cwd=ROOT)
        report["bench"] = {"exit": bench.returncode, "results": str(HERE / "results" / "cuda.json")}
        ok = ok and bench.returncode == 0
        if torch.cuda.device_count() >= 2:
            tests = subprocess.run([sys.executable, "-m", "pytest", "py-worker/tests/test_distributed.py", "-q", "-p", "no:cacheprovider"], cwd=ROOT)
            report["distributed"] = {"exit": tests.returncode}
            ok = ok and tests.returncode == 0
        else:
            report["distributed"] = {"skipped": "one GPU"}
    text = json.dumps(report, indent=2)
    if not args.quick:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "gpu-check.json").write_text(text + "\n")
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu-check.json").write_text(text + "\n")
    print(json.dumps(report))  # one line: the smoke test and scripts read it
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
