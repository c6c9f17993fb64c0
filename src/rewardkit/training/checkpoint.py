"""Checkpoints that survive SIGKILL: written whole or not at all, with everything a resume needs.

A checkpoint is a directory ``step-00000042`` holding the trainable weights, the optimizer's
tensors and the RNG states as safetensors (no pickle anywhere), and the optimizer's, scheduler's
and loop's plain values as JSON. It is written under a temporary name, every file fsynced, and
renamed into place: a directory named ``step-*`` is always complete. Leftover temporary
directories from a kill are removed on the next save.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

PREFIX = "step-"
TMP_PREFIX = ".tmp-step-"


def _fsync_write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _optimizer_split(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for index, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain["state"].setdefault(str(index), {})[name] = value
    return tensors, plain


def _optimizer_join(tensors: dict[str, torch.Tensor], plain: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, values in plain["state"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": plain["param_groups"]}


def save_checkpoint(
    output_dir: Path,
    step: int,
    weights: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    loop_state: dict[str, Any],
    keep_last: int,
) -> Path:
    root = output_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    final = root / f"{PREFIX}{step:08d}"
    tmp = root / f"{TMP_PREFIX}{step:08d}-{os.getpid()}"
    tmp.mkdir()
    save_file(
        {k: v.detach().cpu().contiguous() for k, v in weights.items()}, tmp / "model.safetensors"
    )
    opt_tensors, opt_plain = _optimizer_split(optimizer.state_dict())
    save_file(opt_tensors, tmp / "optimizer.safetensors")
    save_file(_torch_rng(), tmp / "rng.safetensors")
    for name in ("model.safetensors", "optimizer.safetensors", "rng.safetensors"):
        _fsync_file(tmp / name)
    _fsync_write(tmp / "optimizer.json", json.dumps(opt_plain))
    _fsync_write(tmp / "scheduler.json", json.dumps(scheduler.state_dict()))
    state = {**loop_state, "step": step, "python_rng": _python_rng(), "numpy_rng": _numpy_rng()}
    _fsync_write(tmp / "state.json", json.dumps(state))
    if final.exists():  # the same step saved again after a resume: replace it whole
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync_file(root)
    for old in sorted(root.glob(f"{PREFIX}*"))[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = sorted((output_dir / "checkpoints").glob(f"{PREFIX}*"))
    return found[-1] if found else None


def load_checkpoint(
    path: Path, optimizer: torch.optim.Optimizer, scheduler: Any
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Restores optimizer, scheduler and RNGs; returns the weights and the loop state."""
    plain = json.loads((path / "optimizer.json").read_text())
    optimizer.load_state_dict(_optimizer_join(load_file(path / "optimizer.safetensors"), plain))
    scheduler.load_state_dict(json.loads((path / "scheduler.json").read_text()))
    state: dict[str, Any] = json.loads((path / "state.json").read_text())
    rng = load_file(path / "rng.safetensors")
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])
    version, internal, gauss = state["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy_rng"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    return load_file(path / "model.safetensors"), state


def _torch_rng() -> dict[str, torch.Tensor]:
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state()
    return states


def _python_rng() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _numpy_rng() -> list[Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return [kind, np.asarray(keys).tolist(), int(pos), int(has_gauss), float(cached)]
