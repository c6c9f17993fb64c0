"""Runs every `rewardkit ...` line of the guides under docs/, in order, in an empty directory."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rewardkit.cli import main

DOCS = sorted((Path(__file__).resolve().parents[1] / "docs").glob("*.md"))


def commands(path: Path) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.S)
    return [
        line for block in blocks for line in block.splitlines() if line.startswith("rewardkit ")
    ]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_guide_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = commands(path)
    assert lines, f"{path.name} has no runnable examples"
    for line in lines:
        assert main(shlex.split(line)[1:]) == 0, line
