"""A Train request carried out: checked up front, then the method's Trainable, the corpora, the
shared loop and the TrainResult. Used by the worker's own process and by each process torchrun
starts for a multi-GPU job (distributed.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .corpus import HubDatasetCorpus, TextFilesCorpus, load_sequences
from .errors import invalid
from .gen.sparse_sub.v1 import worker_pb2 as pb
from .methods import MethodDefinition, MethodJob
from .methods.registry import METHODS, method_definition
from .models.loading import LoadedModel
from .neuron_sets import NeuronSet, check_fits, load_neuron_set
from .parallel import STRATEGIES, Parallel
from .training import StepReport, TrainSettings, run_training

OUTPUT_KINDS = {"pack": pb.OUTPUT_KIND_PACK, "peft_adapter": pb.OUTPUT_KIND_PEFT_ADAPTER, "model_directory": pb.OUTPUT_KIND_MODEL_DIRECTORY}


def corpus_from_request(corpus: pb.Corpus, field_name: str):
    kind = corpus.WhichOneof("source")
    if kind == "text_files":
        if not corpus.text_files.paths:
            raise invalid(f"{field_name}.text_files.paths", "is empty")
        return TextFilesCorpus(tuple(corpus.text_files.paths))
    if kind == "hub_dataset":
        ds = corpus.hub_dataset
        if not ds.name:
            raise invalid(f"{field_name}.hub_dataset.name", "is empty")
        return HubDatasetCorpus(ds.name, ds.config, ds.split or "train", ds.text_field or "text")
    raise invalid(field_name, "no corpus source given (text_files or hub_dataset)")


@dataclass
class TrainJob:
    request: pb.TrainRequest
    method: MethodDefinition
    method_settings: object  # the method's own settings (its read_settings)
    settings: TrainSettings
    train_corpus: object
    validation_corpus: object | None
    neuron_set: NeuronSet | None
    processes: int
    parallel: str

    @classmethod
    def parse(cls, request: pb.TrainRequest) -> "TrainJob":
        c = request.config
        method = method_definition(request.method)
        settings = TrainSettings(
            learning_rate=c.learning_rate, weight_decay=c.weight_decay, max_grad_norm=c.max_grad_norm,
            batch_size=c.batch_size, gradient_accumulation_steps=c.gradient_accumulation_steps or 1,
            sequence_length=c.sequence_length, max_tokens=c.max_tokens, epochs=c.epochs or 1, max_steps=c.max_steps,
            validate_every=c.validate_every, seed=c.seed, components=tuple(c.components),
            gradient_checkpointing=c.gradient_checkpointing, checkpoint_every=c.checkpoint_every)
        if not request.output_path:
            raise invalid("output_path", "is empty")
        processes = max(c.processes, 1)
        parallel = c.parallel or "fsdp"
        if processes > 1 and not method.multi_process:
            spanning = " or ".join(m.name for m in METHODS.values() if m.multi_process)
            raise invalid("config.processes", f"several processes train {spanning} only; {method.name} fits one GPU (got {processes})")
        if parallel not in STRATEGIES:
            raise invalid("config.parallel", f"must be one of {list(STRATEGIES)}, got {parallel!r}")
        neuron_set = None
        if method.uses_neuron_set:
            neuron_set = load_neuron_set(request.neuron_set_path, "neuron_set_path")
            if request.language:
                neuron_set.language = request.language
        method_settings = method.read_settings(request)  # validates before any work
        train_corpus = corpus_from_request(request.train_corpus, "train_corpus")
        validation_corpus = corpus_from_request(request.validation_corpus, "validation_corpus") if request.HasField("validation_corpus") else None
        return cls(request, method, method_settings, settings, train_corpus, validation_corpus, neuron_set, processes, parallel)

    base_changed = False  # set by run(): the loaded model's weights are no longer the base

    def run(self, loaded: LoadedModel, on_step: Callable[[StepReport], None], on_validation: Callable[[int, float], None],
            should_stop: Callable[[], None], parallel: Parallel | None = None) -> pb.TrainResult:
        request, settings = self.request, self.settings
        if self.neuron_set is not None:
            check_fits(self.neuron_set, loaded.shape.num_layers, loaded.shape.intermediate_size, "neuron_set_path")
        trainable = self.method.build(MethodJob(loaded, request, self.method_settings, self.neuron_set, settings.components,
                                                keep_base=parallel is None))
        train = load_sequences(self.train_corpus, loaded.encoder, "train_corpus", settings.sequence_length, settings.max_tokens,
                               separate_documents=True, keep_tail=True)
        validation = None
        if self.validation_corpus is not None:
            validation = load_sequences(self.validation_corpus, loaded.encoder, "validation_corpus", settings.sequence_length,
                                        separate_documents=True, keep_tail=True)
        try:
            outcome = run_training(loaded, trainable, train, validation, settings, request.output_path, request.checkpoint_path or None,
                                   on_step=on_step, on_validation=on_validation, should_stop=should_stop, parallel=parallel)
        finally:
            self.base_changed = trainable.base_changed
        return pb.TrainResult(
            language=request.language or (self.neuron_set.language if self.neuron_set else ""), output_path=request.output_path,
            trainable_parameters=outcome.trainable_parameters, total_parameters=outcome.total_parameters,
            steps=outcome.steps, tokens=outcome.tokens,
            train_loss=[pb.LossPoint(step=s, loss=l) for s, l in outcome.train_loss],
            validation_loss=[pb.LossPoint(step=s, loss=l) for s, l in outcome.validation_loss],
            best_step=outcome.best_step, diverged_step=outcome.diverged_step, seconds=outcome.seconds,
            tokens_per_second=(outcome.tokens - outcome.tokens_before_resume) / outcome.seconds if outcome.seconds else 0.0,
            peak_memory_bytes=outcome.peak_memory_bytes, optimizer_state_bytes=outcome.optimizer_state_bytes,
            neuron_count=trainable.neuron_count, method=self.method.wire,
            output_kind=OUTPUT_KINDS[trainable.output_kind], drawn_neuron_set_path=trainable.drawn_neuron_set_path)
