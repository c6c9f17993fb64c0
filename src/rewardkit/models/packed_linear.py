"""bf16 linear layers on the CPU with their weights packed once for oneDNN, for inference.

torch's bf16 ``nn.Linear`` on the CPU hands oneDNN the weight in its plain layout, and oneDNN
reorders it into its blocked layout on every call. Packed once (``torch.ops.mkldnn``'s
``_reorder_linear_weight``, as torch.compile's CPU backend packs frozen weights) and called
through oneDNN's linear directly, the reorder is gone; and the GELU after an encoder's
intermediate linear runs inside the matmul (a oneDNN post-op) instead of as a pass of its own
over a tokens x intermediate-size tensor. Scoring MiniLM on hh texts: 1.13x (docs/scoring.md).

A ``PackedLinear`` is an ``nn.Linear`` with the same parameters and state dict; only calls
without gradients, on bf16 weights and inputs on the CPU, take the packed path. Anything else
(training, fp32, a GPU) runs the plain linear, so a model loaded for scoring still trains and
saves as before. The packed copy (one more copy of the linear weights in memory) is made on
first use and again whenever the weight changes.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import GELUActivation


def can_pack() -> bool:
    """oneDNN's bf16 linear is there (torch built with it, a CPU it supports)."""
    mkldnn = torch.ops.mkldnn
    ops = ("_linear_pointwise", "_reorder_linear_weight", "_is_mkldnn_bf16_supported")
    return all(hasattr(mkldnn, op) for op in ops) and bool(mkldnn._is_mkldnn_bf16_supported())


class PackedLinear(nn.Linear):
    """``nn.Linear`` whose inference calls on bf16 CPU tensors use a packed weight; with
    ``gelu`` set, the exact (erf) GELU of its output, fused there."""

    gelu = False
    _packed: tuple[int, int, torch.Tensor] | None = None
    """(the weight's version counter, its storage address, the packed weight)"""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if (
            torch.is_grad_enabled()
            or weight.dtype != torch.bfloat16
            or x.dtype != torch.bfloat16
            or x.device.type != "cpu"
        ):
            if self._packed is not None:  # e.g. cast back to fp32 to train: the copy is stale
                self._packed = None  # (guarded: a module's setattr is not free on every call)
            out = nn.functional.linear(x, weight, self.bias)
            return nn.functional.gelu(out) if self.gelu else out
        key = (weight._version, weight.data_ptr())
        packed = self._packed
        if packed is None or packed[:2] != key:
            packed = (*key, torch.ops.mkldnn._reorder_linear_weight(weight.detach()))
            self._packed = packed  # two threads may both pack on a first call: same result
        attr, algorithm = ("gelu", "none") if self.gelu else ("none", "")
        return torch.ops.mkldnn._linear_pointwise(  # type: ignore[no-any-return]
            x.contiguous(), packed[2], self.bias, attr, [], algorithm
        )

    def __getstate__(self) -> dict[str, object]:
        """Copies and pickles leave the packed weight out (oneDNN's opaque tensors have no
        storage to copy); it is packed again on first use."""
        state = self.__dict__.copy()
        state.pop("_packed", None)
        return state


def pack_linears(network: nn.Module) -> None:
    """Every ``nn.Linear`` in ``network`` becomes a ``PackedLinear`` (in place, the same
    parameters); an encoder block's intermediate linear followed by an exact GELU takes the
    GELU into itself. Nothing changes where oneDNN's bf16 linear is missing."""
    if not can_pack():
        return
    for module in network.modules():
        if type(module) is nn.Linear:
            module.__class__ = PackedLinear
    for module in network.modules():
        dense = getattr(module, "dense", None)
        # BERT-style intermediate blocks: exactly a linear then its activation (their forward)
        if (
            isinstance(dense, PackedLinear)
            and {name for name, _ in module.named_children()} == {"dense", "intermediate_act_fn"}
            and type(module.intermediate_act_fn) is GELUActivation
            and module.intermediate_act_fn.act is nn.functional.gelu
        ):
            dense.gelu = True
            module.intermediate_act_fn = nn.Identity()
