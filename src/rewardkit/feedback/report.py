"""The agreement report on disk: ``agreement.json`` (every number), ``report.md`` (the table a
person reads) and ``agreement.png`` (position bias, and the judge beside each annotator)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display here; must precede pyplot
import matplotlib.pyplot as plt

from rewardkit.feedback.agreement import AgreementReport
from rewardkit.feedback.labeling import PairLabel

ROWS = (
    ("accuracy", "accuracy vs human labels (AI tie = 1/2)"),
    ("kappa", "Cohen's kappa vs human labels"),
    ("position_consistency", "position consistency (same side in both orders)"),
    ("ai_ties", "pairs the judge labels exactly 0.5"),
    ("length_controlled_accuracy", "length-controlled accuracy"),
    ("accuracy_human_chose_longer", "accuracy where humans chose the longer response"),
    ("accuracy_human_chose_shorter", "accuracy where humans chose the shorter response"),
    ("ai_prefers_longer", "AI prefers the longer response"),
    ("human_prefers_longer", "humans prefer the longer response"),
    ("majority_accuracy", "accuracy vs the annotators' majority (multi-annotator pairs)"),
    ("vote_accuracy", "share of individual votes matched"),
    ("vote_accuracy_ceiling", "ceiling on votes matched (the majority side's share)"),
)


def write_report(
    folder: Path, report: AgreementReport, labels: Sequence[PairLabel], run: Mapping[str, Any]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    numbers = {"agreement": report.to_dict(), "run": dict(run)}
    (folder / "agreement.json").write_text(json.dumps(numbers, indent=2) + "\n")
    (folder / "report.md").write_text(markdown(report, run))
    plot(report, labels, folder / "agreement.png")


def markdown(report: AgreementReport, run: Mapping[str, Any]) -> str:
    numbers = report.to_dict()
    lines = [
        f"# AI feedback: {run.get('judge')} with {run.get('constitution')}",
        "",
        f"{report.pairs} pairs ({report.decided_pairs} with a human preference), "
        f"{report.multi_annotator_pairs} with several annotators; "
        f"{report.unread_calls} calls without a readable answer.",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {label} | {_fmt(numbers[key])} |" for key, label in ROWS),
        *(f"| run: {key} | {_fmt(value)} |" for key, value in run.items()),
    ]
    if report.annotators:
        lines += [
            "",
            "| annotator | votes | judge agrees | judge kappa | annotator vs the others' majority |",
            "|---|---|---|---|---|",
            *(
                f"| {a.annotator} | {a.votes} | {_fmt(a.judge_agreement)} | "
                f"{_fmt(a.judge_kappa)} | {_fmt(a.others_agreement)} |"
                for a in report.annotators
            ),
        ]
    return "\n".join(lines) + "\n"


def plot(report: AgreementReport, labels: Sequence[PairLabel], path: Path) -> None:
    panels = 2 if report.annotators else 1
    figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2), squeeze=False)
    ax = axes[0, 0]
    ax.scatter(
        [lab.p_orders[0] for lab in labels], [lab.p_orders[1] for lab in labels], s=8, alpha=0.6
    )
    ax.plot([0, 1], [0, 1], color="grey", linewidth=1)
    ax.set(
        xlabel="P(chosen) with chosen shown as (A)",
        ylabel="P(chosen) with chosen shown as (B)",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"Position bias (consistent on {report.position_consistency:.0%})",
    )
    if report.annotators:
        ax = axes[0, 1]
        names = [a.annotator for a in report.annotators]
        x = range(len(names))
        ax.bar(
            [i - 0.2 for i in x],
            [a.judge_agreement for a in report.annotators],
            0.4,
            label="judge vs annotator",
        )
        ax.bar(
            [i + 0.2 for i in x],
            [a.others_agreement for a in report.annotators],
            0.4,
            label="annotator vs the others' majority",
        )
        ax.axhline(
            report.majority_accuracy, color="black", linestyle=":", label="judge vs majority"
        )
        ax.set_xticks(list(x), names, rotation=30, ha="right")
        ax.set(ylim=(0, 1), ylabel="agreement", title="Judge and annotators")
        ax.legend(fontsize=7, loc="lower right")
    figure.savefig(path, bbox_inches="tight", dpi=110)
    plt.close(figure)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
