"""Saving a loaded model as a plain transformers directory, from any base the worker loads.

A GGUF base is dequantized by transformers at load time, but the model keeps its GGUF quantizer
and `quantization_config`, and `save_pretrained` refuses it ("quantized with
QuantizationMethod.GGUF and is not serializable"). Its weights are already plain tensors in the
dtype asked for, so the quantizer is set aside while saving: the directory then loads with plain
`AutoModelForCausalLM.from_pretrained`, no `gguf_file` needed."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch


@contextmanager
def _without_gguf_quantizer(model) -> Iterator[None]:
    quantizer = getattr(model, "hf_quantizer", None)
    method = getattr(getattr(quantizer, "quantization_config", None), "quant_method", None)
    if quantizer is None or str(getattr(method, "value", method)) != "gguf":
        yield
        return
    config = model.config
    saved = (quantizer, getattr(model, "is_quantized", None), getattr(config, "quantization_config", None))
    model.hf_quantizer, model.is_quantized = None, False
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    try:
        yield
    finally:
        model.hf_quantizer, model.is_quantized = saved[0], saved[1]
        if saved[2] is not None:
            config.quantization_config = saved[2]


def save_model_directory(model, tokenizer, directory: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> None:
    """Weights (safetensors, in the model's dtype), config and tokenizer into directory."""
    with _without_gguf_quantizer(model):
        model.save_pretrained(directory, state_dict=state_dict)
    tokenizer.save_pretrained(directory)
