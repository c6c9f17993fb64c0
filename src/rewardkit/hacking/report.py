"""`audit.json` and a self-contained `report.html` (figures inline as SVG, a Content-Security-Policy
that forbids every fetch) from the probes and the out-of-distribution check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardkit import __version__
from rewardkit.data.writers import atomic_path
from rewardkit.hacking.ood import Separation
from rewardkit.hacking.plots import deltas_figure, ood_figure, padding_figure
from rewardkit.hacking.probes import ProbeResult


@dataclass(frozen=True)
class OodCheck:
    separation: Separation
    inside: str
    """The in-distribution source's name (files)."""
    outside: str
    quantile: float
    saved: str | None
    """Where the detector was saved (beside the model), if it was."""


def probe_rows(results: Sequence[ProbeResult]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        gold = r.mean_gold_delta
        rows.append(
            {
                "probe": r.name,
                "items": int(r.deltas.size),
                "mean score change": round(r.mean_delta, 4),
                "share raised": round(r.raised, 4),
                "mean gold change": None if gold is None else round(gold, 4),
            }
        )
    return rows


def ood_summary(check: OodCheck) -> dict[str, Any]:
    s = check.separation
    return {
        "in-distribution": check.inside,
        "other source": check.outside,
        "held-out items": int(s.inside.size),
        "other items": int(s.outside.size),
        "AUROC": round(s.auroc, 4),
        f"false alarms (score > 1, calibrated at q={check.quantile:g})": round(s.false_alarms, 4),
        "other source detected (score > 1)": round(s.detected, 4),
        "detector saved to": check.saved,
    }


def write_audit(
    model: str, results: Sequence[ProbeResult], check: OodCheck | None, directory: Path
) -> Path:
    """Writes audit.json and report.html into ``directory``; returns the report's path."""
    import jinja2

    directory.mkdir(parents=True, exist_ok=True)
    rows = probe_rows(results)
    ood = None if check is None else ood_summary(check)
    (directory / "audit.json").write_text(
        json.dumps({"model": model, "probes": rows, "ood": ood}, indent=1)
    )
    figures = {"padding": padding_figure(results), "probes": deltas_figure(results)}
    if check is not None:
        names = (check.inside, check.outside)
        figures["ood"] = ood_figure(check.separation.inside, check.separation.outside, names)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rewardkit.hacking", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    html = environment.get_template("audit.html.j2").render(
        model=model, rows=rows, ood=ood, figures=figures, version=__version__
    )
    path = directory / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(html)
    return path
