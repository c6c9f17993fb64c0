"""One loader for every command's config: the dataclass is the schema for the CLI, YAML and Python.

    cfg = load_config(TrainConfig, "configs/train.yaml", ["--lr", "1e-4"])

Fields become ``--flags`` (nested dataclasses as ``--model.name``), attribute docstrings become
their ``--help``, ``--config FILE.yaml`` loads a file, later flags override it. Unknown keys and
wrong types are errors that name the key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import jsonargparse

T = TypeVar("T")

jsonargparse.set_parsing_settings(docstring_parse_attribute_docstrings=True)


def build_parser(
    config_cls: type[Any],
    prog: str | None = None,
    description: str | None = None,
    positionals: Sequence[str] = (),
) -> jsonargparse.ArgumentParser:
    """``positionals`` are list fields taken as bare arguments (``rewardkit data stats a.jsonl``)."""
    parser = jsonargparse.ArgumentParser(prog=prog, description=description, exit_on_error=False)
    parser.add_argument(
        "--config",
        action=jsonargparse.ActionConfigFile,  # type: ignore[attr-defined]
        help="a YAML file with any of the options below",
    )
    for name in positionals:
        parser.add_argument(name, nargs="+", help=_field_help(config_cls, name))
    parser.add_class_arguments(config_cls, skip=set(positionals), fail_untyped=True)
    return parser


def _field_help(config_cls: type[Any], name: str) -> str:
    from docstring_parser import parse_from_object

    for cls in config_cls.__mro__[:-1]:
        params = {p.arg_name: p.description for p in parse_from_object(cls).params}
        if params.get(name):
            return str(params[name])
    return name


def list_fields(config_cls: type[Any]) -> set[str]:
    """Top-level fields typed ``list[...]``, which take one or more bare values on the CLI."""
    hints = get_type_hints(config_cls)
    return {
        f.name
        for f in fields(config_cls)
        if get_origin(hints[f.name]) is list
        or (
            get_origin(hints[f.name]) in (Union, UnionType)
            and any(get_origin(a) is list for a in get_args(hints[f.name]))
        )
    }


def listify_args(config_cls: type[Any], args: Sequence[str]) -> list[str]:
    """``--data a.jsonl b.jsonl`` becomes ``--data ["a.jsonl", "b.jsonl"]`` for list fields, so
    nobody has to type JSON on a command line (a value already in brackets is left alone)."""
    names = {f"--{name}" for name in list_fields(config_cls)}
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        out.append(arg)
        i += 1
        if arg in names and i < len(args) and not args[i].lstrip().startswith("["):
            values = []
            while i < len(args) and not args[i].startswith("--"):
                values.append(args[i])
                i += 1
            out.append(json.dumps(values))
    return out


def config_from_namespace(config_cls: type[T], namespace: jsonargparse.Namespace) -> T:
    values = namespace.as_dict()
    names = {f.name for f in fields(config_cls)}  # type: ignore[arg-type]
    kwargs = {k: v for k, v in values.items() if k in names}
    return _instantiate(config_cls, kwargs)


def _instantiate(cls: type[T], values: dict[str, Any]) -> T:
    hints = get_type_hints(cls)
    kwargs = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in values:
            continue
        value = values[f.name]
        if is_dataclass(hints[f.name]) and isinstance(value, dict):
            value = _instantiate(hints[f.name], value)
        kwargs[f.name] = value
    return cls(**kwargs)


def load_config(
    config_cls: type[T],
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
    positionals: Sequence[str] = (),
) -> T:
    parser = build_parser(config_cls, positionals=positionals)
    args = (["--config", str(path)] if path is not None else []) + listify_args(
        config_cls, overrides
    )
    return config_from_namespace(config_cls, parser.parse_args(args))
