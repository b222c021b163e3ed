"""The gRPC service: unpacks a request, calls plain functions, packs the reply.

Errors cross the wire here and only here: WorkerError -> its status code with
google.rpc.ErrorInfo (reason) and BadRequest (field); anything else is logged with its
traceback and returned as INTERNAL."""

from __future__ import annotations

import functools
import json
import logging
import os
import queue
import re
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import grpc
import psutil
import torch
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from . import PROTOCOL, __version__
from .activations import Throughput, activation_probabilities, count_activations, load_counts, save_counts
from .analysis import adapter_deltas, alignment, model_directory_deltas, pack_deltas, weight_change
from .atomic import check_output_dir
from .corpus import load_sequences, read_documents
from .errors import WorkerError, invalid, not_found, precondition
from .evaluation import score_sequences
from .gen.sparse_sub.v1 import worker_pb2 as pb
from .gen.sparse_sub.v1 import worker_pb2_grpc
from .jobs import JobContext, JobSlot, call_ended, stream_job
from .lape import select_from_probabilities
from .models.architecture import model_max_length
from .models.loading import LoadedModel, ModelCache, ModelRequest
from .methods.adapters import adapter_applied
from .methods.registry import METHODS
from .interventions import deactivated, steered
from .language_id import KNOWN as IDENTIFIABLE, identify
from .prompts import draw_prompts
from .tasks.generation import generate
from .neuron_sets import NeuronSet, check_fits, draw_random_set, export_reference, import_reference, load_neuron_set, save_neuron_set
from .packs import OVERLAP_RULES, check_pack_fits, load_pack, merge_to_directory, pack_components, packs_applied
from .distributed import run_distributed
from .files import CHUNK_BYTES, list_files, read_chunks, sha256_of, staging_dir, write_chunks
from .security import DataRoot
from .tasks.definitions import other_sentence_column, task
from .tasks.languages import flores_code
from .tasks.runner import TaskSpec, load_rows, run_task
from .telemetry import TelemetryPublisher
from .train_job import TrainJob, corpus_from_request

log = logging.getLogger(__name__)
ERROR_DOMAIN = "sparse-sub"
PROGRESS_INTERVAL = 0.25  # seconds between progress reports of one phase (the last always goes out)


def _status_for(error: BaseException, data_root: DataRoot) -> grpc.Status:
    if not isinstance(error, WorkerError):
        log.exception("unexpected error", exc_info=error)
        error = WorkerError(grpc.StatusCode.INTERNAL, "INTERNAL", f"internal worker error: {type(error).__name__}: {error}")
    if data_root.root is not None and error.code == grpc.StatusCode.INTERNAL:
        # an unexpected error may quote worker files outside the root; the log keeps the whole message
        error = WorkerError(error.code, error.reason, data_root.redact(error.message), error.field)
    details = []
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata={"field": error.field} if error.field else {})
    details.append(any_pb2.Any())
    details[-1].Pack(info)
    if error.field:
        bad = error_details_pb2.BadRequest(field_violations=[error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.message)])
        details.append(any_pb2.Any())
        details[-1].Pack(bad)
    return rpc_status.to_status(status_pb2.Status(code=error.code.value[0], message=error.message, details=details))


def unary(method):
    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            self.data_root.check(request)
            return method(self, request, context)
        except Exception as error:  # noqa: BLE001 - translated to a status, never swallowed
            context.abort_with_status(_status_for(error, self.data_root))
    return wrapper


def streaming(method):
    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            self.data_root.check(request)
            yield from method(self, request, context)
        except Exception as error:  # noqa: BLE001
            context.abort_with_status(_status_for(error, self.data_root))
    return wrapper


def _model_request(spec: pb.ModelSpec) -> ModelRequest:
    return ModelRequest(spec.source, spec.gguf_file, spec.dtype or "auto", spec.device or "auto", spec.revision, spec.add_bos or "auto")


# A language code that names files (the plan's rule): no separators, no dots.
LANGUAGE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CHUNK_BYTES = 4 << 20  # GetFile chunks: well under the 64 MiB message cap


def _required_path(value: str, field_name: str) -> str:
    if not value:
        raise invalid(field_name, "is empty; name a file or folder")
    return value


def _positive(value: int, field_name: str) -> int:
    if value <= 0:
        raise invalid(field_name, f"must be > 0, got {value}")
    return value


def _neuron_set_message(neuron_set: NeuronSet, path: str) -> pb.NeuronSet:
    layers = [pb.LayerNeurons(layer_index=i, neuron_indices=indices) for i, indices in enumerate(neuron_set.layers) if indices]
    return pb.NeuronSet(language=neuron_set.language, layers=layers, neuron_count=neuron_set.neuron_count, path=path)


def _deactivation_set(intervention: pb.NeuronIntervention):
    """Reads the set now (a missing file fails before the job queues); returns what builds the
    neurons to switch off once the model's shape is known: the set, or its random control."""
    field_name = "deactivate.neuron_set_path"
    neuron_set = load_neuron_set(_required_path(intervention.neuron_set_path, field_name), field_name)

    def for_model(loaded: LoadedModel) -> NeuronSet:
        shape = loaded.shape
        check_fits(neuron_set, shape.num_layers, shape.intermediate_size, field_name)
        if not intervention.random_same_size:
            return neuron_set
        return draw_random_set(neuron_set, shape.num_layers, shape.intermediate_size, intervention.seed, per_layer=True)
    return for_model


def _task_spec(t: pb.TaskRequest, field_name: str) -> TaskSpec:
    return TaskSpec(name=t.name, language=t.language, direction=t.direction or "eng-x", mode=t.mode or "generative",
                    files=tuple(t.files), hub_name=t.hub_name, hub_config=t.hub_config, split=t.split, limit=t.limit,
                    max_new_tokens=t.max_new_tokens, field=field_name, label=t.label)


# An upload whose client stops sending (but keeps the connection) is abandoned after this long:
# its partial file is removed and its server thread freed.
STREAM_IDLE_SECONDS = 60.0


def _until_idle(iterator, seconds: float):
    """`iterator`'s items; WorkerError (DEADLINE_EXCEEDED, STREAM_IDLE) once none came for `seconds`.
    A helper thread does the blocking reads, so the handler can give up and end the call."""
    items: queue.Queue = queue.Queue(maxsize=4)
    end = object()

    def pump():
        try:
            for item in iterator:
                items.put(item, timeout=seconds)  # Full: the handler stopped reading (it failed); so do we
            items.put(end, timeout=seconds)
        except Exception:  # noqa: BLE001 - the call ended (cancelled, aborted), or queue.Full: stop reading
            pass

    threading.Thread(target=pump, name="stream-reader", daemon=True).start()
    while True:
        try:
            item = items.get(timeout=seconds)
        except queue.Empty:
            raise WorkerError(grpc.StatusCode.DEADLINE_EXCEEDED, "STREAM_IDLE",
                              f"no data for {seconds:g} s: the upload was abandoned") from None
        if item is end:
            return
        yield item


def _mean_over_set(mean_active: torch.Tensor, neuron_set: NeuronSet) -> float:
    values = [mean_active[layer, indices] for layer, indices in enumerate(neuron_set.layers) if indices]
    return float(torch.cat(values).mean()) if values else 0.0


class WorkerService(worker_pb2_grpc.WorkerServicer):
    def __init__(self, telemetry: TelemetryPublisher, data_root: DataRoot | None = None, stream_idle_seconds: float = STREAM_IDLE_SECONDS):
        self.telemetry = telemetry
        self.data_root = data_root or DataRoot(None)
        self.models = ModelCache()
        self.slot = JobSlot()
        self.stream_idle_seconds = stream_idle_seconds

    # ---- helpers -----------------------------------------------------------------------------

    def _progress(self, ctx: JobContext, wrap, phase: str, done: int, total: int, unit: str, elapsed: float,
                  tokens_per_second: float = 0.0, loss: float = 0.0, message: str = "") -> None:
        now = time.monotonic()
        last = ctx.last_progress.get(phase)
        if last is not None and now - last < PROGRESS_INTERVAL and not message and (total == 0 or done < total):
            return  # fast steps: do not spend the step's time on reports
        ctx.last_progress[phase] = now
        progress = pb.Progress(job_id=ctx.job_id, phase=phase, done=done, total=total, unit=unit, elapsed_seconds=elapsed,
                               tokens_per_second=tokens_per_second, loss=loss, message=message)
        event = pb.TelemetryEvent(progress=progress, memory_used_bytes=self._memory_used())
        self.telemetry.publish(ctx.job_id, event.SerializeToString())
        ctx.emit(wrap(progress))

    def _queued(self, job_id: str, wrap):
        """The progress event of a job waiting for the slot: its place in the queue."""
        def report(position: int, running: str):
            ahead = f"{position - 1} more queued ahead, " if position > 1 else ""
            return wrap(pb.Progress(job_id=job_id, phase="queued", done=0, total=0, unit="jobs",
                                    message=f"waiting for the worker: {ahead}running {running or 'a job'}"))
        return report

    def _load(self, ctx: JobContext, wrap, spec: pb.ModelSpec) -> LoadedModel:
        request = _model_request(spec)
        if self.models.holds(request):
            return self.models.get(request)
        clock = Throughput()
        self._progress(ctx, wrap, "load", 0, 1, "models", 0.0, message=f"loading {request.source}")
        loaded = self.models.get(request)
        self._progress(ctx, wrap, "load", 1, 1, "models", clock.elapsed(), message=f"loaded {loaded.description}")
        return loaded

    def _run_task(self, ctx: JobContext, wrap, loaded: LoadedModel, spec: TaskSpec, batch_size: int, clock: Throughput) -> pb.TaskScore:
        ctx.check_cancelled()
        label = spec.label or spec.name
        translation = task(spec.name).kind == "translation"  # a direction; multiple choice has a mode instead
        what = f"{label}" + (f" {spec.language}" if spec.language else "") + (f" {spec.direction}" if translation else "")

        def on_progress(done: int, total: int) -> None:
            ctx.check_cancelled()
            self._progress(ctx, wrap, "task", done, total, "items", clock.elapsed(), message="" if done < total else f"{what}: done")

        outcome = run_task(loaded.model, loaded.encoder, spec, batch_size, on_progress)
        return pb.TaskScore(label=label, name=spec.name, language=spec.language, direction=spec.direction if translation else "",
                            mode=spec.mode if not translation else "", metrics=outcome.metrics, items=outcome.items,
                            seconds=outcome.seconds, headline=outcome.headline, examples_json=json.dumps(outcome.examples, ensure_ascii=False))

    def _alignment(self, ctx: JobContext, loaded: LoadedModel, request: pb.AlignmentRequest, field_name: str, batch_size: int) -> pb.AlignmentResult:
        ctx.check_cancelled()
        code = flores_code(request.language, f"{field_name}.language")
        spec = TaskSpec(name="flores", language=request.language, files=tuple(request.files), split=request.flores_split or "dev",
                        limit=request.limit, field=field_name)
        rows = load_rows(spec, code)
        try:
            english = [r["sentence_eng_Latn"] for r in rows]
            other = [r[other_sentence_column(r, code)] for r in rows]
        except KeyError as error:
            raise precondition("TASK_DATA_SCHEMA", f"{field_name}: rows need sentence_eng_Latn and sentence_{code} ({error} missing)", field_name) from None
        if not rows:
            raise precondition("TASK_DATA_EMPTY", f"{field_name}: no parallel sentences", field_name)
        per_layer = alignment(loaded.model, loaded.encoder, english, other, batch_size)
        return pb.AlignmentResult(language=request.language, per_layer=per_layer, mean=sum(per_layer) / len(per_layer), pairs=len(rows))

    @staticmethod
    def _memory_used() -> int:
        if torch.cuda.is_available():
            return int(torch.cuda.memory_allocated())
        return psutil.Process(os.getpid()).memory_info().rss

    # ---- RPCs ----------------------------------------------------------------------------------

    @unary
    def GetWorkerInfo(self, request, context):
        if torch.cuda.is_available():
            index = torch.cuda.current_device()
            device = f"cuda:{index} ({torch.cuda.get_device_name(index)})"
            total = torch.cuda.get_device_properties(index).total_memory
        else:
            device, total = "cpu", psutil.virtual_memory().total
        import transformers
        return pb.WorkerInfo(
            version=__version__, protocol=PROTOCOL, device=device, memory_total_bytes=total,
            memory_used_bytes=self._memory_used(), loaded_model=self.models.loaded_source,
            telemetry_endpoint=self.telemetry.endpoint, torch_version=torch.__version__,
            transformers_version=transformers.__version__, queued_jobs=self.slot.waiting, running_job=self.slot.running,
            data_root=str(self.data_root.root or ""), staging_dir=str(staging_dir(self.data_root.root)),
            accelerators=torch.cuda.device_count(), methods=sorted(METHODS),
        )

    @streaming
    def CollectActivations(self, request, context):
        wrap = lambda progress: pb.CollectActivationsEvent(progress=progress)
        if request.sequence_length < 0:
            raise invalid("sequence_length", f"must be > 0 (or 0 for the model's maximum), got {request.sequence_length}")
        batch_size = _positive(request.batch_size, "batch_size")
        if not request.output_path:
            raise invalid("output_path", "is empty")
        corpus = corpus_from_request(request.corpus, "corpus")

        def job(ctx: JobContext):
            loaded = self._load(ctx, wrap, request.model)
            sequence_length = request.sequence_length or model_max_length(loaded.model)
            sequences = load_sequences(corpus, loaded.encoder, "corpus", sequence_length, request.max_tokens,
                                       separate_documents=False, keep_tail=False)
            clock = Throughput()

            def on_batch(done: int, total: int) -> None:
                ctx.check_cancelled()
                self._progress(ctx, wrap, "collect", done, total, "tokens", clock.elapsed(), clock.rate(done))

            decoder = loaded.model.get_decoder()
            counts = count_activations(decoder, loaded.layers, sequences, batch_size, on_batch, active_sums=request.active_sums)
            save_counts(request.output_path, counts, request.language, request.model.source)
            return pb.CollectActivationsEvent(result=pb.CollectActivationsResult(
                language=request.language, output_path=request.output_path, token_count=counts.token_count, sequence_length=sequence_length,
                num_layers=loaded.shape.num_layers, intermediate_size=loaded.shape.intermediate_size, seconds=clock.elapsed()))

        memory = (f"batch_size {batch_size}, sequence_length {request.sequence_length or 'model_max'}",
                  "lower identification.batch_size or identification.sequence_length")
        yield from stream_job(self.slot, request.job_id, context, job, self._queued(request.job_id, wrap), memory)

    @unary
    def SelectNeurons(self, request, context):
        if len(request.counts) < 2:
            raise invalid("counts", f"LAPE needs at least 2 languages, got {len(request.counts)}")
        if not request.output_dir:
            raise invalid("output_dir", "is empty")
        languages = [c.language for c in request.counts]
        for i, language in enumerate(languages):  # each names a file in output_dir
            if not LANGUAGE_CODE.match(language):
                raise invalid(f"counts[{i}].language", f"'{language[:40]}' must be letters, digits, '-' or '_' (it names a file)")
        if len(set(languages)) != len(languages):
            raise invalid("counts", f"languages repeat: {languages}")
        p = activation_probabilities(request.counts)  # [L, I, K], one file at a time
        selection = select_from_probabilities(p, request.top_rate, request.filter_rate, request.activation_bar_ratio)
        output = Path(request.output_dir)
        sets = []
        for language, neurons in zip(languages, selection.neurons):
            neuron_set = NeuronSet(language, neurons, p.shape[1])
            path = str(output / f"{language}.json")
            save_neuron_set(path, neuron_set)
            sets.append(_neuron_set_message(neuron_set, path))
        return pb.SelectNeuronsResponse(
            neuron_sets=sets, selected_neuron_count=selection.selected_count,
            total_neuron_count=p.shape[0] * p.shape[1],
            filter_threshold=selection.filter_threshold, activation_threshold=selection.activation_threshold)

    @streaming
    def Train(self, request, context):
        wrap = lambda progress: pb.TrainEvent(progress=progress)
        train_job = TrainJob.parse(request)  # every field checked before any work

        def job(ctx: JobContext):
            on_step = lambda r: self._progress(ctx, wrap, "train", r.step, r.total_steps, "steps", r.elapsed, r.tokens_per_second, r.loss, r.message)
            clock = Throughput()
            on_validation = lambda step, loss: self._progress(ctx, wrap, "validate", step, 0, "steps", clock.elapsed(), loss=loss,
                                                              message=f"validation loss {loss:.4f} at step {step}")
            if train_job.processes > 1:
                self.models.evict()  # the GPUs go to torchrun's processes
                result = run_distributed(request, on_step, on_validation, ctx.check_cancelled,
                                         lambda message: self._progress(ctx, wrap, "load", 0, 0, "", clock.elapsed(), message=message))
            else:
                loaded = self._load(ctx, wrap, request.model)
                try:
                    result = train_job.run(loaded, on_step, on_validation, ctx.check_cancelled)
                finally:
                    if train_job.base_changed:
                        self.models.evict()  # trained in place, no copy kept: the next job must reload the base
            return pb.TrainEvent(result=result)

        config = request.config
        memory = (f"batch_size {config.batch_size}, sequence_length {config.sequence_length}",
                  "lower training.batch_size (raise gradient_accumulation_steps to keep the effective batch) or "
                  "training.sequence_length, or set the method's gradient_checkpointing")
        yield from stream_job(self.slot, request.job_id, context, job, self._queued(request.job_id, wrap), memory)

    @streaming
    def Evaluate(self, request, context):
        wrap = lambda progress: pb.EvaluateEvent(progress=progress)
        sequence_length = _positive(request.sequence_length, "sequence_length")
        batch_size = _positive(request.batch_size, "batch_size")
        if not request.sets and not request.tasks and not request.alignment:
            raise invalid("sets", "nothing to evaluate: give sets, tasks or alignment")
        corpora = [(s.language, corpus_from_request(s.corpus, f"sets[{i}].corpus")) for i, s in enumerate(request.sets)]
        if request.pack_path and request.adapter_path:
            raise invalid("adapter_path", "give pack_path or adapter_path, not both")
        pack_file = load_pack(request.pack_path, "pack_path") if request.pack_path else None
        if request.pack_components:
            if pack_file is None:
                raise invalid("pack_components", "names components of a pack: give pack_path")
            pack_file = pack_components(pack_file, list(request.pack_components), "pack_components")
        tasks = [_task_spec(t, f"tasks[{i}]") for i, t in enumerate(request.tasks)]
        switched_off = _deactivation_set(request.deactivate) if request.HasField("deactivate") else None

        def job(ctx: JobContext):
            loaded = self._load(ctx, wrap, request.model)
            clock = Throughput()
            scores = []
            if pack_file is not None:
                check_pack_fits(pack_file, loaded.shape, loaded.layers, "pack_path")
                applied = packs_applied(loaded.layers, [pack_file])
            elif request.adapter_path:
                applied = adapter_applied(loaded, request.adapter_path, "adapter_path")
            else:
                applied = nullcontext()
            neurons = switched_off(loaded) if switched_off else None
            with applied, (deactivated(loaded.layers, neurons) if neurons else nullcontext(0)) as deactivated_count:
                for i, (language, corpus) in enumerate(corpora):
                    ctx.check_cancelled()
                    field_name = f"sets[{i}].corpus"
                    sequences = load_sequences(corpus, loaded.encoder, field_name, sequence_length,
                                               separate_documents=True, keep_tail=True)
                    score = score_sequences(loaded.model, sequences, batch_size)
                    scores.append(pb.LanguageScore(language=language, perplexity=score.perplexity, mean_loss=score.mean_loss, tokens=score.tokens))
                    self._progress(ctx, wrap, "evaluate", i + 1, len(corpora), "languages", clock.elapsed(),
                                   message=f"{language}: perplexity {score.perplexity:.2f}")
                task_scores = [self._run_task(ctx, wrap, loaded, spec, batch_size, clock) for spec in tasks]
                aligned = [self._alignment(ctx, loaded, a, f"alignment[{i}]", batch_size) for i, a in enumerate(request.alignment)]
            return pb.EvaluateEvent(result=pb.EvaluateResult(pack_path=request.pack_path, scores=scores, seconds=clock.elapsed(),
                                                             tasks=task_scores, alignment=aligned, deactivated_neurons=deactivated_count))

        memory = (f"batch_size {batch_size}, sequence_length {sequence_length}", "lower evaluation.batch_size or evaluation.sequence_length")
        yield from stream_job(self.slot, request.job_id, context, job, self._queued(request.job_id, wrap), memory)

    @unary
    def MergePack(self, request, context):
        if not request.output_dir:
            raise invalid("output_dir", "is empty")
        if not request.pack_paths:
            raise invalid("pack_paths", "is empty")
        if request.overlap and request.overlap not in OVERLAP_RULES:
            raise invalid("overlap", f"must be one of {list(OVERLAP_RULES)}, got '{request.overlap}'")
        check_output_dir(request.output_dir, "model directory", "output_dir", request.force)  # before any work
        packs = [load_pack(path, f"pack_paths[{i}]") for i, path in enumerate(request.pack_paths)]
        # writes into the cached model's weights (and back): take the job slot like any job
        self.slot.acquire(request.job_id or "merge", call_ended(context))  # a caller that left leaves the queue
        try:
            loaded = self.models.get(_model_request(request.model))
            for i, pack in enumerate(packs):
                check_pack_fits(pack, loaded.shape, loaded.layers, f"pack_paths[{i}]")
            written = merge_to_directory(loaded.model, loaded.tokenizer, loaded.layers, packs, request.output_dir, request.overlap or "mean",
                                         request.force)
        finally:
            self.slot.release()
        return pb.MergePackResponse(output_dir=request.output_dir, neuron_count=written["neurons"], shared_neuron_count=written["shared"])

    @unary
    def AnalyzeWeights(self, request, context):
        kind = request.WhichOneof("artifact")
        if kind is None:
            raise invalid("artifact", "give pack_path, adapter_path or model_directory")
        neuron_set = load_neuron_set(request.neuron_set_path, "neuron_set_path") if request.neuron_set_path else None
        pack_file = load_pack(request.pack_path, "pack_path") if kind == "pack_path" else None
        self.slot.acquire(request.job_id or "analyze", call_ended(context))
        try:
            loaded = self.models.get(_model_request(request.model))
            neurons = neuron_set.layers if neuron_set else [[] for _ in loaded.layers]
            if neuron_set:
                check_fits(neuron_set, loaded.shape.num_layers, loaded.shape.intermediate_size, "neuron_set_path")
            if pack_file is not None:
                check_pack_fits(pack_file, loaded.shape, loaded.layers, "pack_path")
                changes = weight_change(pack_deltas(loaded.layers, pack_file), neurons)
            elif kind == "adapter_path":
                with adapter_applied(loaded, request.adapter_path, "adapter_path") as peft_model:
                    changes = weight_change(adapter_deltas(peft_model, loaded.layers), neurons)
            else:
                if not Path(request.model_directory).is_dir():
                    raise not_found("model_directory", request.model_directory, "model directory")
                changes = weight_change(model_directory_deltas(request.model_directory, loaded.layers), neurons)
        finally:
            self.slot.release()
        change = lambda c: pb.ProjectionChange(neurons=c["neurons"], matrix=c["matrix"]) if c else None
        return pb.AnalyzeWeightsResponse(layers=[
            pb.LayerChange(layer_index=layer, gate_proj=change(p.get("gate_proj")), up_proj=change(p.get("up_proj")), down_proj=change(p.get("down_proj")))
            for layer, p in sorted(changes.items())])

    @unary
    def StatFile(self, request, context):
        path = Path(_required_path(request.path, "path"))
        if path.is_dir():
            return pb.StatFileResponse(exists=True, is_directory=True)
        if not path.is_file():
            return pb.StatFileResponse(exists=False)
        return pb.StatFileResponse(exists=True, size=path.stat().st_size, sha256=sha256_of(path))

    @unary
    def ListFiles(self, request, context):
        if not Path(_required_path(request.path, "path")).is_dir():
            raise not_found("path", request.path, "directory")
        return pb.ListFilesResponse(files=[pb.ListFilesResponse.Entry(path=p, size=size) for p, size in list_files(request.path)])

    def PutFile(self, request_iterator, context):
        try:
            request_iterator = _until_idle(request_iterator, self.stream_idle_seconds)
            first = next(request_iterator, None)
            if first is None or not first.path:
                raise invalid("path", "the first chunk must name the file")
            path = self.data_root.resolve(first.path, "path", output=True)

            def chunks():
                chunk = first
                while chunk is not None:
                    yield chunk.offset, chunk.data, chunk.sha256 or None
                    chunk = None if chunk.last else next(request_iterator, None)

            size, checksum = write_chunks(path, chunks())
            return pb.PutFileResponse(path=path, size=size, sha256=checksum)
        except Exception as error:  # noqa: BLE001 - translated to a status
            context.abort_with_status(_status_for(error, self.data_root))

    @streaming
    def GetFile(self, request, context):
        if not Path(_required_path(request.path, "path")).is_file():
            raise not_found("path", request.path, "file")
        if not 0 <= request.chunk_bytes <= MAX_CHUNK_BYTES:
            raise invalid("chunk_bytes", f"must be 1 to {MAX_CHUNK_BYTES} (0 = {CHUNK_BYTES}), got {request.chunk_bytes}")
        for i, (offset, data, checksum) in enumerate(read_chunks(request.path, request.chunk_bytes or CHUNK_BYTES)):
            yield pb.FileChunk(path=request.path if i == 0 else "", offset=offset, data=data, sha256=checksum or "", last=checksum is not None)

    @streaming
    def Steer(self, request, context):
        wrap = lambda progress: pb.SteerEvent(progress=progress)
        if not request.off_neuron_set_path and not request.boost_neuron_set_path:
            raise invalid("off_neuron_set_path", "nothing to steer with: give off_neuron_set_path, boost_neuron_set_path or both")
        mean_mode = request.mode == pb.SteerRequest.MODE_MEAN
        if mean_mode and not request.boost_neuron_set_path:
            raise invalid("mode", "MODE_MEAN sets the boost neurons to their mean active value: give boost_neuron_set_path")
        if mean_mode and not request.boost_counts_path:
            raise invalid("boost_counts_path", "MODE_MEAN needs the boost language's activation counts (their active sums give the means)")
        if request.prompt_count < 0 or request.prompt_words < 0:
            raise invalid("prompt_count" if request.prompt_count < 0 else "prompt_words", "must be 0 or more")
        read = lambda path, field: load_neuron_set(path, field) if path else None
        off = read(request.off_neuron_set_path, "off_neuron_set_path")
        boost = read(request.boost_neuron_set_path, "boost_neuron_set_path")
        mean_active = load_counts(request.boost_counts_path, "boost_counts_path").mean_active_values("boost_counts_path") if mean_mode else None
        prompts = list(request.prompts)
        if request.HasField("prompt_corpus"):
            documents = read_documents(corpus_from_request(request.prompt_corpus, "prompt_corpus"), "prompt_corpus")
            prompts += draw_prompts(documents, request.prompt_count or 12, request.prompt_words or 6, "prompt_corpus")
        if not prompts:
            raise invalid("prompts", "is empty: give at least one prompt (or prompt_corpus)")
        max_new_tokens = request.max_new_tokens or 48
        batch_size = request.batch_size or 8

        def job(ctx: JobContext):
            loaded = self._load(ctx, wrap, request.model)
            shape = loaded.shape
            for neuron_set, field in ((off, "off_neuron_set_path"), (boost, "boost_neuron_set_path")):
                if neuron_set is not None:
                    check_fits(neuron_set, shape.num_layers, shape.intermediate_size, field)
            off_set, boost_set = off, boost
            if request.random_same_size:
                draw = lambda like, seed: draw_random_set(like, shape.num_layers, shape.intermediate_size, seed, per_layer=True) if like else None
                off_set, boost_set = draw(off, request.seed), draw(boost, request.seed + 1)
            if mean_active is not None and tuple(mean_active.shape) != (shape.num_layers, shape.intermediate_size):
                raise invalid("boost_counts_path", f"counts of shape {tuple(mean_active.shape)} do not fit the model ({shape.num_layers} x {shape.intermediate_size})")
            clock = Throughput()
            total = 2 * len(prompts)
            run = lambda offset: generate(loaded.model, loaded.encoder, prompts, batch_size, max_new_tokens,
                                          on_batch=lambda done: (ctx.check_cancelled(), self._progress(ctx, wrap, "generate", offset + done, total, "prompts", clock.elapsed())))
            base = run(0)
            with steered(loaded.layers, off_set, boost_set, request.strength, mean_active):
                changed = run(len(prompts))
            base_languages, steered_languages = identify(base), identify(changed)
            outputs = [pb.SteerOutput(prompt=p, base=b, steered=c, base_language=bl, steered_language=cl)
                       for p, b, c, bl, cl in zip(prompts, base, changed, base_languages, steered_languages)]
            return pb.SteerEvent(result=pb.SteerResult(
                outputs=outputs, off_neurons=off_set.neuron_count if off_set else 0, boost_neurons=boost_set.neuron_count if boost_set else 0,
                seconds=clock.elapsed(), identifiable=sorted(IDENTIFIABLE),
                mean_active_value=_mean_over_set(mean_active, boost_set) if mean_active is not None else 0.0))

        memory = (f"batch_size {batch_size}, max_new_tokens {max_new_tokens}", "lower batch_size")
        yield from stream_job(self.slot, request.job_id, context, job, self._queued(request.job_id, wrap), memory)

    @unary
    def ConvertNeuronSet(self, request, context):
        _required_path(request.reference_path, "reference_path")
        direction = request.direction
        if direction == pb.ConvertNeuronSetRequest.DIRECTION_IMPORT:
            if len(request.neuron_set_paths) != len(request.languages):
                raise invalid("neuron_set_paths", f"give one output path per language ({len(request.languages)}), got {len(request.neuron_set_paths)}")
            sets, missing = import_reference(request.reference_path, list(request.languages))
            messages = []
            for neuron_set, path in zip(sets, request.neuron_set_paths):
                save_neuron_set(path, neuron_set)
                messages.append(_neuron_set_message(neuron_set, path))
            return pb.ConvertNeuronSetResponse(neuron_sets=messages, missing_languages=missing)
        if direction == pb.ConvertNeuronSetRequest.DIRECTION_EXPORT:
            sets = [load_neuron_set(path, f"neuron_set_paths[{i}]") for i, path in enumerate(request.neuron_set_paths)]
            num_layers = request.num_layers or (len(sets[0].layers) if sets else 0)
            export_reference(request.reference_path, sets, num_layers)
            return pb.ConvertNeuronSetResponse(neuron_sets=[_neuron_set_message(s, p) for s, p in zip(sets, request.neuron_set_paths)])
        raise invalid("direction", "must be DIRECTION_IMPORT or DIRECTION_EXPORT")
