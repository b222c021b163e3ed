"""Finds each decoder layer's gated MLP (gate/up/down projections and activation).

A "neuron" is one index of the intermediate dimension in one layer: row i of gate_proj and
up_proj ([I, H]) and column i of down_proj ([H, I]). Only architectures whose MLP computes
down(act(gate(x)) * up(x)) with sign(act(z)) == sign(z) are accepted, so that "activated"
(act > 0) can be read off the gate projection's output.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..errors import invalid, precondition

# The gated MLP's three projections, by their module names (Llama, Gemma, Mistral, Qwen...).
PROJECTIONS = ("gate_proj", "up_proj", "down_proj")

# model_type -> MLP flavour. Gemma uses GeGLU (tanh GELU); the others SwiGLU.
SUPPORTED_MODEL_TYPES = {
    "llama": "swiglu",
    "mistral": "swiglu",
    "qwen2": "swiglu",
    "qwen3": "swiglu",
    "gemma": "geglu",
    "gemma2": "geglu",
    "gemma3": "geglu",
    "gemma3_text": "geglu",
}
# Activations whose output is > 0 exactly when their input is > 0.
SIGN_PRESERVING_ACTIVATIONS = {"silu", "swish", "gelu", "gelu_pytorch_tanh", "gelu_new", "gelu_fast"}


@dataclass(frozen=True)
class MlpLayer:
    index: int
    mlp: nn.Module
    gate_proj: nn.Linear
    up_proj: nn.Linear
    down_proj: nn.Linear
    act_fn: nn.Module


@dataclass(frozen=True)
class ModelShape:
    num_layers: int
    hidden_size: int
    intermediate_size: int


def _text_config(model: nn.Module):
    config = model.config
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The list of decoder layers, for causal LMs and Gemma-3's multimodal wrapper alike."""
    for path in ("model.layers", "model.language_model.layers", "language_model.model.layers"):
        obj = model
        for attr in path.split("."):
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if isinstance(obj, nn.ModuleList):
            return obj
    raise precondition("UNSUPPORTED_ARCHITECTURE", f"cannot find decoder layers in {type(model).__name__}", "model.source")


def mlp_layers(model: nn.Module) -> list[MlpLayer]:
    """Every layer's MLP parts; refuses architectures the method is not defined for."""
    config = _text_config(model)
    model_type = getattr(config, "model_type", "?")
    if model_type not in SUPPORTED_MODEL_TYPES:
        supported = ", ".join(sorted(SUPPORTED_MODEL_TYPES))
        raise precondition(
            "UNSUPPORTED_ARCHITECTURE",
            f"model type '{model_type}' ({type(model).__name__}) is not supported; supported: {supported}",
            "model.source",
        )
    activation = getattr(config, "hidden_act", None) or getattr(config, "hidden_activation", None)
    if activation not in SIGN_PRESERVING_ACTIVATIONS:
        raise precondition(
            "UNSUPPORTED_ARCHITECTURE",
            f"MLP activation '{activation}' is not sign-preserving; activation counting needs SiLU or GELU",
            "model.source",
        )
    layers = []
    for index, layer in enumerate(decoder_layers(model)):
        mlp = getattr(layer, "mlp", None)
        parts = [getattr(mlp, name, None) for name in (*PROJECTIONS, "act_fn")]
        if mlp is None or any(p is None for p in parts):
            raise precondition(
                "UNSUPPORTED_ARCHITECTURE",
                f"layer {index} of {type(model).__name__} has no gated MLP (gate_proj/up_proj/down_proj/act_fn)",
                "model.source",
            )
        layers.append(MlpLayer(index, mlp, *parts))
    return layers


def model_shape(layers: list[MlpLayer]) -> ModelShape:
    first = layers[0]
    return ModelShape(len(layers), first.gate_proj.in_features, first.gate_proj.out_features)


def model_max_length(model) -> int:
    """The longest sequence the model was built for (config.max_position_embeddings): what
    the reference's vLLM `max_model_len` is for the models it ran (131072 for Llama-3.1-8B)."""
    config = getattr(model.config, "text_config", None) or model.config
    length = getattr(config, "max_position_embeddings", 0)
    if not length:
        raise invalid("sequence_length", f"0 asks for the model's maximum, but {type(model).__name__}'s config has no max_position_embeddings")
    return int(length)
