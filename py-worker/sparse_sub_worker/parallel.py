"""One training job over several processes started by torchrun (one per GPU; gloo processes on a
CPU): PyTorch's own FSDP2 (`fully_shard`) or DistributedDataParallel, nothing home-made.

Every process runs the same loop on the same data order and takes a share of each optimizer
step's micro-batches (micro-batch i goes to process i mod world), so a step sees exactly the
sequences it sees in one process: only where the arithmetic happens changes."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

STRATEGIES = ("fsdp", "ddp")


def local_tensor(t: torch.Tensor) -> torch.Tensor:
    """This process's part of a tensor (its shard of an FSDP parameter or optimizer state)."""
    return t.to_local() if isinstance(t, DTensor) else t


@dataclass
class Parallel:
    strategy: str  # "fsdp" | "ddp"
    rank: int
    world: int
    device: torch.device

    @classmethod
    def from_environment(cls, strategy: str) -> "Parallel":
        """Joins the process group torchrun describes in the environment."""
        if strategy not in STRATEGIES:
            raise ValueError(f"parallel must be one of {STRATEGIES}, got {strategy!r}")
        local_rank = int(os.environ["LOCAL_RANK"])
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
            device, backend = torch.device("cuda", local_rank), "nccl"
        else:
            device, backend = torch.device("cpu"), "gloo"
        # a collective that waits this long means a process is gone or out of step: fail, not hang
        dist.init_process_group(backend, timeout=timedelta(minutes=10))
        return cls(strategy, dist.get_rank(), dist.get_world_size(), device)

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()

    def shard(self, model: torch.nn.Module) -> None:
        """FSDP: each decoder layer, then the rest, is sharded over the processes (in place)."""
        if self.strategy != "fsdp":
            return
        from torch.distributed.fsdp import fully_shard

        for layer in model.model.layers:
            fully_shard(layer)
        fully_shard(model)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """What the loop calls forward on: DDP's wrapper (it hooks the backward), or the FSDP model."""
        if self.strategy != "ddp":
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def share(self, micro_batches: Sequence[torch.Tensor]) -> list[tuple[torch.Tensor, float]]:
        """This process's micro-batches, each with the factor on its loss. Gradients are averaged
        over the processes, so each loss counts `world` times. Every process runs the same number
        of forward/backward passes (FSDP gathers weights in each one, all processes together):
        one that runs out repeats a micro-batch with a zero factor."""
        mine = [(micro, float(self.world)) for micro in micro_batches[self.rank :: self.world]]
        rounds = math.ceil(len(micro_batches) / self.world)
        return mine + [(micro_batches[0], 0.0)] * (rounds - len(mine))

    def gradient_sync(self, forward: torch.nn.Module, last: bool):
        """Gradients are exchanged once per step, after this process's last micro-batch (the
        processes may hold different numbers of micro-batches)."""
        if self.strategy == "ddp":
            return nullcontext() if last else forward.no_sync()
        forward.set_requires_gradient_sync(last)
        return nullcontext()

    def all_sum(self, value: torch.Tensor) -> torch.Tensor:
        total = value.detach().clone()
        dist.all_reduce(total)
        return total

    def full_state_dict(self, model: torch.nn.Module) -> dict[str, torch.Tensor] | None:
        """The whole model's weights on the host of the first process (collective: all call it)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        return state if self.rank == 0 else None

    def barrier(self) -> None:
        dist.barrier()
