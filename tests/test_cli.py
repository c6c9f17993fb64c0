from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

import pytest

from rewardkit.cli import main
from rewardkit.commands import COMMANDS
from rewardkit.config import load_config
from rewardkit.data import read_records

ROOT = Path(__file__).resolve().parents[1]


def _load(qualified: str) -> Any:
    module, name = qualified.split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*name.split(), "--help"])
    assert info.value.code == 0
    assert f"rewardkit {name}" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads(path: Path) -> None:
    """Each file names its command on its first line: `# rewardkit COMMAND --config FILE`."""
    first = path.read_text().splitlines()[0].split()
    command = COMMANDS[" ".join(first[2 : first.index("--config")])]
    config_cls = _load(command.config)
    cfg = load_config(config_cls, path, positionals=command.positionals)
    assert isinstance(cfg, config_cls)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "configs" / "accelerate").glob("*.yaml")), ids=lambda p: p.name
)
def test_accelerate_configs_parse(path: Path) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(path)
    assert config.num_processes >= 2


NO_HEAVY_HELP = """
import importlib, sys
from rewardkit.cli import main
from rewardkit.commands import COMMANDS

def heavy():
    return [m for m in ("torch", "transformers") if m in sys.modules]

for argv in [["--help"], *([*name.split(), "--help"] for name in COMMANDS)]:
    try:
        main(argv)
    except SystemExit as exc:  # a command's --help exits 0 from the parser
        assert exc.code == 0, (argv, exc.code)
    assert not heavy(), (argv, heavy())
for command in COMMANDS.values():
    importlib.import_module(command.run.split(":")[0])
    assert not heavy(), (command.run, heavy())
"""


def test_help_and_command_modules_do_not_import_torch() -> None:
    """`rewardkit --help`, every `rewardkit COMMAND --help` and importing every command module
    load neither torch nor transformers. One process: imports only accumulate, so checking after
    each step names the first step that pulled one in."""
    done = subprocess.run([sys.executable, "-c", NO_HEAVY_HELP], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_a_config_and_a_run(name: str) -> None:
    """The one pattern: a config dataclass and `run(cfg) -> int` in rewardkit.commands."""
    command = COMMANDS[name]
    config_cls, run = (_load(qualified) for qualified in (command.config, command.run))
    assert is_dataclass(config_cls) and command.run.startswith("rewardkit.commands.")
    parameters = list(inspect.signature(run).parameters.values())
    assert len(parameters) == 1 and inspect.signature(run).return_annotation in (int, "int")


def test_synth_validate_convert_stats_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    assert main(["data", "synth", "--n", "200", "--output", str(pairs)]) == 0
    assert main(["data", "validate", str(pairs), "--report", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows_read"] == 200 and report["rows_skipped"] == 0
    out = tmp_path / "pairs.parquet"
    assert main(["data", "convert", str(pairs), "--output", str(out)]) == 0
    assert list(read_records(out)) == list(read_records(pairs))
    capsys.readouterr()
    assert main(["data", "stats", str(out), "--json", "true"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["records"] == 200 and stats["annotators"]["distinct"] == 6
    assert main(["data", "split", str(pairs), "--output_dir", str(tmp_path / "split")]) == 0
    train = list(read_records(tmp_path / "split" / "train.jsonl"))
    held = list(read_records(tmp_path / "split" / "eval.jsonl"))
    assert len(train) + len(held) == 200
    assert {p.prompt for p in train}.isdisjoint({p.prompt for p in held})  # type: ignore[union-attr]


def test_bad_input_exits_nonzero_with_located_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "c", "rejected": "c"}\n{oops\n')
    assert main(["data", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:1 field 'rejected': identical-responses" in out
    assert f"{bad}:2: bad-json" in out
    assert main(["data", "convert", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 1
    assert not (tmp_path / "o.jsonl").exists()
    assert main(["data", "stats", str(bad), "--format", "nope"]) == 2
    assert main(["data", "nope"]) == 2
