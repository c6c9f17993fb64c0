"""`rewardkit label` against the fake endpoint, end to end: a run killed mid-way (SIGKILL: no
clean-up at all) and started again pays for no call twice, and its output and report are whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_openai import FakeOpenAI, fake_openai

from rewardkit.data import read_pairs
from rewardkit.data.writers import write_records
from rewardkit.synthetic import generate_pairs

ROOT = Path(__file__).resolve().parents[2]
PAIRS = 12


def label_command(url: str, tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rewardkit.cli",
        "label",
        "--constitution",
        str(ROOT / "configs" / "constitutions" / "harmless.yaml"),
        "--judge",
        "openai:fake-model",
        "--judge_options.endpoint",
        url,
        "--judge_options.backoff_s",
        "0.001",
        "--data",
        str(tmp_path / "pairs.jsonl"),
        "--output",
        str(tmp_path / "ai.jsonl"),
        "--price_input",
        "1.0",
    ]


def test_a_killed_run_restarted_pays_for_no_call_twice(tmp_path: Path) -> None:
    write_records(generate_pairs(PAIRS, seed=3), tmp_path / "pairs.jsonl")
    server = FakeOpenAI(failures=[429])
    running: list[subprocess.Popen[bytes]] = []

    def kill_after_ten(answered: int) -> bool:
        if answered < 10:
            return True
        running[0].send_signal(signal.SIGKILL)  # while it waits for its 11th answer
        running[0].wait()
        return False

    server.before_answer = kill_after_ten
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with fake_openai(server) as url:
        command = label_command(url, tmp_path)
        running.append(subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL))
        assert running[0].wait(timeout=120) == -signal.SIGKILL
        killed_at = len(server.answered)
        assert killed_at == 10 and not (tmp_path / "ai.jsonl").exists()
        server.before_answer = None
        start = time.monotonic()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    calls = 2 * PAIRS  # one principle per pair, both orders
    assert len(server.answered) == len(set(server.answered)) == calls
    assert f"{calls - 10} calls to make, 10 already in" in rerun.stdout
    assert f"{calls - 10} calls paid, 10 from the cache" in rerun.stdout
    assert time.monotonic() - start < 60
    labelled = read_pairs(tmp_path / "ai.jsonl")
    assert len(labelled) == PAIRS
    assert all(p.source == "ai:openai:fake-model@" + url + "|t=0.0" for p in labelled)
    assert all(p.soft_label in (0.2, 0.5, 0.8) and not p.votes for p in labelled)
    report = json.loads((tmp_path / "ai-report" / "agreement.json").read_text())
    assert report["agreement"]["pairs"] == PAIRS
    assert report["agreement"]["position_consistency"] == 1.0
    assert report["run"]["calls"] == calls - 10 and report["run"]["cached"] == 10
