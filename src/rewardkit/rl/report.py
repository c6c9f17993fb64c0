"""What RL runs show: gold and proxy reward against sqrt(KL) (as Gao et al. 2022 plot them), the
gold peak and where it falls, and mitigations compared over seeds.

    rows = read_log(Path("runs/rl/log.jsonl"))
    summary = summarize(rows)                       # start, peak and end gold; KL at the peak
    write_report(Path("runs/rl"), {"no mitigation": [rows]})   # report.md + rl.png

A gold curve is noisy (64 samples a log), so the peak is read on a centred moving average of
three logs; the end is the mean of the last two logs. Intervals over seeds are Student-t 95%
intervals of the mean (with 3 seeds: mean +- 4.30 sd / sqrt 3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Rows = list[dict[str, Any]]
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}
"""Student-t 0.975 quantiles by degrees of freedom (1.96 beyond)."""


def read_log(path: Path) -> Rows:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def smooth(values: Sequence[float], width: int = 3) -> np.ndarray:
    """Centred moving average; the ends average what they have."""
    array = np.asarray(values, dtype=np.float64)
    half = width // 2
    return np.array(
        [array[max(0, i - half) : i + half + 1].mean() for i in range(len(array))], dtype=np.float64
    )


@dataclass(frozen=True)
class RunSummary:
    start_gold: float
    peak_gold: float
    peak_step: int
    peak_kl: float
    end_gold: float
    end_proxy: float
    end_kl: float
    steps: int

    @property
    def fall(self) -> float:
        """How far the gold reward fell from its peak by the end (0: it did not)."""
        return self.peak_gold - self.end_gold


def summarize(rows: Rows) -> RunSummary:
    if not rows:
        raise ValueError("an RL log with no rows")
    gold = smooth([r["gold"] for r in rows])
    peak = int(np.argmax(gold))
    tail = rows[-2:]
    return RunSummary(
        start_gold=float(rows[0]["gold"]),
        peak_gold=float(gold[peak]),
        peak_step=int(rows[peak]["step"]),
        peak_kl=float(rows[peak]["kl"]),
        end_gold=float(np.mean([r["gold"] for r in tail])),
        end_proxy=float(np.mean([r["proxy"] for r in tail])),
        end_kl=float(np.mean([r["kl"] for r in tail])),
        steps=int(rows[-1]["step"]),
    )


def interval(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of the 95% t-interval); half-width 0 for one value."""
    array = np.asarray(values, dtype=np.float64)
    if array.size < 2:
        return float(array.mean()), 0.0
    t = T975.get(array.size - 1, 1.96)
    return float(array.mean()), float(t * array.std(ddof=1) / math.sqrt(array.size))


def _cell(values: Sequence[float]) -> str:
    mean, half = interval(values)
    return f"{mean:.2f} ± {half:.2f}" if len(values) > 1 else f"{mean:.2f}"


def comparison_table(runs: dict[str, list[Rows]]) -> list[str]:
    """Markdown rows: per variant, gold at the start, the peak and the end, sqrt(KL) at the
    peak and the end, and the proxy at the end, each as mean ± 95% interval over seeds."""
    lines = [
        "| run | seeds | gold at start | gold at peak | √KL at peak | gold at end | √KL at end "
        "| fall from peak | proxy at end |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, seeds in runs.items():
        s = [summarize(rows) for rows in seeds]
        cells = [
            [x.start_gold for x in s],
            [x.peak_gold for x in s],
            [math.sqrt(max(x.peak_kl, 0.0)) for x in s],
            [x.end_gold for x in s],
            [math.sqrt(max(x.end_kl, 0.0)) for x in s],
            [x.fall for x in s],
            [x.end_proxy for x in s],
        ]
        lines.append(f"| {name} | {len(s)} | " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def curves_figure(runs: dict[str, list[Rows]], path: Path) -> Path:
    """Four panels: gold and proxy against sqrt(KL), length and the proxy's warning signs
    (ensemble spread, OOD score) against steps; one colour a run, one line a seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [
        (axes[0][0], "sqrt_kl", "gold", "√KL to the starting policy (nats)", "gold reward"),
        (axes[0][1], "sqrt_kl", "proxy", "√KL to the starting policy (nats)", "proxy reward"),
        (axes[1][0], "step", "words", "step", "response length (words)"),
        (axes[1][1], "step", "warning", "step", "ensemble spread / OOD score"),
    ]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, seeds) in enumerate(runs.items()):
        colour = colours[k % len(colours)]
        for s, rows in enumerate(seeds):
            for axis, x_key, y_key, _, _ in panels:
                y_name = _warning_key(rows) if y_key == "warning" else y_key
                if y_name is None:
                    continue
                x = [r[x_key] for r in rows]
                y = (
                    smooth([r[y_name] for r in rows])
                    if y_key == "gold"
                    else [r[y_name] for r in rows]
                )
                axis.plot(x, y, color=colour, alpha=0.8, label=name if s == 0 else None)
    for axis, _, _, x_label, y_label in panels:
        axis.set_xlabel(x_label)
        axis.set_ylabel(y_label)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _warning_key(rows: Rows) -> str | None:
    for key in ("spread", "ood"):
        if rows and rows[0].get(key) is not None:
            return key
    return None


def write_report(directory: Path, runs: dict[str, list[Rows]], title: str = "RL run") -> Path:
    """report.md and rl.png in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    figure = curves_figure(runs, directory / "rl.png")
    lines = [
        f"# {title}",
        "",
        f"![gold and proxy reward against √KL]({figure.name})",
        "",
        *comparison_table(runs),
        "",
        "Gold at the peak is read on a moving average of three logs; the end is the mean of the "
        "last two logs; ± is a 95% t-interval over seeds.",
    ]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
