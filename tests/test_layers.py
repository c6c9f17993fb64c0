"""The layer boundaries of ARCHITECTURE.md, checked on every import statement (lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rewardkit"
LAYERS = {
    "config": 0,
    "records": 0,
    "scoring": 0,
    "data": 1,
    "aggregation": 1,
    "losses": 1,
    "evaluation.metrics": 1,
    "synthetic": 1,
    "models": 2,
    "feedback": 2,
    "training": 3,
    "evaluation": 3,
    "hacking": 3,
    "serving": 4,
    "rl": 4,
    "commands": 5,
    "cli": 5,
}
ALLOWED_BELOW = {"serving": {"config", "records", "scoring", "models"}}
"""Units that may import only some of the lower units."""
ALLOWED_PEERS = {("scoring", "records"), ("cli", "commands")}
"""The Scorer protocol speaks the records' Text type: the one import inside layer 0. The CLI
dispatches to the commands' table (it imports their modules only by name, when one runs)."""
HEAVY = {
    "torch": {
        "losses",
        "models",
        "training",
        "evaluation",
        "hacking",
        "serving",
        "feedback",
        "rl",
        "commands",
    },
    "transformers": {"models", "training", "evaluation", "hacking", "serving", "feedback", "rl"},
    "fastapi": {"serving"},
    "uvicorn": {"serving"},
}


def unit_of(module: str) -> str:
    parts = module.split(".")[1:]
    if parts[:2] == ["evaluation", "metrics"]:
        return "evaluation.metrics"
    return parts[0] if parts else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        unit = unit_of(module)
        if unit == "__init__":
            continue
        for imported in imports(path):
            top = imported.split(".")[0]
            if top == "rewardkit":
                target = unit_of(imported)
                if target in (unit, "__init__") or (unit, target) in ALLOWED_PEERS:
                    continue
                allowed = ALLOWED_BELOW.get(unit)
                below = LAYERS[target] < LAYERS[unit]
                if not below or (allowed is not None and target not in allowed):
                    problems.append(f"{module} (layer {LAYERS[unit]}) imports {imported}")
            elif top in HEAVY:
                owner = ".".join(module.split(".")[1:3])
                if not any(
                    owner == a or owner.startswith(a + ".") or unit == a for a in HEAVY[top]
                ):
                    problems.append(f"{module} imports {top}")
    return problems


def test_layers_hold() -> None:
    assert violations() == []


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from rewardkit.training import loop\nimport torch\n")
    assert imports(bad) == ["rewardkit.training", "torch"]
    assert unit_of("rewardkit.evaluation.metrics.accuracy") == "evaluation.metrics"
    assert LAYERS[unit_of("rewardkit.training.loop")] > LAYERS[unit_of("rewardkit.data.load")]


def test_cli_is_dispatch_only() -> None:
    """cli.py reads the command table, builds the parser and maps errors; the rest is commands'."""
    ours = {m for m in imports(PACKAGE / "cli.py") if m.split(".")[0] == "rewardkit"}
    assert ours <= {"rewardkit", "rewardkit.commands", "rewardkit.config", "rewardkit.data.issues"}


def test_the_command_table_imports_nothing() -> None:
    """COMMANDS names modules as strings, so `rewardkit --help` imports no command's module."""
    found = {m.split(".")[0] for m in imports(PACKAGE / "commands" / "__init__.py")}
    assert found <= {"__future__", "typing"}
