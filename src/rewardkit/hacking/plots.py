"""Figures of the lab and of the audit (matplotlib): gold and proxy against KL, probe effects and
out-of-distribution distances. Returned as standalone SVG text for the HTML report (text drawn as
paths, so the page fetches nothing), or saved as PNG for benchmarks."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rewardkit.hacking.best_of_n import GaoFit
from rewardkit.hacking.lab import Curve
from rewardkit.hacking.probes import ProbeResult


def svg(figure: Figure) -> str:
    buffer = io.StringIO()
    plt.rcParams["svg.fonttype"] = "path"
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inlined in HTML: no XML prolog or DOCTYPE


def save_png(figure: Figure, path: Path) -> None:
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def curves_figure(curves: Sequence[Curve], fits: Mapping[str, GaoFit], path: Path) -> None:
    """Gold (left) and the optimised proxy's own score (right) of best-of-n against KL, with Gao
    et al.'s fitted form dashed where a curve has one."""
    figure, (gold_ax, proxy_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for curve in curves:
        (line,) = gold_ax.plot(curve.kl, curve.gold, marker="o", markersize=3, label=curve.name)
        proxy_ax.plot(curve.kl, curve.proxy, marker="o", markersize=3, label=curve.name)
        if curve.name in fits:
            fit = fits[curve.name]
            grid = np.linspace(0, curve.kl.max(), 100)
            gold_ax.plot(grid, curve.gold[0] + fit.predict(grid), linestyle="--",
                         color=line.get_color(), alpha=0.7,
                         label=f"Gao fit (R² {fit.r2:.2f})")  # fmt: skip
    gold_ax.set(xlabel="KL = log n - (n-1)/n (nats)", ylabel="gold reward of best-of-n",
                title="Gold reward")  # fmt: skip
    proxy_ax.set(xlabel="KL (nats)", ylabel="proxy score of best-of-n (own scale)",
                 title="Optimised proxy")  # fmt: skip
    gold_ax.legend(fontsize=7)
    save_png(figure, path)


def padding_figure(results: Sequence[ProbeResult]) -> str:
    """Mean score change against sentences of padding, with the share of items raised."""
    padded = sorted((r for r in results if r.padding), key=lambda r: r.padding)
    figure, ax = plt.subplots(figsize=(5.5, 3.8))
    sizes = [r.padding for r in padded]
    ax.plot(sizes, [r.mean_delta for r in padded], marker="o", label="mean score change")
    ax.plot(sizes, [r.raised for r in padded], marker="s", label="share of items raised")
    ax.axhline(0, color="grey", linewidth=1)
    ax.set(xlabel="sentences of padding appended", ylabel="normalised score change / share",
           title="Length exploitation")  # fmt: skip
    ax.legend(fontsize=8)
    return svg(figure)


def deltas_figure(results: Sequence[ProbeResult]) -> str:
    """The distribution of each probe's score change (normalised units)."""
    figure, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.boxplot([r.deltas for r in results], orientation="horizontal")
    ax.set_yticks(range(1, len(results) + 1), [r.name for r in results], fontsize=8)
    ax.axvline(0, color="grey", linewidth=1)
    ax.set(xlabel="score(edited) - score(original), normalised", title="Probe effects")
    return svg(figure)


def ood_figure(inside: np.ndarray, outside: np.ndarray, names: tuple[str, str]) -> str:
    """OOD scores of held-out in-distribution responses against another source's."""
    figure, ax = plt.subplots(figsize=(5.5, 3.8))
    bins = np.linspace(0, max(float(inside.max()), float(outside.max())) * 1.05, 40).tolist()
    ax.hist(inside, bins=bins, alpha=0.6, label=names[0])
    ax.hist(outside, bins=bins, alpha=0.6, label=names[1])
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="threshold (score 1)")
    ax.set(xlabel="OOD score (distance / held-out threshold)", ylabel="responses",
           title="Out-of-distribution score")  # fmt: skip
    ax.legend(fontsize=8)
    return svg(figure)
