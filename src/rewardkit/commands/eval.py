"""`rewardkit eval`: one or several scorers on one or several suites, side by side.

Writes ``metrics.json`` (every number), ``scores.jsonl`` (every item's raw and calibrated
scores), ``report.md`` and a self-contained ``report.html`` with plots to ``--output``. The
baselines (always longer, always shorter, random) run on every suite. The config is
``rewardkit.evaluation.config.EvalConfig``; scorers (and torch) are imported only when it runs.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rewardkit.evaluation.config import EvalConfig

if TYPE_CHECKING:
    from rewardkit.evaluation.run import SuiteResult


def run(cfg: EvalConfig) -> int:
    evaluate(cfg)
    return 0


def evaluate(cfg: EvalConfig) -> list[SuiteResult]:
    """Every scorer on every suite, the reports written and the table printed."""
    from rewardkit.evaluation.run import evaluate_suite
    from rewardkit.evaluation.scorers import BASELINES, resolve_scorer
    from rewardkit.evaluation.suites import load_suite, name_apart

    if not cfg.models:
        raise ValueError("--models is required (a model directory, URL, module:function, ...)")
    if not cfg.suites:
        raise ValueError("--suites is required (a suite YAML or a data file)")
    suites = [load_suite(s, cfg.read_options(), cfg.limit, cfg.subset_field) for s in cfg.suites]
    name_apart(suites, cfg.suites)
    specs = list(dict.fromkeys([*cfg.models, *(f"baseline:{b}" for b in BASELINES)]))
    results: list[SuiteResult] = []
    for spec in specs:
        scorer = resolve_scorer(spec, cfg.batch_tokens, cfg.max_length, overflow=cfg.overflow)
        for suite in suites:
            start = time.perf_counter()
            result = evaluate_suite(scorer, suite, cfg.resamples, cfg.seed)
            results.append(result)
            if not scorer.baseline:
                _print_timing(scorer.name, suite.name, result, time.perf_counter() - start)
    _write_reports(results, cfg)
    return results


def _print_timing(scorer: str, suite: str, result: SuiteResult, seconds: float) -> None:
    print(
        f"{scorer} on {suite}: {result.items} items, accuracy "
        f"{result.accuracy.value:.3f}; scoring {result.pairs + result.best_of_k} items "
        f"took {result.seconds:.1f}s ({result.pairs / max(result.seconds, 1e-9):.1f} pairs/s), "
        f"metrics {seconds - result.seconds:.1f}s"
    )


def _write_reports(results: list[SuiteResult], cfg: EvalConfig) -> None:
    from rewardkit.evaluation.report import (
        write_html,
        write_item_scores,
        write_markdown,
        write_metrics,
        write_plots,
    )

    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    write_metrics(results, asdict(cfg), out / "metrics.json")
    write_item_scores(results, out / "scores.jsonl")
    figures = write_plots(results, out / "plots")
    write_markdown(results, figures, "plots", out / "report.md")
    write_html(results, figures, out / "report.html")
    _print_table(results)
    print(f"wrote {out / 'metrics.json'}, {out / 'report.md'} and {out / 'report.html'}")


def _print_table(results: list[SuiteResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    from rewardkit.evaluation.report import by_suite, headline_rows

    for suite, group in by_suite(results).items():
        rows = headline_rows(group)
        keys = ["scorer", "accuracy", "score", "length-controlled", "ECE"]
        table = Table(title=f"suite {suite}")
        for key in keys:
            table.add_column(key)
        for row in rows:
            table.add_row(*(row[k] for k in keys))
        Console().print(table)
