"""Where bf16 runs fast, and the autocast that scoring uses there.

bf16 halves the memory traffic of every matmul; on a CPU with avx512_bf16 or AMX, or a GPU that
supports it, inference gets faster with scores within about 1e-2 of fp32 (tested). Elsewhere bf16
is emulated and slower, so ``auto`` keeps fp32.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

from rewardkit.models.packed_linear import pack_linears
from rewardkit.scoring import Precision


@functools.cache  # the CPU's flags do not change while the process runs; read them once
def cpu_has_fast_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def runs_bf16(device: torch.device, precision: Precision = "auto") -> bool:
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return device.type == "cpu" and cpu_has_fast_bf16()


def cast_for_inference(network: torch.nn.Module, precision: Precision = "auto") -> None:
    """bf16 weights where ``precision`` asks for them (``auto``: where bf16 is fast), fp32
    otherwise (whatever the checkpoint was saved in). A forward pass on bf16 weights casts
    nothing, where autocast casts every weight on every call and runs softmax and layer norm in
    fp32 (scoring MiniLM on hh texts: 1.2x faster, bench/score_speed.py); on the CPU its linear
    layers get weights packed for oneDNN (``packed_linear``). For inference only: training keeps
    fp32 weights. The network is on the CPU here, so ``auto`` follows the CPU; a model moved to
    a GPU later scores under autocast there."""
    device = next(network.parameters()).device
    fast = runs_bf16(device, precision)
    network.to(torch.bfloat16 if fast else torch.float32)
    if fast and device.type == "cpu":
        pack_linears(network)


def autocast(
    device: torch.device, precision: Precision = "auto", weights: torch.dtype = torch.float32
) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast where ``precision`` asks for it (or, for ``auto``, where it is fast), for
    fp32 ``weights``; weights already cast (``cast_for_inference``) run as they are."""
    if weights == torch.float32 and runs_bf16(device, precision):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
