"""Every training method the worker knows, by its wire enum. A new method is a module in this
package exporting its MethodDefinition, and one entry here."""

from __future__ import annotations

from ..errors import invalid
from ..gen.sparse_sub.v1 import worker_pb2 as pb
from . import MethodDefinition
from .adapters import IA3, LORA
from .dense import FFN, FULL
from .neuron_lora import NEURON_LORA
from .subnetwork import RANDOM, SPARSE

METHODS: dict[int, MethodDefinition] = {m.wire: m for m in (SPARSE, RANDOM, FFN, FULL, LORA, IA3, NEURON_LORA)}


def method_definition(wire: int) -> MethodDefinition:
    """The method a TrainRequest names (unset: sparse, the paper's)."""
    definition = METHODS.get(wire or pb.METHOD_SPARSE)
    if definition is None:
        raise invalid("method", f"unknown method {wire}; this worker knows {sorted(m.name for m in METHODS.values())}")
    return definition
