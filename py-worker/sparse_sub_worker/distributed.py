"""A training job over several GPUs of one worker: the worker starts `torchrun` (PyTorch's
launcher) with one process per GPU, each running `python -m sparse_sub_worker.distributed`.

    worker (gRPC)  --request.pb-->  torchrun --nproc_per_node N  -->  N x main()
                   <--event lines-- (first process's stdout)
                   <--result.pb / error.<rank>.json--

The processes share the job through parallel.py (FSDP2 or DDP). The first one reports progress
as `SPARSE_SUB_EVENT {json}` lines and writes the TrainResult; a process that fails writes its
error, so the worker can answer with the same reason and field as a one-process job would."""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

import grpc
import torch

from .atomic import atomic_path
from .errors import WorkerError, invalid
from .gen.sparse_sub.v1 import worker_pb2 as pb
from .models.loading import ModelRequest, load_model
from .parallel import Parallel
from .training import StepReport
from .train_job import TrainJob

EVENT_PREFIX = "SPARSE_SUB_EVENT "
STDERR_TAIL_LINES = 30


def launch(processes: str, *arguments: str) -> None:
    """Becomes torchrun, asking Linux first to SIGTERM it when the worker dies, even by SIGKILL
    (PR_SET_PDEATHSIG survives exec; set here rather than in a preexec_fn, which is unsafe in a
    threaded server). torchrun passes the SIGTERM on to its processes."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the worker's own stop still ends the job
    os.execv(sys.executable, [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
                              "-m", "sparse_sub_worker.distributed", *arguments])


def run_distributed(request: pb.TrainRequest, on_step: Callable[[StepReport], None], on_validation: Callable[[int, float], None],
                    should_stop: Callable[[], None], on_message: Callable[[str], None]) -> pb.TrainResult:
    """Runs the job under torchrun and relays its progress; `should_stop` raising stops it."""
    processes = request.config.processes
    gpus = torch.cuda.device_count()
    if gpus and processes > gpus:
        raise invalid("config.processes", f"{processes} processes, but this worker sees {gpus} GPUs (CUDA_VISIBLE_DEVICES)")
    with tempfile.TemporaryDirectory(prefix="sparse-sub-torchrun-") as work:
        request_path, result_path = Path(work, "request.pb"), Path(work, "result.pb")
        request_path.write_bytes(request.SerializeToString())
        command = [sys.executable, "-m", "sparse_sub_worker.distributed", "launch", str(processes), str(request_path), str(result_path), work]
        on_message(f"starting {processes} processes ({request.config.parallel or 'fsdp'}) with torchrun")
        # the processes import this package however the worker found it (installed or not)
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
        events: queue.Queue[str | None] = queue.Queue()
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        threading.Thread(target=lambda: [events.put(line) for line in child.stdout] + [events.put(None)], daemon=True).start()
        threading.Thread(target=lambda: [stderr_tail.append(line.rstrip()) for line in child.stderr], daemon=True).start()
        try:
            finished = False
            while not finished:
                should_stop()
                try:
                    line = events.get(timeout=0.2)
                except queue.Empty:
                    continue
                if line is None:
                    finished = True
                elif line.startswith(EVENT_PREFIX):
                    _relay(json.loads(line[len(EVENT_PREFIX):]), on_step, on_validation, on_message)
            code = child.wait()
        except BaseException:
            _stop(child)
            raise
        if code == 0 and result_path.exists():
            return pb.TrainResult.FromString(result_path.read_bytes())
        raise _failure(Path(work), code, "\n".join(stderr_tail))


def _relay(event: dict, on_step, on_validation, on_message) -> None:
    kind = event.pop("kind")
    if kind == "step":
        on_step(StepReport(**event))
    elif kind == "validation":
        on_validation(event["step"], event["loss"])
    else:
        on_message(event["message"])


def _stop(child: subprocess.Popen) -> None:
    """SIGTERM to torchrun and its processes; SIGKILL if they linger."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
            child.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _failure(work: Path, code: int, stderr_tail: str) -> WorkerError:
    """The error a process wrote (first by rank), else torchrun's exit code and stderr."""
    for path in sorted(work.glob("error.*.json")):
        saved = json.loads(path.read_text())
        return WorkerError(grpc.StatusCode[saved["code"]], saved["reason"], saved["message"], saved["field"])
    return WorkerError(grpc.StatusCode.INTERNAL, "DISTRIBUTED_FAILED",
                       f"torchrun exited with code {code} before the job finished:\n{stderr_tail}")


def main(request_path: str, result_path: str, work: str) -> int:
    request = pb.TrainRequest.FromString(Path(request_path).read_bytes())
    parallel = Parallel.from_environment(request.config.parallel or "fsdp")

    def emit(kind: str, **fields) -> None:
        if parallel.rank == 0:
            print(EVENT_PREFIX + json.dumps({"kind": kind, **fields}), flush=True)

    try:
        job = TrainJob.parse(request)
        spec = request.model
        device = str(parallel.device) if parallel.device.type == "cuda" else (spec.device or "cpu")
        loaded = load_model(ModelRequest(spec.source, spec.gguf_file, spec.dtype or "auto", device, spec.revision, spec.add_bos or "auto"))
        emit("message", message=f"process {parallel.rank}/{parallel.world} loaded {loaded.description}")
        result = job.run(loaded, lambda report: emit("step", **dataclasses.asdict(report)),
                         lambda step, loss: emit("validation", step=step, loss=loss), lambda: None, parallel)
        if parallel.rank == 0:
            with atomic_path(result_path) as tmp:
                Path(tmp).write_bytes(result.SerializeToString())
        return 0
    except Exception as error:  # noqa: BLE001 - handed to the worker, which answers the RPC with it
        saved = (error.code.name, error.reason, error.message, error.field) if isinstance(error, WorkerError) else \
            ("INTERNAL", "INTERNAL", f"process {parallel.rank}: {type(error).__name__}: {error}", None)
        Path(work, f"error.{parallel.rank:04d}.json").write_text(json.dumps(dict(zip(("code", "reason", "message", "field"), saved))))
        raise
    finally:
        parallel.close()


if __name__ == "__main__":
    if sys.argv[1] == "launch":
        launch(*sys.argv[2:])
    sys.exit(main(*sys.argv[1:4]))
