"""The `rewardkit` command: dispatch only. Each command lives in ``rewardkit.commands``.

Parse the arguments into the command's config dataclass, call its ``run(cfg) -> int``, and turn
the errors a user can fix into exit codes. `rewardkit --help` imports nothing heavy, and a
command's modules are imported only when that command is asked for.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

from rewardkit import __version__
from rewardkit.commands import COMMANDS, Command


def _load(qualified: str) -> Any:
    module, name = qualified.split(":")
    return getattr(importlib.import_module(module), name)


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
    return _dispatch(name, COMMANDS[name], rest)


def _dispatch(name: str, command: Command, args: list[str]) -> int:
    # Imported here, not at the top: jsonargparse is slow to import and `rewardkit --help` needs none.
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
        cfg = config_from_namespace(config_cls, parser.parse_args(listify_args(config_cls, args)))
    except ArgumentError as exc:
        print(f"rewardkit {name}: {exc}", file=sys.stderr)
        return 2
    try:
        code: int = _load(command.run)(cfg)
    except DataError as exc:  # bad rows, already located: a data problem, not a usage one
        print(f"rewardkit {name}: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, NotADirectoryError) as exc:
        print(f"rewardkit {name}: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
