"""The `rewardkit` command: each subcommand is a config dataclass plus a function, imported lazily.

`rewardkit --help` imports nothing heavy; a subcommand imports only its own modules.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rewardkit import __version__


@dataclass(frozen=True)
class Command:
    summary: str
    config: str
    """module:ConfigClass"""
    run: Callable[[Any], int]
    positionals: tuple[str, ...] = ()


def _load(qualified: str) -> Any:
    module, name = qualified.split(":")
    return getattr(importlib.import_module(module), name)


def _token_tools(cfg: Any) -> tuple[Any, Any]:
    """Token counters from ``--tokenizer``, made here so the data layer never loads a tokenizer."""
    if not getattr(cfg, "tokenizer", None):
        return None, None
    from rewardkit.models.backbones import load_tokenizer, text_length, token_counter

    tokenizer = load_tokenizer(cfg.tokenizer)
    return token_counter(tokenizer), text_length(tokenizer)


def _data(function: str, failing: Callable[[Any], bool] = lambda _: False) -> Callable[[Any], int]:
    def run(cfg: Any) -> int:
        count_tokens, length_of = _token_tools(cfg)
        kwargs = {"length_of": length_of} if function == "stats" else {}
        result = _load(f"rewardkit.data.commands:{function}")(cfg, count_tokens, **kwargs)
        return 1 if failing(result) else 0

    return run


def _formats(cfg: Any) -> int:
    _load("rewardkit.data.commands:list_formats")(cfg)
    return 0


def _synth(cfg: Any) -> int:
    from rewardkit.data.writers import write_records
    from rewardkit.synthetic.command import synthesize

    n = write_records(synthesize(cfg), cfg.output)
    print(f"wrote {n} {cfg.kind} to {cfg.output}")
    return 0


def _train(cfg: Any) -> int:
    _load("rewardkit.training.command:run_train")(cfg)
    return 0


def _eval(cfg: Any) -> int:
    _load("rewardkit.evaluation.command:run_eval")(cfg)
    return 0


def _serve(cfg: Any) -> int:
    try:
        serve = _load("rewardkit.serving.command:serve")
    except ModuleNotFoundError as exc:
        raise ValueError(f"the server needs {exc.name}: pip install 'rewardkit[serve]'") from None
    serve(cfg)
    return 0


def _score(cfg: Any) -> int:
    _load("rewardkit.models.score_command:score_file")(cfg)
    return 0


COMMANDS: dict[str, Command] = {
    "train": Command(
        "train a reward model (Bradley-Terry) on pairs; the synthetic world by default",
        "rewardkit.training.config:TrainConfig",
        _train,
    ),
    "score": Command(
        "score responses in a file with a trained model (JSONL out)",
        "rewardkit.models.score_command:ScoreConfig",
        _score,
    ),
    "serve": Command(
        "serve a reward model over HTTP (rewardkit /score, OpenRLHF /get_reward, /metrics)",
        "rewardkit.serving.config:ServeConfig",
        _serve,
    ),
    "eval": Command(
        "evaluate scorers on suites: accuracy by section, calibration, length bias, report",
        "rewardkit.evaluation.config:EvalConfig",
        _eval,
    ),
    "data validate": Command(
        "check files and list every bad row with its place",
        "rewardkit.data.commands:ValidateConfig",
        _data("validate", lambda report: report.n_errors > 0),
        ("paths",),
    ),
    "data convert": Command(
        "convert any known format to rewardkit records",
        "rewardkit.data.commands:ConvertConfig",
        _data("convert"),
        ("paths",),
    ),
    "data stats": Command(
        "counts, lengths, ties, annotators, agreement, duplicates",
        "rewardkit.data.commands:StatsConfig",
        _data("stats"),
        ("paths",),
    ),
    "data split": Command(
        "prompt-disjoint train/eval split",
        "rewardkit.data.commands:SplitConfig",
        _data("split"),
        ("paths",),
    ),
    "data formats": Command(
        "list the row formats rewardkit reads", "rewardkit.data.commands:FormatsConfig", _formats
    ),
    "data synth": Command(
        "write data from the synthetic preference world",
        "rewardkit.synthetic.command:SynthConfig",
        _synth,
    ),
}


def _usage() -> str:
    lines = [
        f"rewardkit {__version__}: reward modeling from preference data",
        "",
        "usage: rewardkit COMMAND [options]   (rewardkit COMMAND --help for its options)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<16}{command.summary}" for name, command in COMMANDS.items()]
    return "\n".join(lines)


def _select(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    for length in (2, 1):
        name = " ".join(argv[:length])
        if len(argv) >= length and name in COMMANDS:
            return name, list(argv[length:])
    return None, list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in ([], ["-h"], ["--help"]):
        print(_usage())
        return 0
    if argv == ["--version"]:
        print(__version__)
        return 0
    name, rest = _select(argv)
    if name is None:
        print(f"unknown command: {' '.join(argv[:2])}\n\n{_usage()}", file=sys.stderr)
        return 2
    command = COMMANDS[name]
    from jsonargparse import ArgumentError

    from rewardkit.config import build_parser, config_from_namespace, listify_args
    from rewardkit.data.issues import DataError

    config_cls = _load(command.config)
    parser = build_parser(
        config_cls,
        prog=f"rewardkit {name}",
        description=command.summary,
        positionals=command.positionals,
    )
    try:
        cfg = config_from_namespace(config_cls, parser.parse_args(listify_args(config_cls, rest)))
    except ArgumentError as exc:
        print(f"rewardkit {name}: {exc}", file=sys.stderr)
        return 2
    try:
        return command.run(cfg)
    except DataError as exc:
        print(f"rewardkit {name}: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, NotADirectoryError) as exc:
        print(f"rewardkit {name}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
