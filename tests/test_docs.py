"""Runs the shell examples of the guides under docs/, in order, in an empty directory.

`rewardkit ...` lines run in this process; a line ending in `&` (a server) starts in its own
process and is stopped with SIGTERM at the end of the guide; `curl ...` lines are retried until
they succeed (a server may still be starting), for at most a minute.
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rewardkit.cli import main

DOCS = sorted((Path(__file__).resolve().parents[1] / "docs").glob("*.md"))


def commands(path: Path) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.S)
    return [
        line
        for block in blocks
        for line in block.splitlines()
        if line.startswith(("rewardkit ", "curl "))
    ]


def run_curl(line: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        done = subprocess.run(shlex.split(line), capture_output=True)
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.returncode == 0, f"{line}: {done.stderr.decode()[-500:]}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_guide_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = commands(path)
    assert any(line.startswith("rewardkit ") for line in lines), f"{path.name} has no examples"
    background: list[subprocess.Popen[bytes]] = []
    try:
        for line in lines:
            if line.startswith("curl "):
                run_curl(line)
            elif line.endswith("&"):
                args = shlex.split(line.rstrip("&"))[1:]
                background.append(subprocess.Popen([sys.executable, "-m", "rewardkit.cli", *args]))
            else:
                assert main(shlex.split(line)[1:]) == 0, line
    finally:
        for process in background:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, "a server did not drain and exit cleanly"
