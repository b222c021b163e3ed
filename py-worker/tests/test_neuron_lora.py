"""neuron-lora's layer against a straightforward dense implementation: the full matrices cloned,
(alpha / r) B A written into the selected rows / columns, the dense MLP run. Same output, same
gradients for A and B; at the start (B = 0) exactly the base MLP."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sparse_sub_worker.methods.neuron_lora import NeuronLoraMLP, NeuronLoraSettings

NEURONS = [1, 5, 17, 40]


def dense_reference(layer, idx, factors, scaling, x):
    gate, up, down = (getattr(layer, p).weight.detach().clone() for p in ("gate_proj", "up_proj", "down_proj"))
    gate[idx] += scaling * factors["gate"][0] @ factors["gate"][1]
    up[idx] += scaling * factors["up"][0] @ factors["up"][1]
    down[:, idx] += scaling * factors["down"][0] @ factors["down"][1]
    return F.linear(layer.act_fn(F.linear(x, gate)) * F.linear(x, up), down)


def test_forward_and_gradients_equal_the_dense_reference(tiny):
    layer = tiny.layers[0]
    settings = NeuronLoraSettings(r=3, alpha=6.0)
    module = NeuronLoraMLP(layer, torch.tensor(NEURONS), ("gate", "up", "down"), settings)
    x = torch.randn(2, 5, layer.gate_proj.weight.shape[1], generator=torch.Generator().manual_seed(0))
    assert torch.equal(module(x), layer.mlp(x))  # B = 0: the base MLP, bit for bit

    with torch.no_grad():
        for c in ("gate", "up", "down"):
            getattr(module, f"{c}_lora_b").normal_(generator=torch.Generator().manual_seed(1))
    reference = {c: [getattr(module, f"{c}_lora_b").detach().clone().requires_grad_(),
                     getattr(module, f"{c}_lora_a").detach().clone().requires_grad_()] for c in ("gate", "up", "down")}
    ours = module(x)
    theirs = dense_reference(layer, torch.tensor(NEURONS), reference, 2.0, x)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(ours, layer.mlp(x), atol=1e-3)  # the update is far beyond the tolerance

    ours.square().sum().backward()
    theirs.square().sum().backward()
    for c in ("gate", "up", "down"):
        for ours_grad, their_grad in ((getattr(module, f"{c}_lora_b").grad, reference[c][0].grad),
                                      (getattr(module, f"{c}_lora_a").grad, reference[c][1].grad)):
            # float32 sums in another order: within 1e-5 of the gradient's own scale
            torch.testing.assert_close(ours_grad, their_grad, rtol=0, atol=1e-5 * float(their_grad.abs().max()))
    assert all(p.grad is None for p in layer.mlp.parameters())  # the base stays frozen


def test_only_the_named_components_get_factors(tiny):
    module = NeuronLoraMLP(tiny.layers[1], torch.tensor(NEURONS), ("down",), NeuronLoraSettings(r=2, alpha=2.0))
    hidden = tiny.layers[1].gate_proj.weight.shape[1]
    assert {n: tuple(p.shape) for n, p in module.named_parameters()} == {"down_lora_b": (hidden, 2), "down_lora_a": (2, len(NEURONS))}
    assert set(module.slices()) == {"down_proj"}


def test_the_pack_holds_base_plus_scaled_low_rank_update(tiny):
    """What a neuron-lora pack stores, worked out by hand from B, A and alpha / r."""
    layer = tiny.layers[2]
    module = NeuronLoraMLP(layer, torch.tensor(NEURONS), ("gate", "down"), NeuronLoraSettings(r=2, alpha=3.0))
    with torch.no_grad():
        module.gate_lora_b.fill_(0.5)
        module.down_lora_b.fill_(-0.25)
    slices = module.slices()
    by_hand_gate = layer.gate_proj.weight.detach()[NEURONS] + 1.5 * (module.gate_lora_b @ module.gate_lora_a)
    by_hand_down = layer.down_proj.weight.detach()[:, NEURONS] + 1.5 * (module.down_lora_b @ module.down_lora_a)
    torch.testing.assert_close(slices["gate_proj"], by_hand_gate, rtol=0, atol=1e-6)
    torch.testing.assert_close(slices["down_proj"], by_hand_down, rtol=0, atol=1e-6)
    assert set(slices) == {"gate_proj", "down_proj"}


def test_settings_take_defaults_and_refuse_what_cannot_train():
    import pytest

    from sparse_sub_worker.errors import WorkerError
    from sparse_sub_worker.gen.sparse_sub.v1 import worker_pb2 as pb

    read = lambda **given: NeuronLoraSettings.read(pb.TrainRequest(neuron_lora=pb.NeuronLoraConfig(**given)))
    assert read() == NeuronLoraSettings(r=8, alpha=16.0)
    assert read(r=4, alpha=0.5) == NeuronLoraSettings(r=4, alpha=0.5)
    assert read(r=1) == NeuronLoraSettings(r=1, alpha=16.0)  # rank 1 is a rank
    for given, field_name in ((dict(r=-2), "neuron_lora.r"), (dict(alpha=-1.0), "neuron_lora.alpha"), (dict(alpha=float("nan")), "neuron_lora.alpha")):
        with pytest.raises(WorkerError) as error:
            read(**given)
        assert error.value.field == field_name and "got" in error.value.message


def test_a_neuron_lora_job_is_its_own_method_in_checkpoints_and_packs(tiny):
    from types import SimpleNamespace

    from sparse_sub_worker.methods.neuron_lora import NEURON_LORA
    from sparse_sub_worker.neuron_sets import NeuronSet

    neuron_set = NeuronSet("af", [[1, 2]] + [[] for _ in tiny.layers[1:]], tiny.layers[0].gate_proj.out_features)
    job = SimpleNamespace(loaded=tiny, neuron_set=neuron_set, components=("gate", "up", "down"), settings=NeuronLoraSettings(r=2, alpha=4.0), keep_base=True)
    trainable = NEURON_LORA.build(job)
    assert trainable.method == "neuron-lora"  # a sparse checkpoint of the same shapes is not resumed as this method


def test_factors_start_as_peft_starts_lora_b_zero_and_a_kaiming_uniform(tiny):
    import math

    torch.manual_seed(0)
    module = NeuronLoraMLP(tiny.layers[1], torch.tensor(NEURONS), ("gate", "up", "down"), NeuronLoraSettings(r=4, alpha=8.0))
    for component in ("gate", "up", "down"):
        a, b = getattr(module, f"{component}_lora_a"), getattr(module, f"{component}_lora_b")
        assert a.dtype == b.dtype == torch.float32 and not b.any()
        # kaiming_uniform_(a=sqrt(5)): uniform in +-sqrt(6 / ((1 + 5) * fan_in)) = +-1 / sqrt(fan_in), as peft's LoRA A
        bound = 1 / math.sqrt(a.shape[1])
        assert a.abs().max() <= bound
        assert a.abs().max() > 0.95 * bound, component  # the whole range is used (another gain would narrow it)
