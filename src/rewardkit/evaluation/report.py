"""`metrics.json`, `report.md` and a self-contained `report.html` from evaluation results.

The HTML carries its figures inline as SVG and a Content-Security-Policy that forbids every
fetch, so it opens offline, can be mailed as one file, and never calls home.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rewardkit import __version__
from rewardkit.aggregation import Statistic
from rewardkit.data.writers import atomic_path
from rewardkit.evaluation.process import process_rows
from rewardkit.evaluation.run import Estimate, SuiteResult
from rewardkit.records import json_safe


def _number(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def interval(e: Estimate | Statistic | None) -> str:
    if e is None:
        return "n/a"
    return f"{_number(e.value)} [{_number(e.low)}, {_number(e.high)}]"


def write_metrics(results: Sequence[SuiteResult], config: dict[str, Any], path: Path) -> None:
    summaries = []
    for r in results:
        summary = asdict(r)
        del summary["per_item"]
        summaries.append(json_safe(summary))
    doc = {"rewardkit_version": __version__, "config": config, "results": summaries}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, allow_nan=False))


def write_item_scores(results: Sequence[SuiteResult], path: Path) -> None:
    """One row per (scorer, suite, item): raw scores, temperature-calibrated scores, credit."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for r in results:
            if r.baseline:
                continue
            t = r.calibration.temperature if r.calibration else math.nan
            for i, item in enumerate(r.per_item):
                calibrated = [
                    None if s is None or not math.isfinite(t) else s / t for s in item.scores
                ]
                row = {
                    "scorer": r.scorer,
                    "suite": r.suite,
                    "item": i,
                    "subset": item.subset,
                    "scores": item.scores,
                    "calibrated": calibrated,
                    "credit": item.credit,
                }
                out.write(json.dumps(row) + "\n")


def by_suite(results: Sequence[SuiteResult]) -> dict[str, list[SuiteResult]]:
    grouped: dict[str, list[SuiteResult]] = {}
    for r in results:
        grouped.setdefault(r.suite, []).append(r)
    return grouped


def headline_rows(results: Sequence[SuiteResult]) -> list[dict[str, str]]:
    """One row per scorer: the numbers of the model-vs-model table, as text."""
    rows = []
    for r in results:
        length = r.length
        cal = r.calibration
        rows.append(
            {
                "scorer": r.scorer + (" (baseline)" if r.baseline else ""),
                "items": str(r.items),
                "accuracy": interval(r.accuracy),
                "score": interval(r.score),
                "leaderboard": interval(r.leaderboard_score) if r.leaderboard_score else "",
                "length-controlled": interval(
                    Estimate(length.split.controlled, *length.controlled_interval)
                    if length
                    else None
                ),
                "reward~length (Spearman)": _number(length.spearman if length else None),
                "ECE": _number(cal.ece if cal else None),
                "temperature": _number(cal.temperature if cal else None, 2),
                "agreement (majority)": _number(
                    r.agreement.majority_accuracy if r.agreement else None
                ),
                "unscored": str(r.unscored),
                "over length": str(r.too_long),
                "prompt cut": str(r.truncated),
                "responses/s": _number(r.responses_per_s, 1),
            }
        )
    return rows


def _without_empty_columns(rows: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    keys = [k for k in rows[0] if any(row[k] for row in rows)] if rows else []
    return [{k: row[k] for k in keys} for row in rows]


def _markdown_table(rows: Sequence[dict[str, str]]) -> list[str]:
    if not rows:
        return []
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(row[k] for k in keys) + " |" for row in rows]
    return lines


def section_rows(results: Sequence[SuiteResult]) -> tuple[list[str], list[dict[str, str]]]:
    sections = list(dict.fromkeys(s for r in results for s in r.sections))
    rows = [
        {"scorer": r.scorer, **{s: interval(r.sections.get(s)) for s in sections}} for r in results
    ]
    return sections, rows


def agreement_rows(results: Sequence[SuiteResult]) -> list[dict[str, str]]:
    rows = []
    for r in results:
        a = r.agreement
        if a is None:
            continue
        rows.append(
            {
                "scorer": r.scorer,
                "voted pairs": str(a.pairs),
                "votes (ties)": f"{a.votes} ({a.tie_votes})",
                "vs majority": _number(a.majority_accuracy),
                "vs each vote": _number(a.vote_accuracy),
                "ceiling": _number(a.vote_accuracy_ceiling),
                "vote log-lik.": _number(a.vote_log_likelihood),
                "log-lik. ceiling": _number(a.vote_log_likelihood_ceiling),
            }
        )
    return rows


def panel_tables(results: Sequence[SuiteResult]) -> dict[str, list[dict[str, str]]]:
    """The suite's annotator panel (its votes name their annotators): agreement, the annotator
    table, and per scorer its P(chosen) against the votes' share and the label model's P."""
    panels = [(r.scorer, r.panel) for r in results if r.panel is not None]
    if not panels:
        return {}
    first = panels[0][1]
    agreement = [
        {"statistic": name, "value [95% interval]": interval(s)}
        for name, s in first.agreement.items()
    ]
    annotators = [
        {
            "annotator": a.annotator,
            "votes": str(a.votes),
            "ties": _number(a.tie_rate),
            f"reliability ({first.label_model})": interval(a.reliability),
            "agrees with others": interval(a.agrees_with_others),
            "picks the longer": interval(a.prefers_longer),
            "picks the first shown": interval(a.prefers_first),
        }
        for a in first.annotators
    ]
    against = [
        {
            "scorer": scorer,
            "model P(chosen)": _number(b.model_p),
            "vote share": _number(b.vote_share),
            f"{first.label_model} P(chosen)": _number(b.label_p),
            "pairs": str(b.pairs),
        }
        for scorer, panel in panels
        for b in panel.model_vs_votes
    ]
    return {
        "Annotator agreement": agreement,
        "Annotators": annotators,
        "The model's P(chosen) against the votes": against,
    }


def objective_rows(results: Sequence[SuiteResult]) -> dict[str, list[dict[str, str]]]:
    """Per scorer with named outputs, one row per output (and the score): its pair accuracy and
    its correlation with each output, the score and response length."""
    tables = {}
    for r in results:
        if r.objectives is None:
            continue
        accuracy = {**r.objectives.accuracy, "score": r.accuracy.value}
        tables[r.scorer] = [
            {
                "output": name,
                "accuracy": _number(accuracy[name]),
                **{f"r: {k}": _number(v) for k, v in r.objectives.correlation[name].items()},
            }
            for name in accuracy
        ]
    return tables


def write_markdown(
    results: Sequence[SuiteResult],
    figures: dict[str, dict[str, str]],
    plots_dir: str,
    path: Path,
) -> None:
    lines = ["# Reward model evaluation", ""]
    lines += [
        "Accuracy counts ties as wrong; intervals are 95% percentile bootstrap over items, "
        "resampled within subsets. Length-controlled accuracy is the mean of the accuracy where "
        "the chosen response is longer and where it is shorter: a length heuristic scores 0.5.",
        "",
    ]
    for suite, group in by_suite(results).items():
        headline = _without_empty_columns(headline_rows(group))
        lines += [f"## Suite: {suite}", "", *_markdown_table(headline), ""]
        _, rows = section_rows(group)
        lines += ["### Sections", "", *_markdown_table(rows), ""]
        agreement = agreement_rows(group)
        if agreement:
            lines += ["### Agreement with annotators", "", *_markdown_table(agreement), ""]
        for title, table in panel_tables(group).items():
            lines += [f"### {title}", "", *_markdown_table(table), ""]
        for scorer, table in objective_rows(group).items():
            heading = f"### Objectives of {scorer}: pair accuracy and correlations"
            lines += [heading, "", *_markdown_table(table), ""]
        process = process_rows([(r.scorer, r.process) for r in group if r.process])
        if process:
            heading = "### Earliest error: F1 (accuracy on erroneous / correct solutions)"
            lines += [heading, "", *_markdown_table(process), ""]
        for name in figures[suite]:
            lines += [f"![{name}]({plots_dir}/{_slug(suite)}-{name}.svg)", ""]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def write_plots(results: Sequence[SuiteResult], directory: Path) -> dict[str, dict[str, str]]:
    """Every figure as SVG text by suite and name (where it has something to draw), also written
    to ``directory``."""
    from rewardkit.evaluation.plots import PLOTS

    directory.mkdir(parents=True, exist_ok=True)
    figures: dict[str, dict[str, str]] = {}
    for suite, group in by_suite(results).items():
        figures[suite] = {}
        for name, draw in PLOTS.items():
            svg = draw(group)
            if svg is not None:
                figures[suite][name] = svg
                (directory / f"{_slug(suite)}-{name}.svg").write_text(svg)
    return figures


def write_html(
    results: Sequence[SuiteResult], figures: dict[str, dict[str, str]], path: Path
) -> None:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rewardkit.evaluation", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    suites = []
    for suite, group in by_suite(results).items():
        sections, rows = section_rows(group)
        suites.append(
            {
                "name": suite,
                "headline": _without_empty_columns(headline_rows(group)),
                "sections": sections,
                "section_rows": rows,
                "agreement": agreement_rows(group),
                "panel": panel_tables(group),
                "objectives": objective_rows(group),
                "figures": figures[suite],
            }
        )
    html = environment.get_template("report.html.j2").render(suites=suites, version=__version__)
    with atomic_path(path) as tmp:
        tmp.write_text(html)
