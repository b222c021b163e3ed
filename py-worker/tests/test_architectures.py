"""The architecture adapter on tiny random-init models of every supported family, and a
clear refusal for others. The sparse layer must equal the family's own MLP when untrained."""

import pytest
import torch
from transformers import AutoModelForCausalLM, GPT2Config

from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.models.architecture import ModelShape, mlp_layers, model_shape
from sparse_sub_worker.sparse_mlp import SparseMLP

SMALL = dict(vocab_size=128, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=64, head_dim=8)


def tiny(config_class_path: str, **extra):
    module, name = config_class_path.rsplit(".", 1)
    config_class = getattr(__import__(module, fromlist=[name]), name)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config_class(**SMALL, **extra))


FAMILIES = {
    "llama": "transformers.LlamaConfig",
    "mistral": "transformers.MistralConfig",
    "qwen2": "transformers.Qwen2Config",
    "qwen3": "transformers.Qwen3Config",
    "gemma": "transformers.GemmaConfig",
    "gemma2": "transformers.Gemma2Config",
    "gemma3_text": "transformers.Gemma3TextConfig",
}


@pytest.mark.parametrize("family", FAMILIES)
def test_finds_every_layers_gated_mlp(family):
    model = tiny(FAMILIES[family])
    layers = mlp_layers(model)
    assert model_shape(layers) == ModelShape(2, 32, 48)
    x = torch.randn(2, 5, 32)
    for layer in layers:
        with torch.no_grad():
            expected = layer.mlp(x)
            got = SparseMLP(layer, torch.tensor([0, 7, 47]))(x)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_refuses_other_architectures_by_name():
    model = AutoModelForCausalLM.from_config(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=64))
    with pytest.raises(WorkerError, match="model type 'gpt2' \\(GPT2LMHeadModel\\) is not supported; supported: gemma, "):
        mlp_layers(model)
