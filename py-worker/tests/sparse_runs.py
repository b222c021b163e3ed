"""Train the paper's method in-process and read back the pack it wrote: what the worker's Train
job does, minus the protocol. (Tests only: the product trains through train_job.py.)"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
from sparse_sub_worker.packs import Pack, load_pack
from sparse_sub_worker.training import TrainOutcome, run_training


@dataclass
class SparseRun:
    outcome: TrainOutcome
    pack: Pack  # as written to the output file

    def __getattr__(self, name):  # the outcome's fields read as the run's
        return getattr(self.outcome, name)


def train_sparse(loaded, neuron_set, train, validation, settings, **callbacks) -> SparseRun:
    trainable = SubnetworkTrainable(loaded, neuron_set, settings.components)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.safetensors"
        outcome = run_training(loaded, trainable, train, validation, settings, str(path), **callbacks)
        return SparseRun(outcome, load_pack(str(path), "pack"))
