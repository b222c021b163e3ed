"""Random-init Llama models for benchmarks: the cost of a step does not depend on the weights."""

from __future__ import annotations

import torch

SHAPES = {
    # runs on a 2-core CPU in minutes
    "small": dict(num_hidden_layers=4, hidden_size=512, intermediate_size=1536, vocab_size=8192,
                  num_attention_heads=8, num_key_value_heads=4),
    # meta-llama/Llama-3.1-8B
    "llama-3.1-8b": dict(num_hidden_layers=32, hidden_size=4096, intermediate_size=14336, vocab_size=128256,
                         num_attention_heads=32, num_key_value_heads=8, rope_theta=500000.0),
}


def build_model(shape: str, device: torch.device, dtype: torch.dtype, seed: int = 0):
    """(LoadedModel-like object, config). Weights random, frozen, in eval mode."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from sparse_sub_worker.models.architecture import mlp_layers, model_shape
    from sparse_sub_worker.models.loading import LoadedModel, ModelRequest
    from sparse_sub_worker.models.text_encoding import TextEncoder

    config = LlamaConfig(max_position_embeddings=4096, tie_word_embeddings=False, **SHAPES[shape])
    torch.manual_seed(seed)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype)
    model.eval().requires_grad_(False)
    layers = mlp_layers(model)
    loaded = LoadedModel(ModelRequest(f"random-init:{shape}"), model, None, layers, model_shape(layers), device, dtype,
                         TextEncoder(None, add_bos=False, reason="random-init model, no tokenizer"))
    return loaded, config


def random_neurons(num_layers: int, intermediate: int, share: float, seed: int = 0) -> list[list[int]]:
    """`share` of each layer's neurons, drawn at random (LAPE sets cluster in late layers; the
    cost per neuron is the same wherever it sits)."""
    generator = torch.Generator().manual_seed(seed)
    per_layer = max(1, round(intermediate * share))
    return [sorted(torch.randperm(intermediate, generator=generator)[:per_layer].tolist()) for _ in range(num_layers)]


def batches(vocab_size: int, batch_size: int, sequence_length: int, count: int, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab_size, (batch_size, sequence_length), generator=generator) for _ in range(count)]
