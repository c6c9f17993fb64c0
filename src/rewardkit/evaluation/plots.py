"""The report's figures, drawn with matplotlib and returned as standalone SVG text (text drawn as
paths: no fonts or files to fetch, so the HTML stays self-contained)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display here; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rewardkit.evaluation.run import SuiteResult

BASELINE_STYLE = {"linestyle": ":", "alpha": 0.8}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: it is inlined in HTML


def reliability_diagram(results: Sequence[SuiteResult]) -> str | None:
    if not any(r.calibration is not None and not r.baseline for r in results):
        return None
    figure, ax = plt.subplots(figsize=(5, 4.2))
    ax.plot([0.5, 1], [0.5, 1], color="grey", linewidth=1, label="perfect calibration")
    for r in results:
        if r.calibration is None or r.baseline:
            continue
        bins = r.calibration.bins
        ax.plot(
            [b.confidence for b in bins],
            [b.accuracy for b in bins],
            marker="o",
            label=f"{r.scorer} (ECE {r.calibration.ece:.3f})",
        )
    ax.set(
        xlabel="confidence: sigmoid(|r_chosen - r_rejected|)",
        ylabel="observed accuracy",
        xlim=(0.5, 1),
        ylim=(0, 1.02),
        title="Reliability",
    )
    ax.legend(fontsize=7)
    return _svg(figure)


def score_histograms(results: Sequence[SuiteResult]) -> str | None:
    shown = [r for r in results if r.distributions is not None and not r.baseline]
    if not shown:
        return None
    figure, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.2), squeeze=False)
    for ax, r in zip(axes[0], shown, strict=False):
        assert r.distributions is not None
        edges = np.array(r.distributions.histogram_edges)
        width = edges[1] - edges[0]
        sides = (
            ("chosen", r.distributions.chosen_counts),
            ("rejected", r.distributions.rejected_counts),
        )
        for label, counts in sides:
            ax.bar(edges[:-1], counts, width, align="edge", alpha=0.55, label=label)
        ax.set(title=r.scorer, xlabel="raw reward", ylabel="responses")
        ax.legend(fontsize=7)
    return _svg(figure)


def accuracy_by_length(results: Sequence[SuiteResult]) -> str | None:
    if all(r.length is None for r in results):
        return None
    figure, ax = plt.subplots(figsize=(6, 4))
    for r in results:
        if r.length is None:
            continue
        buckets = r.length.buckets
        centers = [(b.low + b.high) / 2 for b in buckets]
        style = BASELINE_STYLE if r.baseline else {"marker": "o"}
        ax.plot(centers, [b.accuracy for b in buckets], label=r.scorer, **style)
    ax.axhline(0.5, color="grey", linewidth=0.8)
    ax.set(
        xlabel="(len chosen - len rejected) / longer  (characters)",
        ylabel="pairwise accuracy",
        ylim=(-0.02, 1.02),
        title="Accuracy by length difference",
    )
    ax.legend(fontsize=7)
    return _svg(figure)


def section_bars(results: Sequence[SuiteResult]) -> str | None:
    sections = list(dict.fromkeys(s for r in results for s in r.sections))
    figure, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(sections) * max(len(results), 1) / 2), 4))
    width = 0.8 / max(len(results), 1)
    x = np.arange(len(sections))
    for i, r in enumerate(results):
        values = [r.sections[s].value if s in r.sections else np.nan for s in sections]
        low = [
            v - r.sections[s].low if s in r.sections else 0
            for s, v in zip(sections, values, strict=True)
        ]
        high = [
            r.sections[s].high - v if s in r.sections else 0
            for s, v in zip(sections, values, strict=True)
        ]
        ax.bar(
            x + i * width,
            values,
            width,
            yerr=[low, high],
            capsize=2,
            label=r.scorer,
            hatch="//" if r.baseline else None,
            alpha=0.5 if r.baseline else 0.9,
        )
    ax.set_xticks(x + width * (len(results) - 1) / 2, sections, rotation=20, ha="right")
    ax.set(ylabel="accuracy (95% interval)", ylim=(0, 1.05), title="Sections")
    ax.axhline(0.5, color="grey", linewidth=0.8)
    ax.legend(fontsize=7)
    return _svg(figure)


def objective_correlations(results: Sequence[SuiteResult]) -> str | None:
    """A heatmap per scorer with named outputs: Pearson's r between its outputs, its score and
    response length."""
    named = [r for r in results if r.objectives is not None]
    if not named:
        return None
    figure, axes = plt.subplots(1, len(named), figsize=(5.2 * len(named), 4.4), squeeze=False)
    for ax, r in zip(axes[0], named, strict=True):
        assert r.objectives is not None
        names = list(r.objectives.correlation)
        grid = np.array([[r.objectives.correlation[a][b] for b in names] for a in names])
        image = ax.imshow(grid, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, "" if np.isnan(value) else f"{value:.2f}", ha="center", fontsize=6)
        ax.set_title(f"{r.scorer}: correlations", fontsize=9)
        figure.colorbar(image, ax=ax, shrink=0.8)
    return _svg(figure)


def model_against_votes(results: Sequence[SuiteResult]) -> str | None:
    """Per bin of the model's P(chosen): the votes' share for chosen (solid) and the label
    model's aggregated P(chosen) (dashed); a model that matches the annotators sits on the
    diagonal."""
    shown = [(r.scorer, r.panel) for r in results if r.panel is not None]
    if not shown:
        return None
    figure, ax = plt.subplots(figsize=(5, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", linewidth=1)
    for scorer, panel in shown:
        x = [b.model_p for b in panel.model_vs_votes]
        line = ax.plot(x, [b.vote_share for b in panel.model_vs_votes], "o-", label=scorer)
        ax.plot(
            x,
            [b.label_p for b in panel.model_vs_votes],
            "s--",
            color=line[0].get_color(),
            label=f"{panel.label_model} P(chosen)",
        )
    ax.set(
        xlabel="model P(chosen)", ylabel="annotators' P(chosen)", xlim=(0, 1), ylim=(0, 1.02),
        title="Model against the votes",
    )  # fmt: skip
    ax.legend(fontsize=7)
    return _svg(figure)


PLOTS = {
    "sections": section_bars,
    "reliability": reliability_diagram,
    "votes": model_against_votes,
    "length": accuracy_by_length,
    "scores": score_histograms,
    "objectives": objective_correlations,
}
"""Each figure of a suite's section in the report, in order; None where a suite has nothing to
draw (a best-of-K suite has no pairs to calibrate)."""
