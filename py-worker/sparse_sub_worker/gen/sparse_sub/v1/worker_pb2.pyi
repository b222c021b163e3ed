from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Method(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METHOD_UNSPECIFIED: _ClassVar[Method]
    METHOD_SPARSE: _ClassVar[Method]
    METHOD_RANDOM: _ClassVar[Method]
    METHOD_FFN: _ClassVar[Method]
    METHOD_FULL: _ClassVar[Method]
    METHOD_LORA: _ClassVar[Method]
    METHOD_IA3: _ClassVar[Method]
    METHOD_NEURON_LORA: _ClassVar[Method]

class OutputKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_KIND_UNSPECIFIED: _ClassVar[OutputKind]
    OUTPUT_KIND_PACK: _ClassVar[OutputKind]
    OUTPUT_KIND_PEFT_ADAPTER: _ClassVar[OutputKind]
    OUTPUT_KIND_MODEL_DIRECTORY: _ClassVar[OutputKind]
METHOD_UNSPECIFIED: Method
METHOD_SPARSE: Method
METHOD_RANDOM: Method
METHOD_FFN: Method
METHOD_FULL: Method
METHOD_LORA: Method
METHOD_IA3: Method
METHOD_NEURON_LORA: Method
OUTPUT_KIND_UNSPECIFIED: OutputKind
OUTPUT_KIND_PACK: OutputKind
OUTPUT_KIND_PEFT_ADAPTER: OutputKind
OUTPUT_KIND_MODEL_DIRECTORY: OutputKind
IS_PATH_FIELD_NUMBER: _ClassVar[int]
is_path: _descriptor.FieldDescriptor
IS_OUTPUT_FIELD_NUMBER: _ClassVar[int]
is_output: _descriptor.FieldDescriptor

class ModelSpec(_message.Message):
    __slots__ = ("source", "gguf_file", "dtype", "device", "revision", "add_bos")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GGUF_FILE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ADD_BOS_FIELD_NUMBER: _ClassVar[int]
    source: str
    gguf_file: str
    dtype: str
    device: str
    revision: str
    add_bos: str
    def __init__(self, source: _Optional[str] = ..., gguf_file: _Optional[str] = ..., dtype: _Optional[str] = ..., device: _Optional[str] = ..., revision: _Optional[str] = ..., add_bos: _Optional[str] = ...) -> None: ...

class Corpus(_message.Message):
    __slots__ = ("text_files", "hub_dataset")
    TEXT_FILES_FIELD_NUMBER: _ClassVar[int]
    HUB_DATASET_FIELD_NUMBER: _ClassVar[int]
    text_files: TextFiles
    hub_dataset: HubDataset
    def __init__(self, text_files: _Optional[_Union[TextFiles, _Mapping]] = ..., hub_dataset: _Optional[_Union[HubDataset, _Mapping]] = ...) -> None: ...

class TextFiles(_message.Message):
    __slots__ = ("paths",)
    PATHS_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, paths: _Optional[_Iterable[str]] = ...) -> None: ...

class HubDataset(_message.Message):
    __slots__ = ("name", "config", "split", "text_field")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_FIELD_NUMBER: _ClassVar[int]
    name: str
    config: str
    split: str
    text_field: str
    def __init__(self, name: _Optional[str] = ..., config: _Optional[str] = ..., split: _Optional[str] = ..., text_field: _Optional[str] = ...) -> None: ...

class GetWorkerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WorkerInfo(_message.Message):
    __slots__ = ("version", "protocol", "device", "memory_total_bytes", "memory_used_bytes", "loaded_model", "telemetry_endpoint", "torch_version", "transformers_version", "queued_jobs", "running_job", "data_root", "staging_dir", "accelerators", "methods")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOADED_MODEL_FIELD_NUMBER: _ClassVar[int]
    TELEMETRY_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TORCH_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRANSFORMERS_VERSION_FIELD_NUMBER: _ClassVar[int]
    QUEUED_JOBS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOB_FIELD_NUMBER: _ClassVar[int]
    DATA_ROOT_FIELD_NUMBER: _ClassVar[int]
    STAGING_DIR_FIELD_NUMBER: _ClassVar[int]
    ACCELERATORS_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    version: str
    protocol: str
    device: str
    memory_total_bytes: int
    memory_used_bytes: int
    loaded_model: str
    telemetry_endpoint: str
    torch_version: str
    transformers_version: str
    queued_jobs: int
    running_job: str
    data_root: str
    staging_dir: str
    accelerators: int
    methods: _containers.RepeatedScalarFieldContainer[Method]
    def __init__(self, version: _Optional[str] = ..., protocol: _Optional[str] = ..., device: _Optional[str] = ..., memory_total_bytes: _Optional[int] = ..., memory_used_bytes: _Optional[int] = ..., loaded_model: _Optional[str] = ..., telemetry_endpoint: _Optional[str] = ..., torch_version: _Optional[str] = ..., transformers_version: _Optional[str] = ..., queued_jobs: _Optional[int] = ..., running_job: _Optional[str] = ..., data_root: _Optional[str] = ..., staging_dir: _Optional[str] = ..., accelerators: _Optional[int] = ..., methods: _Optional[_Iterable[_Union[Method, str]]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("job_id", "phase", "done", "total", "unit", "tokens_per_second", "loss", "elapsed_seconds", "message")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    phase: str
    done: int
    total: int
    unit: str
    tokens_per_second: float
    loss: float
    elapsed_seconds: float
    message: str
    def __init__(self, job_id: _Optional[str] = ..., phase: _Optional[str] = ..., done: _Optional[int] = ..., total: _Optional[int] = ..., unit: _Optional[str] = ..., tokens_per_second: _Optional[float] = ..., loss: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class TelemetryEvent(_message.Message):
    __slots__ = ("progress", "memory_used_bytes")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    memory_used_bytes: int
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., memory_used_bytes: _Optional[int] = ...) -> None: ...

class CollectActivationsRequest(_message.Message):
    __slots__ = ("job_id", "model", "language", "corpus", "max_tokens", "sequence_length", "batch_size", "output_path", "active_sums")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CORPUS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SUMS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: ModelSpec
    language: str
    corpus: Corpus
    max_tokens: int
    sequence_length: int
    batch_size: int
    output_path: str
    active_sums: bool
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., language: _Optional[str] = ..., corpus: _Optional[_Union[Corpus, _Mapping]] = ..., max_tokens: _Optional[int] = ..., sequence_length: _Optional[int] = ..., batch_size: _Optional[int] = ..., output_path: _Optional[str] = ..., active_sums: _Optional[bool] = ...) -> None: ...

class CollectActivationsResult(_message.Message):
    __slots__ = ("language", "output_path", "token_count", "num_layers", "intermediate_size", "seconds", "sequence_length")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    NUM_LAYERS_FIELD_NUMBER: _ClassVar[int]
    INTERMEDIATE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    language: str
    output_path: str
    token_count: int
    num_layers: int
    intermediate_size: int
    seconds: float
    sequence_length: int
    def __init__(self, language: _Optional[str] = ..., output_path: _Optional[str] = ..., token_count: _Optional[int] = ..., num_layers: _Optional[int] = ..., intermediate_size: _Optional[int] = ..., seconds: _Optional[float] = ..., sequence_length: _Optional[int] = ...) -> None: ...

class CollectActivationsEvent(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    result: CollectActivationsResult
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., result: _Optional[_Union[CollectActivationsResult, _Mapping]] = ...) -> None: ...

class ActivationCounts(_message.Message):
    __slots__ = ("language", "path")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    language: str
    path: str
    def __init__(self, language: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class SelectNeuronsRequest(_message.Message):
    __slots__ = ("job_id", "counts", "top_rate", "filter_rate", "activation_bar_ratio", "output_dir")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    TOP_RATE_FIELD_NUMBER: _ClassVar[int]
    FILTER_RATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_BAR_RATIO_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    counts: _containers.RepeatedCompositeFieldContainer[ActivationCounts]
    top_rate: float
    filter_rate: float
    activation_bar_ratio: float
    output_dir: str
    def __init__(self, job_id: _Optional[str] = ..., counts: _Optional[_Iterable[_Union[ActivationCounts, _Mapping]]] = ..., top_rate: _Optional[float] = ..., filter_rate: _Optional[float] = ..., activation_bar_ratio: _Optional[float] = ..., output_dir: _Optional[str] = ...) -> None: ...

class LayerNeurons(_message.Message):
    __slots__ = ("layer_index", "neuron_indices")
    LAYER_INDEX_FIELD_NUMBER: _ClassVar[int]
    NEURON_INDICES_FIELD_NUMBER: _ClassVar[int]
    layer_index: int
    neuron_indices: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, layer_index: _Optional[int] = ..., neuron_indices: _Optional[_Iterable[int]] = ...) -> None: ...

class NeuronSet(_message.Message):
    __slots__ = ("language", "layers", "neuron_count", "path")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    NEURON_COUNT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    language: str
    layers: _containers.RepeatedCompositeFieldContainer[LayerNeurons]
    neuron_count: int
    path: str
    def __init__(self, language: _Optional[str] = ..., layers: _Optional[_Iterable[_Union[LayerNeurons, _Mapping]]] = ..., neuron_count: _Optional[int] = ..., path: _Optional[str] = ...) -> None: ...

class SelectNeuronsResponse(_message.Message):
    __slots__ = ("neuron_sets", "selected_neuron_count", "total_neuron_count", "filter_threshold", "activation_threshold")
    NEURON_SETS_FIELD_NUMBER: _ClassVar[int]
    SELECTED_NEURON_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_NEURON_COUNT_FIELD_NUMBER: _ClassVar[int]
    FILTER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    neuron_sets: _containers.RepeatedCompositeFieldContainer[NeuronSet]
    selected_neuron_count: int
    total_neuron_count: int
    filter_threshold: float
    activation_threshold: float
    def __init__(self, neuron_sets: _Optional[_Iterable[_Union[NeuronSet, _Mapping]]] = ..., selected_neuron_count: _Optional[int] = ..., total_neuron_count: _Optional[int] = ..., filter_threshold: _Optional[float] = ..., activation_threshold: _Optional[float] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("job_id", "model", "language", "neuron_set_path", "train_corpus", "validation_corpus", "config", "output_path", "method", "random", "adapter", "neuron_lora", "drawn_neuron_set_path", "checkpoint_path")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    TRAIN_CORPUS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_CORPUS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RANDOM_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    NEURON_LORA_FIELD_NUMBER: _ClassVar[int]
    DRAWN_NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_PATH_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: ModelSpec
    language: str
    neuron_set_path: str
    train_corpus: Corpus
    validation_corpus: Corpus
    config: TrainConfig
    output_path: str
    method: Method
    random: RandomSelection
    adapter: AdapterConfig
    neuron_lora: NeuronLoraConfig
    drawn_neuron_set_path: str
    checkpoint_path: str
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., language: _Optional[str] = ..., neuron_set_path: _Optional[str] = ..., train_corpus: _Optional[_Union[Corpus, _Mapping]] = ..., validation_corpus: _Optional[_Union[Corpus, _Mapping]] = ..., config: _Optional[_Union[TrainConfig, _Mapping]] = ..., output_path: _Optional[str] = ..., method: _Optional[_Union[Method, str]] = ..., random: _Optional[_Union[RandomSelection, _Mapping]] = ..., adapter: _Optional[_Union[AdapterConfig, _Mapping]] = ..., neuron_lora: _Optional[_Union[NeuronLoraConfig, _Mapping]] = ..., drawn_neuron_set_path: _Optional[str] = ..., checkpoint_path: _Optional[str] = ...) -> None: ...

class RandomSelection(_message.Message):
    __slots__ = ("seed", "per_layer")
    SEED_FIELD_NUMBER: _ClassVar[int]
    PER_LAYER_FIELD_NUMBER: _ClassVar[int]
    seed: int
    per_layer: bool
    def __init__(self, seed: _Optional[int] = ..., per_layer: _Optional[bool] = ...) -> None: ...

class AdapterConfig(_message.Message):
    __slots__ = ("target_modules", "r", "alpha", "dropout", "feedforward_modules")
    TARGET_MODULES_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    DROPOUT_FIELD_NUMBER: _ClassVar[int]
    FEEDFORWARD_MODULES_FIELD_NUMBER: _ClassVar[int]
    target_modules: _containers.RepeatedScalarFieldContainer[str]
    r: int
    alpha: float
    dropout: float
    feedforward_modules: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, target_modules: _Optional[_Iterable[str]] = ..., r: _Optional[int] = ..., alpha: _Optional[float] = ..., dropout: _Optional[float] = ..., feedforward_modules: _Optional[_Iterable[str]] = ...) -> None: ...

class NeuronLoraConfig(_message.Message):
    __slots__ = ("r", "alpha")
    R_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    r: int
    alpha: float
    def __init__(self, r: _Optional[int] = ..., alpha: _Optional[float] = ...) -> None: ...

class TrainConfig(_message.Message):
    __slots__ = ("learning_rate", "weight_decay", "max_grad_norm", "batch_size", "gradient_accumulation_steps", "sequence_length", "max_tokens", "epochs", "max_steps", "validate_every", "seed", "components", "gradient_checkpointing", "checkpoint_every", "processes", "parallel")
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    MAX_GRAD_NORM_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_ACCUMULATION_STEPS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_EVERY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_CHECKPOINTING_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_EVERY_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_FIELD_NUMBER: _ClassVar[int]
    learning_rate: float
    weight_decay: float
    max_grad_norm: float
    batch_size: int
    gradient_accumulation_steps: int
    sequence_length: int
    max_tokens: int
    epochs: int
    max_steps: int
    validate_every: int
    seed: int
    components: _containers.RepeatedScalarFieldContainer[str]
    gradient_checkpointing: bool
    checkpoint_every: int
    processes: int
    parallel: str
    def __init__(self, learning_rate: _Optional[float] = ..., weight_decay: _Optional[float] = ..., max_grad_norm: _Optional[float] = ..., batch_size: _Optional[int] = ..., gradient_accumulation_steps: _Optional[int] = ..., sequence_length: _Optional[int] = ..., max_tokens: _Optional[int] = ..., epochs: _Optional[int] = ..., max_steps: _Optional[int] = ..., validate_every: _Optional[int] = ..., seed: _Optional[int] = ..., components: _Optional[_Iterable[str]] = ..., gradient_checkpointing: _Optional[bool] = ..., checkpoint_every: _Optional[int] = ..., processes: _Optional[int] = ..., parallel: _Optional[str] = ...) -> None: ...

class LossPoint(_message.Message):
    __slots__ = ("step", "loss")
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    step: int
    loss: float
    def __init__(self, step: _Optional[int] = ..., loss: _Optional[float] = ...) -> None: ...

class TrainResult(_message.Message):
    __slots__ = ("language", "output_path", "trainable_parameters", "total_parameters", "steps", "tokens", "train_loss", "validation_loss", "best_step", "seconds", "tokens_per_second", "peak_memory_bytes", "optimizer_state_bytes", "neuron_count", "method", "output_kind", "drawn_neuron_set_path", "diverged_step")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    TRAINABLE_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_LOSS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_LOSS_FIELD_NUMBER: _ClassVar[int]
    BEST_STEP_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_STATE_BYTES_FIELD_NUMBER: _ClassVar[int]
    NEURON_COUNT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_KIND_FIELD_NUMBER: _ClassVar[int]
    DRAWN_NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    DIVERGED_STEP_FIELD_NUMBER: _ClassVar[int]
    language: str
    output_path: str
    trainable_parameters: int
    total_parameters: int
    steps: int
    tokens: int
    train_loss: _containers.RepeatedCompositeFieldContainer[LossPoint]
    validation_loss: _containers.RepeatedCompositeFieldContainer[LossPoint]
    best_step: int
    seconds: float
    tokens_per_second: float
    peak_memory_bytes: int
    optimizer_state_bytes: int
    neuron_count: int
    method: Method
    output_kind: OutputKind
    drawn_neuron_set_path: str
    diverged_step: int
    def __init__(self, language: _Optional[str] = ..., output_path: _Optional[str] = ..., trainable_parameters: _Optional[int] = ..., total_parameters: _Optional[int] = ..., steps: _Optional[int] = ..., tokens: _Optional[int] = ..., train_loss: _Optional[_Iterable[_Union[LossPoint, _Mapping]]] = ..., validation_loss: _Optional[_Iterable[_Union[LossPoint, _Mapping]]] = ..., best_step: _Optional[int] = ..., seconds: _Optional[float] = ..., tokens_per_second: _Optional[float] = ..., peak_memory_bytes: _Optional[int] = ..., optimizer_state_bytes: _Optional[int] = ..., neuron_count: _Optional[int] = ..., method: _Optional[_Union[Method, str]] = ..., output_kind: _Optional[_Union[OutputKind, str]] = ..., drawn_neuron_set_path: _Optional[str] = ..., diverged_step: _Optional[int] = ...) -> None: ...

class TrainEvent(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    result: TrainResult
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., result: _Optional[_Union[TrainResult, _Mapping]] = ...) -> None: ...

class EvaluationSet(_message.Message):
    __slots__ = ("language", "corpus")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CORPUS_FIELD_NUMBER: _ClassVar[int]
    language: str
    corpus: Corpus
    def __init__(self, language: _Optional[str] = ..., corpus: _Optional[_Union[Corpus, _Mapping]] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("job_id", "model", "pack_path", "sets", "sequence_length", "batch_size", "adapter_path", "tasks", "alignment", "deactivate", "pack_components")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACK_PATH_FIELD_NUMBER: _ClassVar[int]
    SETS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_PATH_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ALIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DEACTIVATE_FIELD_NUMBER: _ClassVar[int]
    PACK_COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: ModelSpec
    pack_path: str
    sets: _containers.RepeatedCompositeFieldContainer[EvaluationSet]
    sequence_length: int
    batch_size: int
    adapter_path: str
    tasks: _containers.RepeatedCompositeFieldContainer[TaskRequest]
    alignment: _containers.RepeatedCompositeFieldContainer[AlignmentRequest]
    deactivate: NeuronIntervention
    pack_components: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., pack_path: _Optional[str] = ..., sets: _Optional[_Iterable[_Union[EvaluationSet, _Mapping]]] = ..., sequence_length: _Optional[int] = ..., batch_size: _Optional[int] = ..., adapter_path: _Optional[str] = ..., tasks: _Optional[_Iterable[_Union[TaskRequest, _Mapping]]] = ..., alignment: _Optional[_Iterable[_Union[AlignmentRequest, _Mapping]]] = ..., deactivate: _Optional[_Union[NeuronIntervention, _Mapping]] = ..., pack_components: _Optional[_Iterable[str]] = ...) -> None: ...

class NeuronIntervention(_message.Message):
    __slots__ = ("neuron_set_path", "random_same_size", "seed")
    NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    RANDOM_SAME_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    neuron_set_path: str
    random_same_size: bool
    seed: int
    def __init__(self, neuron_set_path: _Optional[str] = ..., random_same_size: _Optional[bool] = ..., seed: _Optional[int] = ...) -> None: ...

class TaskRequest(_message.Message):
    __slots__ = ("name", "label", "language", "direction", "mode", "files", "hub_name", "hub_config", "split", "limit", "max_new_tokens")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    HUB_NAME_FIELD_NUMBER: _ClassVar[int]
    HUB_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    language: str
    direction: str
    mode: str
    files: _containers.RepeatedScalarFieldContainer[str]
    hub_name: str
    hub_config: str
    split: str
    limit: int
    max_new_tokens: int
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., language: _Optional[str] = ..., direction: _Optional[str] = ..., mode: _Optional[str] = ..., files: _Optional[_Iterable[str]] = ..., hub_name: _Optional[str] = ..., hub_config: _Optional[str] = ..., split: _Optional[str] = ..., limit: _Optional[int] = ..., max_new_tokens: _Optional[int] = ...) -> None: ...

class TaskScore(_message.Message):
    __slots__ = ("label", "name", "language", "direction", "mode", "metrics", "items", "seconds", "examples_json", "headline")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    LABEL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_JSON_FIELD_NUMBER: _ClassVar[int]
    HEADLINE_FIELD_NUMBER: _ClassVar[int]
    label: str
    name: str
    language: str
    direction: str
    mode: str
    metrics: _containers.ScalarMap[str, float]
    items: int
    seconds: float
    examples_json: str
    headline: str
    def __init__(self, label: _Optional[str] = ..., name: _Optional[str] = ..., language: _Optional[str] = ..., direction: _Optional[str] = ..., mode: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., items: _Optional[int] = ..., seconds: _Optional[float] = ..., examples_json: _Optional[str] = ..., headline: _Optional[str] = ...) -> None: ...

class AlignmentRequest(_message.Message):
    __slots__ = ("language", "files", "limit", "flores_split")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FLORES_SPLIT_FIELD_NUMBER: _ClassVar[int]
    language: str
    files: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    flores_split: str
    def __init__(self, language: _Optional[str] = ..., files: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., flores_split: _Optional[str] = ...) -> None: ...

class AlignmentResult(_message.Message):
    __slots__ = ("language", "per_layer", "mean", "pairs")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PER_LAYER_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    language: str
    per_layer: _containers.RepeatedScalarFieldContainer[float]
    mean: float
    pairs: int
    def __init__(self, language: _Optional[str] = ..., per_layer: _Optional[_Iterable[float]] = ..., mean: _Optional[float] = ..., pairs: _Optional[int] = ...) -> None: ...

class LanguageScore(_message.Message):
    __slots__ = ("language", "perplexity", "mean_loss", "tokens")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PERPLEXITY_FIELD_NUMBER: _ClassVar[int]
    MEAN_LOSS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    language: str
    perplexity: float
    mean_loss: float
    tokens: int
    def __init__(self, language: _Optional[str] = ..., perplexity: _Optional[float] = ..., mean_loss: _Optional[float] = ..., tokens: _Optional[int] = ...) -> None: ...

class EvaluateResult(_message.Message):
    __slots__ = ("pack_path", "scores", "seconds", "tasks", "alignment", "deactivated_neurons")
    PACK_PATH_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ALIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DEACTIVATED_NEURONS_FIELD_NUMBER: _ClassVar[int]
    pack_path: str
    scores: _containers.RepeatedCompositeFieldContainer[LanguageScore]
    seconds: float
    tasks: _containers.RepeatedCompositeFieldContainer[TaskScore]
    alignment: _containers.RepeatedCompositeFieldContainer[AlignmentResult]
    deactivated_neurons: int
    def __init__(self, pack_path: _Optional[str] = ..., scores: _Optional[_Iterable[_Union[LanguageScore, _Mapping]]] = ..., seconds: _Optional[float] = ..., tasks: _Optional[_Iterable[_Union[TaskScore, _Mapping]]] = ..., alignment: _Optional[_Iterable[_Union[AlignmentResult, _Mapping]]] = ..., deactivated_neurons: _Optional[int] = ...) -> None: ...

class EvaluateEvent(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    result: EvaluateResult
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., result: _Optional[_Union[EvaluateResult, _Mapping]] = ...) -> None: ...

class MergePackRequest(_message.Message):
    __slots__ = ("job_id", "model", "pack_paths", "output_dir", "overlap", "force")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACK_PATHS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: ModelSpec
    pack_paths: _containers.RepeatedScalarFieldContainer[str]
    output_dir: str
    overlap: str
    force: bool
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., pack_paths: _Optional[_Iterable[str]] = ..., output_dir: _Optional[str] = ..., overlap: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class MergePackResponse(_message.Message):
    __slots__ = ("output_dir", "neuron_count", "shared_neuron_count")
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    NEURON_COUNT_FIELD_NUMBER: _ClassVar[int]
    SHARED_NEURON_COUNT_FIELD_NUMBER: _ClassVar[int]
    output_dir: str
    neuron_count: int
    shared_neuron_count: int
    def __init__(self, output_dir: _Optional[str] = ..., neuron_count: _Optional[int] = ..., shared_neuron_count: _Optional[int] = ...) -> None: ...

class AnalyzeWeightsRequest(_message.Message):
    __slots__ = ("job_id", "model", "pack_path", "adapter_path", "model_directory", "neuron_set_path")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACK_PATH_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_PATH_FIELD_NUMBER: _ClassVar[int]
    MODEL_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: ModelSpec
    pack_path: str
    adapter_path: str
    model_directory: str
    neuron_set_path: str
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., pack_path: _Optional[str] = ..., adapter_path: _Optional[str] = ..., model_directory: _Optional[str] = ..., neuron_set_path: _Optional[str] = ...) -> None: ...

class ProjectionChange(_message.Message):
    __slots__ = ("neurons", "matrix")
    NEURONS_FIELD_NUMBER: _ClassVar[int]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    neurons: float
    matrix: float
    def __init__(self, neurons: _Optional[float] = ..., matrix: _Optional[float] = ...) -> None: ...

class LayerChange(_message.Message):
    __slots__ = ("layer_index", "gate_proj", "up_proj", "down_proj")
    LAYER_INDEX_FIELD_NUMBER: _ClassVar[int]
    GATE_PROJ_FIELD_NUMBER: _ClassVar[int]
    UP_PROJ_FIELD_NUMBER: _ClassVar[int]
    DOWN_PROJ_FIELD_NUMBER: _ClassVar[int]
    layer_index: int
    gate_proj: ProjectionChange
    up_proj: ProjectionChange
    down_proj: ProjectionChange
    def __init__(self, layer_index: _Optional[int] = ..., gate_proj: _Optional[_Union[ProjectionChange, _Mapping]] = ..., up_proj: _Optional[_Union[ProjectionChange, _Mapping]] = ..., down_proj: _Optional[_Union[ProjectionChange, _Mapping]] = ...) -> None: ...

class AnalyzeWeightsResponse(_message.Message):
    __slots__ = ("layers",)
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    layers: _containers.RepeatedCompositeFieldContainer[LayerChange]
    def __init__(self, layers: _Optional[_Iterable[_Union[LayerChange, _Mapping]]] = ...) -> None: ...

class ConvertNeuronSetRequest(_message.Message):
    __slots__ = ("direction", "reference_path", "languages", "neuron_set_paths", "num_layers")
    class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DIRECTION_UNSPECIFIED: _ClassVar[ConvertNeuronSetRequest.Direction]
        DIRECTION_IMPORT: _ClassVar[ConvertNeuronSetRequest.Direction]
        DIRECTION_EXPORT: _ClassVar[ConvertNeuronSetRequest.Direction]
    DIRECTION_UNSPECIFIED: ConvertNeuronSetRequest.Direction
    DIRECTION_IMPORT: ConvertNeuronSetRequest.Direction
    DIRECTION_EXPORT: ConvertNeuronSetRequest.Direction
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PATH_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    NEURON_SET_PATHS_FIELD_NUMBER: _ClassVar[int]
    NUM_LAYERS_FIELD_NUMBER: _ClassVar[int]
    direction: ConvertNeuronSetRequest.Direction
    reference_path: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    neuron_set_paths: _containers.RepeatedScalarFieldContainer[str]
    num_layers: int
    def __init__(self, direction: _Optional[_Union[ConvertNeuronSetRequest.Direction, str]] = ..., reference_path: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., neuron_set_paths: _Optional[_Iterable[str]] = ..., num_layers: _Optional[int] = ...) -> None: ...

class ConvertNeuronSetResponse(_message.Message):
    __slots__ = ("neuron_sets", "missing_languages")
    NEURON_SETS_FIELD_NUMBER: _ClassVar[int]
    MISSING_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    neuron_sets: _containers.RepeatedCompositeFieldContainer[NeuronSet]
    missing_languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, neuron_sets: _Optional[_Iterable[_Union[NeuronSet, _Mapping]]] = ..., missing_languages: _Optional[_Iterable[str]] = ...) -> None: ...

class StatFileRequest(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: str
    def __init__(self, path: _Optional[str] = ...) -> None: ...

class StatFileResponse(_message.Message):
    __slots__ = ("exists", "size", "sha256", "is_directory")
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    IS_DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    exists: bool
    size: int
    sha256: str
    is_directory: bool
    def __init__(self, exists: _Optional[bool] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., is_directory: _Optional[bool] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("path", "offset", "data", "sha256", "last")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    path: str
    offset: int
    data: bytes
    sha256: str
    last: bool
    def __init__(self, path: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., sha256: _Optional[str] = ..., last: _Optional[bool] = ...) -> None: ...

class PutFileResponse(_message.Message):
    __slots__ = ("path", "size", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    sha256: str
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class GetFileRequest(_message.Message):
    __slots__ = ("path", "chunk_bytes")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    path: str
    chunk_bytes: int
    def __init__(self, path: _Optional[str] = ..., chunk_bytes: _Optional[int] = ...) -> None: ...

class ListFilesRequest(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: str
    def __init__(self, path: _Optional[str] = ...) -> None: ...

class ListFilesResponse(_message.Message):
    __slots__ = ("files",)
    class Entry(_message.Message):
        __slots__ = ("path", "size")
        PATH_FIELD_NUMBER: _ClassVar[int]
        SIZE_FIELD_NUMBER: _ClassVar[int]
        path: str
        size: int
        def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[ListFilesResponse.Entry]
    def __init__(self, files: _Optional[_Iterable[_Union[ListFilesResponse.Entry, _Mapping]]] = ...) -> None: ...

class SteerRequest(_message.Message):
    __slots__ = ("job_id", "model", "prompts", "off_neuron_set_path", "boost_neuron_set_path", "strength", "max_new_tokens", "batch_size", "mode", "boost_counts_path", "prompt_corpus", "prompt_count", "prompt_words", "random_same_size", "seed")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_ADD: _ClassVar[SteerRequest.Mode]
        MODE_MEAN: _ClassVar[SteerRequest.Mode]
    MODE_ADD: SteerRequest.Mode
    MODE_MEAN: SteerRequest.Mode
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    OFF_NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    BOOST_NEURON_SET_PATH_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    BOOST_COUNTS_PATH_FIELD_NUMBER: _ClassVar[int]
    PROMPT_CORPUS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_WORDS_FIELD_NUMBER: _ClassVar[int]
    RANDOM_SAME_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    model: ModelSpec
    prompts: _containers.RepeatedScalarFieldContainer[str]
    off_neuron_set_path: str
    boost_neuron_set_path: str
    strength: float
    max_new_tokens: int
    batch_size: int
    mode: SteerRequest.Mode
    boost_counts_path: str
    prompt_corpus: Corpus
    prompt_count: int
    prompt_words: int
    random_same_size: bool
    seed: int
    def __init__(self, job_id: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., prompts: _Optional[_Iterable[str]] = ..., off_neuron_set_path: _Optional[str] = ..., boost_neuron_set_path: _Optional[str] = ..., strength: _Optional[float] = ..., max_new_tokens: _Optional[int] = ..., batch_size: _Optional[int] = ..., mode: _Optional[_Union[SteerRequest.Mode, str]] = ..., boost_counts_path: _Optional[str] = ..., prompt_corpus: _Optional[_Union[Corpus, _Mapping]] = ..., prompt_count: _Optional[int] = ..., prompt_words: _Optional[int] = ..., random_same_size: _Optional[bool] = ..., seed: _Optional[int] = ...) -> None: ...

class SteerOutput(_message.Message):
    __slots__ = ("prompt", "base", "steered", "base_language", "steered_language")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    STEERED_FIELD_NUMBER: _ClassVar[int]
    BASE_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STEERED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    base: str
    steered: str
    base_language: str
    steered_language: str
    def __init__(self, prompt: _Optional[str] = ..., base: _Optional[str] = ..., steered: _Optional[str] = ..., base_language: _Optional[str] = ..., steered_language: _Optional[str] = ...) -> None: ...

class SteerResult(_message.Message):
    __slots__ = ("outputs", "off_neurons", "boost_neurons", "seconds", "identifiable", "mean_active_value")
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    OFF_NEURONS_FIELD_NUMBER: _ClassVar[int]
    BOOST_NEURONS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIABLE_FIELD_NUMBER: _ClassVar[int]
    MEAN_ACTIVE_VALUE_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[SteerOutput]
    off_neurons: int
    boost_neurons: int
    seconds: float
    identifiable: _containers.RepeatedScalarFieldContainer[str]
    mean_active_value: float
    def __init__(self, outputs: _Optional[_Iterable[_Union[SteerOutput, _Mapping]]] = ..., off_neurons: _Optional[int] = ..., boost_neurons: _Optional[int] = ..., seconds: _Optional[float] = ..., identifiable: _Optional[_Iterable[str]] = ..., mean_active_value: _Optional[float] = ...) -> None: ...

class SteerEvent(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    result: SteerResult
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., result: _Optional[_Union[SteerResult, _Mapping]] = ...) -> None: ...
