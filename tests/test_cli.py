from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rewardkit.cli import COMMANDS, main
from rewardkit.config import load_config
from rewardkit.data import read_records

ROOT = Path(__file__).resolve().parents[1]


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
    module, name = command.config.split(":")
    config_cls = getattr(__import__(module, fromlist=[name]), name)
    cfg = load_config(config_cls, path, positionals=command.positionals)
    assert isinstance(cfg, config_cls)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "configs" / "accelerate").glob("*.yaml")), ids=lambda p: p.name
)
def test_accelerate_configs_parse(path: Path) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(path)
    assert config.num_processes >= 2


def test_top_level_help_does_not_import_torch() -> None:
    code = (
        "import sys; from rewardkit.cli import main; main(['--help']); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


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
