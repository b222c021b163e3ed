"""The one training loop every method shares (docs/method.md §3): same data order, batches,
AdamW, clipping and validation; only the Trainable (methods/) differs.

Differences from the reference, on purpose: padding never counts in the loss; the optimizer
is never rebuilt at a validation improvement (Adam moments carry on); the model's own dtype.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field

import torch

from .atomic import atomic_path, remove_partials_of
from .corpus import PackedSequences
from .errors import invalid
from .evaluation import score_sequences
from .memory import PeakMemory
from .methods import Trainable
from .models.loading import LoadedModel
from .parallel import Parallel, local_tensor
from .sparse_mlp import COMPONENTS

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    learning_rate: float = 1e-4          # AdamW learning rate (reference)
    weight_decay: float = 0.01           # AdamW decoupled decay, applied to the slice weights
    max_grad_norm: float = 1.0           # global grad-norm clip over the slices; 0 = off
    batch_size: int = 2                  # sequences per micro-batch
    gradient_accumulation_steps: int = 1 # micro-batches per optimizer step
    sequence_length: int = 512           # tokens per packed chunk
    max_tokens: int = 0                  # training token budget; 0 = whole corpus
    epochs: int = 1                      # passes over the packed corpus
    max_steps: int = 0                   # cap on optimizer steps; 0 = none
    validate_every: int = 500            # optimizer steps between validations; 0 = never
    seed: int = 0                        # data order and any dropout
    components: tuple[str, ...] = COMPONENTS  # sparse/random: which projections train
    gradient_checkpointing: bool = False  # recompute activations in backward (full FT of big models)
    checkpoint_every: int = 0             # optimizer steps between resumable checkpoints; 0 = none

    def __post_init__(self) -> None:
        positive = ("learning_rate", "batch_size", "gradient_accumulation_steps", "sequence_length", "epochs")
        for name in positive:
            if getattr(self, name) <= 0:
                raise invalid(f"config.{name}", f"must be > 0, got {getattr(self, name)}")
        for name in ("weight_decay", "max_grad_norm", "max_tokens", "max_steps", "validate_every", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise invalid(f"config.{name}", f"must be >= 0, got {getattr(self, name)}")
        if not self.components:
            self.components = COMPONENTS
        unknown = [c for c in self.components if c not in COMPONENTS]
        if unknown or len(set(self.components)) != len(self.components):
            raise invalid("config.components", f"{list(self.components)} must be distinct values of {list(COMPONENTS)}")


@dataclass
class StepReport:
    step: int
    total_steps: int
    loss: float
    tokens: int
    tokens_per_second: float  # of this attempt: steps done before a resume do not count
    elapsed: float
    message: str = ""  # e.g. on the first step after a resume


@dataclass
class TrainOutcome:
    steps: int
    tokens: int
    seconds: float
    trainable_parameters: int
    total_parameters: int
    optimizer_state_bytes: int
    peak_memory_bytes: int
    best_step: int
    diverged_step: int = 0  # > 0: the step whose loss was NaN or infinite; training stopped there
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    validation_loss: list[tuple[int, float]] = field(default_factory=list)
    tokens_before_resume: int = 0  # trained by an earlier attempt (not in `seconds`)


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes this process holds (its shard, under FSDP)."""
    return sum(local_tensor(t).numel() * t.element_size() for state in optimizer.state.values() for t in state.values() if torch.is_tensor(t))


def run_training(
    loaded: LoadedModel,
    trainable: Trainable,
    train: PackedSequences,
    validation: PackedSequences | None,
    settings: TrainSettings,
    output_path: str | None = None,
    checkpoint_path: str | None = None,
    on_step: Callable[[StepReport], None] = lambda report: None,
    on_validation: Callable[[int, float], None] = lambda step, loss: None,
    should_stop: Callable[[], None] = lambda: None,
    parallel: Parallel | None = None,
) -> TrainOutcome:
    """Trains `trainable`, keeps the weights of the best validation (or the last step), and
    writes its artifact to `output_path`. `should_stop` raises to cancel between micro-batches.
    With `checkpoint_path` and settings.checkpoint_every, the state (trained tensors, AdamW
    moments, step, losses, best weights, RNG) is saved every N steps; a run started again with
    the same settings continues from the last checkpoint, and the file is removed at the end.
    The model is back to its base state afterwards unless `trainable.base_changed`.

    Under `parallel` (one of torchrun's processes) every process runs this with the same
    arguments: each takes its share of every step's micro-batches, FSDP or DDP exchanges the
    gradients, and the first process writes the artifact. No resumable checkpoints then."""
    model, device = loaded.model, loaded.device
    torch.manual_seed(settings.seed)
    total_parameters = sum(p.numel() for p in model.parameters())
    if parallel is not None:
        parallel.shard(model)  # FSDP replaces the parameters: before the trainable collects them
        checkpoint_path = None

    with PeakMemory(device) as peak, trainable.installed() as params, _checkpointing(model, settings.gradient_checkpointing):
        loop = _Loop(loaded, trainable, params, train, validation, settings, parallel, on_validation)
        checkpoints = _Checkpoints(checkpoint_path, settings.checkpoint_every, _fingerprint(settings, trainable, params))
        state, resume_note = loop.resume_or_start(checkpoints, checkpoint_path)
        resumed_tokens = state.tokens
        seconds = loop.train(state, checkpoints, resume_note, on_step, should_stop)
        loop.keep_best(state)
        state_bytes = optimizer_state_bytes(loop.optimizer)
        trainable_count = sum(p.numel() for p in params)
        if output_path:
            _write_artifact(trainable, model, output_path, parallel)
        checkpoints.remove()  # the job is done: nothing to resume

    return TrainOutcome(
        steps=state.step,
        tokens=state.tokens,
        seconds=seconds,
        trainable_parameters=trainable_count,
        total_parameters=total_parameters,
        optimizer_state_bytes=state_bytes,
        peak_memory_bytes=peak.bytes,
        best_step=state.best_step,
        diverged_step=state.diverged_step,
        train_loss=state.train_loss,
        validation_loss=state.validation_loss,
        tokens_before_resume=resumed_tokens,
    )


class _Loop:
    """One job's training: the data order, its optimizer and the steps around a TrainingState."""

    def __init__(self, loaded: LoadedModel, trainable: Trainable, params: list[torch.nn.Parameter], train: PackedSequences,
                 validation: PackedSequences | None, settings: TrainSettings, parallel: Parallel | None,
                 on_validation: Callable[[int, float], None]) -> None:
        self.model, self.device = loaded.model, loaded.device
        self.forward = parallel.wrap(self.model) if parallel is not None else self.model
        self.trainable, self.params, self.train_data, self.validation = trainable, params, train, validation
        self.settings, self.parallel, self.on_validation = settings, parallel, on_validation
        self.optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
        self.per_step = settings.batch_size * settings.gradient_accumulation_steps
        self.total_steps = math.ceil(len(train) / self.per_step) * settings.epochs
        if settings.max_steps:
            self.total_steps = min(self.total_steps, settings.max_steps)

    def step_batches(self) -> Iterator[torch.Tensor]:
        """Each optimizer step's sequence indices, epoch after epoch, in one seeded order."""
        order = torch.randperm(len(self.train_data), generator=torch.Generator().manual_seed(self.settings.seed))
        for _epoch in range(self.settings.epochs):
            for first in range(0, len(self.train_data), self.per_step):
                yield order[first : first + self.per_step]

    def resume_or_start(self, checkpoints: _Checkpoints, checkpoint_path: str | None) -> tuple[TrainingState, str]:
        """The saved state when a checkpoint matches; else a new one, validated before step 1."""
        state = checkpoints.resume(self.trainable, self.optimizer)
        if state is None:
            state = TrainingState()
            self.validate(state)
            return state, ""
        note = f"resumed from step {state.step} (checkpoint {os.path.basename(checkpoint_path)})"
        log.info("%s", note)
        return state, note

    def validate(self, state: TrainingState) -> None:
        if self.validation is None or self.settings.validate_every == 0:
            return
        loss = score_sequences(self.model, self.validation, self.settings.batch_size).mean_loss  # switches to eval and back
        state.validation_loss.append((state.step, loss))
        self.on_validation(state.step, loss)
        if loss < state.best_loss:
            state.best, state.best_loss, state.best_step = self.trainable.snapshot(), loss, state.step

    def train(self, state: TrainingState, checkpoints: _Checkpoints, resume_note: str,
              on_step: Callable[[StepReport], None], should_stop: Callable[[], None]) -> float:
        """Runs the steps after `state.step` (validating, checkpointing, reporting); returns the seconds."""
        settings, resumed_at, resumed_tokens = self.settings, state.step, state.tokens
        self.model.train()
        start = time.perf_counter()
        try:
            for position, chunk in enumerate(self.step_batches(), start=1):  # resumed steps included
                if position > self.total_steps:
                    break
                if position <= resumed_at:
                    continue  # done before the checkpoint: same order, skipped
                loss_value = self.optimizer_step(state, chunk, should_stop)
                if loss_value is None:
                    break
                elapsed = time.perf_counter() - start
                rate = (state.tokens - resumed_tokens) / elapsed if elapsed else 0.0
                on_step(StepReport(state.step, self.total_steps, loss_value, state.tokens, rate, elapsed,
                                   resume_note if state.step == resumed_at + 1 else ""))
                if settings.validate_every and state.step % settings.validate_every == 0:
                    self.validate(state)
                if checkpoints.due(state.step) and state.step < self.total_steps:
                    checkpoints.save(state, self.trainable, self.optimizer)
            if settings.validate_every and state.step % settings.validate_every != 0 and not state.diverged_step:
                self.validate(state)
        finally:
            self.model.eval()
        return time.perf_counter() - start

    def optimizer_step(self, state: TrainingState, chunk: torch.Tensor, should_stop: Callable[[], None]) -> float | None:
        """One AdamW step over `chunk`'s sequences; None (and no update) when its loss is not finite."""
        loss_value = _accumulate_gradients(self.forward, self.train_data, chunk, self.settings.batch_size, self.device,
                                           self.parallel, should_stop)
        if not math.isfinite(loss_value):
            # its gradients are not finite either: stop before they reach the weights
            state.diverged_step = state.step + 1
            log.warning("loss %s at step %d: training diverged; keeping the best weights (step %d)",
                        loss_value, state.diverged_step, state.best_step)
            self.optimizer.zero_grad(set_to_none=True)
            return None
        if self.settings.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.settings.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.tokens += int(self.train_data.attention_mask[chunk].sum())  # counted on the host: no device sync
        state.train_loss.append((state.step, loss_value))
        return loss_value

    def keep_best(self, state: TrainingState) -> None:
        """Puts back the best validation's weights; with no validation the last step is the best."""
        if state.best is None:
            state.best_step = state.step
        else:
            self.trainable.restore(state.best)


def _write_artifact(trainable: Trainable, model: torch.nn.Module, output_path: str, parallel: Parallel | None) -> None:
    if parallel is None:
        trainable.save(output_path)
        return
    state_dict = parallel.full_state_dict(model)  # every process takes part; the first gets it
    if parallel.rank == 0:
        trainable.save(output_path, state_dict)
    parallel.barrier()


@dataclass
class TrainingState:
    """Where the loop stands: what a checkpoint saves and a resumed job continues from."""
    step: int = 0
    tokens: int = 0
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    validation_loss: list[tuple[int, float]] = field(default_factory=list)
    best: dict[str, torch.Tensor] | None = None  # the trained tensors at the best validation
    best_loss: float = math.inf
    best_step: int = 0
    diverged_step: int = 0


def _accumulate_gradients(forward, train: PackedSequences, chunk: torch.Tensor, batch_size: int, device,
                          parallel: Parallel | None, should_stop: Callable[[], None]) -> float:
    """Forward and backward over one optimizer step's sequences, micro-batch by micro-batch (this
    process's share of them under `parallel`); returns the step's mean loss (its one host sync)."""
    step_loss = torch.zeros((), device=device)  # summed on the device
    micro_batches = chunk.split(batch_size)
    mine = parallel.share(micro_batches) if parallel is not None else [(micro, 1.0) for micro in micro_batches]
    for i, (micro, factor) in enumerate(mine):
        should_stop()
        ids = train.input_ids[micro].to(device)            # [B, S]
        mask = train.attention_mask[micro].to(device)
        labels = ids.masked_fill(mask == 0, -100)
        with parallel.gradient_sync(forward, i == len(mine) - 1) if parallel is not None else nullcontext():
            loss = forward(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False).loss
            (loss * factor / len(micro_batches)).backward()
        if factor:
            step_loss += loss.detach() / len(micro_batches)
    if parallel is not None:
        step_loss = parallel.all_sum(step_loss)
    return step_loss.item()


class _Checkpoints:
    """The resumable state of one job at `path`, saved every `every` steps (0 or no path: never),
    valid only for the same settings, method and trained shapes (`fingerprint`)."""

    def __init__(self, path: str | None, every: int, fingerprint: str) -> None:
        self.path, self.every, self.fingerprint = path, every, fingerprint
        if path:
            remove_partials_of(path)  # a worker killed mid-save leaves one

    def due(self, step: int) -> bool:
        return bool(self.path and self.every and step % self.every == 0)

    def resume(self, trainable: Trainable, optimizer: torch.optim.Optimizer) -> TrainingState | None:
        saved = _load_checkpoint(self.path, self.fingerprint) if self.path and self.every else None
        if saved is None:
            return None
        trainable.restore(saved["params"])
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])
        return TrainingState(saved["step"], saved["tokens"], saved["train_loss"], saved["validation_loss"],
                             saved["best"], saved["best_loss"], saved["best_step"])

    def save(self, state: TrainingState, trainable: Trainable, optimizer: torch.optim.Optimizer) -> None:
        _save_checkpoint(self.path, {
            "fingerprint": self.fingerprint, "params": trainable.snapshot(), "optimizer": optimizer.state_dict(),
            "step": state.step, "tokens": state.tokens, "train_loss": state.train_loss, "validation_loss": state.validation_loss,
            "best": state.best, "best_loss": state.best_loss, "best_step": state.best_step, "rng": torch.get_rng_state()})

    def remove(self) -> None:
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


# 2: trained tensors keyed by the modules' parameter names (a checkpoint of format 1 is not resumed)
CHECKPOINT_FORMAT = 2


def _fingerprint(settings: TrainSettings, trainable: Trainable, params: list[torch.nn.Parameter]) -> str:
    """What a checkpoint must match to be resumed: settings, method and the trained tensors' shapes."""
    shapes = [tuple(p.shape) for p in params]
    return json.dumps({"format": CHECKPOINT_FORMAT, "settings": {k: v for k, v in asdict(settings).items() if k != "checkpoint_every"},
                       "method": trainable.method, "shapes": shapes}, sort_keys=True)


def _save_checkpoint(path: str, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: str, fingerprint: str) -> dict | None:
    if not os.path.exists(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - an unreadable checkpoint only costs recomputation
        return None
    return state if state.get("fingerprint") == fingerprint else None


@contextmanager
def _checkpointing(model: torch.nn.Module, enabled: bool):
    if not enabled:
        yield
        return
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise invalid("config.gradient_checkpointing", f"{type(model).__name__} does not support gradient checkpointing")
    # non-reentrant: works when no input of a checkpointed block requires grad (frozen embeddings)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    try:
        yield
    finally:
        model.gradient_checkpointing_disable()

