"""Every `rewardkit` command, in one pattern: a config dataclass and ``run(cfg) -> int``.

``COMMANDS`` maps a command's name to its summary, its config class, its ``run`` and the list
fields it takes as bare arguments. Both are named as ``"module:attribute"`` strings, not
imported: this module must stay free of heavy imports so that `rewardkit --help` is instant, and
the CLI imports a command's modules only when that command is asked for.

A command module (``rewardkit.commands.<name>``) imports nothing heavy at module level either, so
its config's ``--help`` never loads torch; its ``run`` turns the config into library calls and
does all of the command's printing. It returns the exit code and raises ``ValueError`` (exit 2)
or ``DataError`` (exit 1) for the CLI to report.
"""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    summary: str
    config: str
    """``module:ConfigClass``"""
    run: str
    """``module:function`` taking the config and returning the exit code."""
    positionals: tuple[str, ...] = ()
    """List fields taken as bare arguments (``rewardkit data stats a.jsonl b.jsonl``)."""


_DATA = "rewardkit.commands.data"
_FILES = ("paths",)

COMMANDS: dict[str, Command] = {
    "train": Command(
        "train a reward model (pairs, ratings or step traces); the synthetic world by default",
        "rewardkit.training.config:TrainConfig",
        "rewardkit.commands.train:run",
    ),
    "score": Command(
        "score responses in a file with a trained model (JSONL out)",
        "rewardkit.commands.score:ScoreConfig",
        "rewardkit.commands.score:run",
    ),
    "serve": Command(
        "serve a reward model over HTTP (rewardkit /score, OpenRLHF /get_reward, /metrics)",
        "rewardkit.serving.config:ServeConfig",
        "rewardkit.commands.serve:run",
    ),
    "eval": Command(
        "evaluate scorers on suites: accuracy by section, calibration, length bias, report",
        "rewardkit.evaluation.config:EvalConfig",
        "rewardkit.commands.eval:run",
    ),
    "push": Command(
        "upload a trained model to the Hugging Face Hub with its card (load it back by name)",
        "rewardkit.commands.push:PushConfig",
        "rewardkit.commands.push:run",
    ),
    "rl": Command(
        "optimise a small policy against a reward model (TRL GRPO) and watch the gold reward",
        "rewardkit.commands.rl:RLConfig",
        "rewardkit.commands.rl:run",
    ),
    "audit": Command(
        "probe a reward model for hacking (length, flattery, format) and fit its OOD score",
        "rewardkit.commands.audit:AuditConfig",
        "rewardkit.commands.audit:run",
    ),
    "label": Command(
        "AI soft labels for pairs from a judge and a constitution, with agreement vs humans",
        "rewardkit.commands.label:LabelConfig",
        "rewardkit.commands.label:run",
    ),
    "data validate": Command(
        "check files and list every bad row with its place",
        f"{_DATA}:ValidateConfig",
        f"{_DATA}:validate",
        _FILES,
    ),
    "data convert": Command(
        "convert any known format to rewardkit records",
        f"{_DATA}:ConvertConfig",
        f"{_DATA}:convert",
        _FILES,
    ),
    "data stats": Command(
        "counts, lengths, ties, annotators, agreement, duplicates",
        f"{_DATA}:StatsConfig",
        f"{_DATA}:stats",
        _FILES,
    ),
    "data split": Command(
        "prompt-disjoint train/eval split",
        f"{_DATA}:SplitConfig",
        f"{_DATA}:split",
        _FILES,
    ),
    "data aggregate": Command(
        "fit a label model on annotator votes; write pairs with the aggregated P(chosen)",
        "rewardkit.commands.aggregate:AggregateConfig",
        "rewardkit.commands.aggregate:run",
        _FILES,
    ),
    "data formats": Command(
        "list the row formats rewardkit reads", f"{_DATA}:FormatsConfig", f"{_DATA}:formats"
    ),
    "data synth": Command(
        "write data from the synthetic preference world",
        "rewardkit.commands.synth:SynthConfig",
        "rewardkit.commands.synth:run",
    ),
}

__all__ = ["COMMANDS", "Command"]
