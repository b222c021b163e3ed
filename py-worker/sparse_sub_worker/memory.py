"""Peak memory of one job: CUDA's own counter on a GPU, sampled process RSS on the CPU
(ru_maxrss would be the whole process's lifetime peak, not this job's)."""

from __future__ import annotations

import os
import threading

import psutil
import torch


class PeakMemory:
    """`with PeakMemory(device) as peak: ...` then `peak.bytes`: the most memory in use during
    the block (CUDA: bytes allocated by tensors; CPU: resident set size of the process)."""

    def __init__(self, device: torch.device, interval_seconds: float = 0.02):
        self.device = device
        self.interval = interval_seconds
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = psutil.Process(os.getpid())

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._peak = self._process.memory_info().rss
            self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, self._process.memory_info().rss)

    @property
    def bytes(self) -> int:
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        return self._peak  # sampled while the block runs, and once more when it ends
