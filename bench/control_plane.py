"""What the control plane costs a job, measured two ways on one WorkerService (its model loaded once):

1. the same training job called directly in this process and through gRPC on loopback, in
   interleaved pairs (bench/paired.py): both run the same code (load text, train, report
   progress, write the pack), so the difference is the RPC. Job-to-job noise on a shared CPU
   (several %) is far larger than the 1% goal, so this alone cannot resolve it;
2. the RPC's own cost, precisely: a unary call (GetWorkerInfo) through gRPC vs direct, in
   interleaved blocks of calls. A streamed message costs less than a whole unary call (no call
   setup), so (1 + messages per job) x the per-call cost bounds what gRPC adds to a job; divided
   by the job's time it is the overhead the goal is about.

Prints one JSON line.

    python bench/control_plane.py [--steps 60] [--pairs 9]"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent import futures
from pathlib import Path

import grpc

sys.path.insert(0, os.path.dirname(__file__))
from paired import interleaved, median, summary, timed  # noqa: E402

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb  # noqa: E402
from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2_grpc  # noqa: E402
from sparse_sub_worker.neuron_sets import NeuronSet, save_neuron_set  # noqa: E402
from sparse_sub_worker.server import WorkerService  # noqa: E402
from sparse_sub_worker.telemetry import TelemetryPublisher  # noqa: E402
from sparse_sub_worker.testing.tiny_model import make_tiny_llama  # noqa: E402
from sparse_sub_worker.testing.udhr_text import udhr_articles  # noqa: E402


class DirectCall:
    """The part of grpc.ServicerContext a streaming handler uses, for a call made in-process."""

    def add_callback(self, callback) -> bool:
        return True

    def is_active(self) -> bool:
        return True

    def abort_with_status(self, status):
        raise RuntimeError(f"job failed: {status.details}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--pairs", type=int, default=9)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="sparse-sub-bench-"))
    text = scratch / "af.txt"
    text.write_text("\n".join(udhr_articles("afr", range(1, 30))), encoding="utf-8")
    model = make_tiny_llama(scratch / "model", [text.read_text(encoding="utf-8")], layers=4, hidden=256, intermediate=768, vocab_size=2000)
    save_neuron_set(scratch / "set.json", NeuronSet("af", [[i * 7 for i in range(16)] for _ in range(4)], 768))

    def request(job_id: str) -> pb.TrainRequest:
        return pb.TrainRequest(
            job_id=job_id, model=pb.ModelSpec(source=str(model), dtype="float32", device="cpu"), language="af",
            neuron_set_path=str(scratch / "set.json"), train_corpus=pb.Corpus(text_files=pb.TextFiles(paths=[str(text)])),
            config=pb.TrainConfig(learning_rate=1e-4, weight_decay=0.01, max_grad_norm=1.0, batch_size=2, sequence_length=128,
                                  epochs=1000, max_steps=args.steps),
            output_path=str(scratch / f"{job_id}.safetensors"), method=pb.METHOD_SPARSE)

    telemetry = TelemetryPublisher()
    service = WorkerService(telemetry)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    worker_pb2_grpc.add_WorkerServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = worker_pb2_grpc.WorkerStub(channel)
    messages = {"direct": 0, "grpc": 0}

    def direct() -> None:
        for _event in service.Train(request("direct"), DirectCall()):
            messages["direct"] += 1

    def through_grpc() -> None:
        for _event in stub.Train(request("grpc")):
            messages["grpc"] += 1

    calls = 200
    info = pb.GetWorkerInfoRequest()

    def unary_direct() -> None:
        for _ in range(calls):
            service.GetWorkerInfo(info, DirectCall())

    def unary_grpc() -> None:
        for _ in range(calls):
            stub.GetWorkerInfo(info)

    try:
        pairs = interleaved(lambda: timed(direct), lambda: timed(through_grpc), args.pairs)  # the warm-up loads the model
        unary = interleaved(lambda: timed(unary_direct), lambda: timed(unary_grpc), args.pairs)
    finally:
        channel.close()
        server.stop(0).wait()
        telemetry.close()
    per_job = messages["grpc"] // (args.pairs + 1)  # the warm-up job counts too
    job_seconds = median(pairs["a_seconds"])
    per_call = [(g - d) / calls for d, g in zip(unary["a_seconds"], unary["b_seconds"])]  # seconds gRPC adds per call
    added = summary([1 + (1 + per_job) * c / job_seconds for c in per_call])  # bound on grpc job time / direct
    print(json.dumps({
        "steps": args.steps, "direct_seconds": job_seconds, "grpc_seconds": median(pairs["b_seconds"]),
        "job_ratio": {k: pairs[k] for k in ("pairs", "ratios", "median", "low", "high")},  # grpc / direct, whole jobs
        "messages_per_job": per_job,
        "unary_call_overhead_seconds": summary(per_call),
        "ratio": {k: added[k] for k in ("pairs", "ratios", "median", "low", "high")},  # the bound from the per-call cost
    }))


if __name__ == "__main__":
    main()
