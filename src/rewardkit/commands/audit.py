"""`rewardkit audit`: probe a reward model for hackable behaviour and, given data, fit and check
its out-of-distribution score; writes audit.json and report.html (with plots) to --output_dir.

Probes (``hacking.probes``): padding with 1-8 empty sentences, a flattering opener, the same
sentences as a markdown list; each reported as the change in normalised score. Items come from
--data, or from the synthetic world when none is given (then the gold change is known too).

With --ood_train (responses of the model's own training distribution), a Mahalanobis detector on
the model's pooled features is fitted on part of them, calibrated on the rest and saved beside
the model as ood.safetensors, where `rewardkit serve` finds it and returns an ``ood`` score per
item. With --ood_other (another source), the report gives the AUROC that separates the two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from rewardkit.data.load import ReadOptions, RecordStream
from rewardkit.records import render_text
from rewardkit.scoring import BATCH_TOKENS


@dataclass
class AuditConfig(ReadOptions):
    model: str = ""
    """A model directory written by `rewardkit train`."""
    data: list[str] = field(default_factory=list)
    """Responses to probe (any format); the synthetic world's when absent."""
    items: int = 200
    """At most this many responses probed."""
    ood_train: list[str] = field(default_factory=list)
    """In-distribution responses (the model's training data): fit and calibrate the OOD score."""
    ood_other: list[str] = field(default_factory=list)
    """Responses of another source: the report gives the AUROC of in- against other-source."""
    ood_items: int = 600
    """At most this many in-distribution responses (1/2 fit, 1/4 calibrate, 1/4 tested against
    the other source) and as many of the other source."""
    ood_quantile: float = 0.95
    """The held-out in-distribution quantile that scores 1 (about 1 - q false alarms)."""
    save_ood: bool = True
    """Write the detector beside the model (ood.safetensors), for `rewardkit serve`."""
    output_dir: str = "audit"
    batch_tokens: int = BATCH_TOKENS
    """Padded tokens per forward pass."""
    seed: int = 0


Item = tuple[str, str]


def run(cfg: AuditConfig) -> int:
    if not cfg.model:
        raise ValueError("--model is required")
    if cfg.ood_other and not cfg.ood_train:
        raise ValueError("--ood_other needs --ood_train (the in-distribution responses)")
    from rewardkit.hacking.ood import fit_ood, separation
    from rewardkit.hacking.probes import run_probes
    from rewardkit.hacking.report import OodCheck, write_audit
    from rewardkit.models.reward_model import RewardModel

    model = RewardModel.load(cfg.model)
    rng = random.Random(cfg.seed)
    probed = _read(cfg, cfg.data, cfg.items, rng) if cfg.data else _synthetic(cfg.items, cfg.seed)
    scorer = model.as_scorer(cfg.batch_tokens, progress=True)
    results = run_probes(scorer, [p for p, _ in probed], [r for _, r in probed])
    check = None
    if cfg.ood_train:
        inside = _read(cfg, cfg.ood_train, cfg.ood_items, rng)
        # half fits, a quarter calibrates, a quarter (unseen by both) is tested against the other
        cut, test = len(inside) // 2, (3 * len(inside)) // 4
        detector = fit_ood(
            model, inside[:cut], inside[cut:test], cfg.ood_quantile, batch_tokens=cfg.batch_tokens
        )
        saved = str(detector.save(cfg.model)) if cfg.save_ood else None
        if cfg.ood_other:
            outside = _read(cfg, cfg.ood_other, cfg.ood_items, rng)
            split = separation(detector, model, inside[test:], outside, cfg.batch_tokens)
            check = OodCheck(
                split, _name(cfg.ood_train), _name(cfg.ood_other), cfg.ood_quantile, saved
            )
        if saved:
            print(f"OOD detector fitted on {cut} responses, calibrated on {test - cut} -> {saved}")
    report = write_audit(cfg.model, results, check, Path(cfg.output_dir))
    for r in results:
        print(
            f"{r.name:32s} mean change {r.mean_delta:+.3f}, raised {100 * r.raised:.0f}% of {r.deltas.size}"
        )
    if check is not None:
        s = check.separation
        print(f"OOD AUROC {s.auroc:.3f} ({check.inside} vs {check.outside}); false alarms "
              f"{100 * s.false_alarms:.1f}%, detected {100 * s.detected:.1f}%")  # fmt: skip
    print(f"report -> {report}")
    return 0


def _read(cfg: AuditConfig, paths: list[str], limit: int, rng: random.Random) -> list[Item]:
    """Every response in the files (both sides of pairs), shuffled, at most ``limit``."""
    from rewardkit.commands.score import record_slots

    records = list(RecordStream(paths, cfg.read_options()))
    items = [
        (render_text(prompt), render_text(response))
        for i, record in enumerate(records)
        for _, _, prompt, response in record_slots(i, record, "\n")
    ]
    if not items:
        raise ValueError(f"no responses in {', '.join(paths)}")
    rng.shuffle(items)
    return items[:limit]


def _synthetic(limit: int, seed: int) -> list[Item]:
    from rewardkit.synthetic import generate_pairs

    pairs = generate_pairs((limit + 1) // 2, seed=seed)
    items = [(str(p.prompt), str(text)) for p in pairs for text in (p.chosen, p.rejected)]
    return items[:limit]


def _name(paths: list[str]) -> str:
    return ", ".join(Path(p).name for p in paths)
