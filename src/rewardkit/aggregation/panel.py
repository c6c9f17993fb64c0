"""The annotator panel beside a reward model, for the evaluation report: how much the
annotators agree, each one's reliability and biases, and how the model's P(chosen) compares with
the votes and with the label model's aggregated P(chosen), binned by the model's probability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rewardkit.aggregation.agreement import Statistic, agreement_statistics
from rewardkit.aggregation.annotators import AnnotatorReport, annotator_reports
from rewardkit.aggregation.majority import vote_shares
from rewardkit.aggregation.registry import fit_label_model
from rewardkit.aggregation.table import Floats, chosen_is_longer, from_pairs, p_chosen
from rewardkit.records import Pair


@dataclass(frozen=True)
class VoteBin:
    model_p: float
    """Mean P(chosen) of the reward model in the bin."""
    vote_share: float
    """Mean share of votes for chosen (a tie counting one half)."""
    label_p: float
    """Mean P(chosen) of the label model."""
    pairs: int


@dataclass(frozen=True)
class PanelSection:
    label_model: str
    agreement: dict[str, Statistic]
    annotators: list[AnnotatorReport]
    model_vs_votes: list[VoteBin]


@dataclass(frozen=True)
class VotedPanel:
    """What the votes alone say (fitted once per suite, whatever the models)."""

    label_model: str
    agreement: dict[str, Statistic]
    annotators: list[AnnotatorReport]
    shares: Floats
    """Per pair, the share of votes for chosen."""
    labels: Floats
    """Per pair, the label model's P(chosen)."""


def voted_panel(
    pairs: Sequence[Pair],
    label_model: str = "dawid_skene_sided",
    resamples: int = 200,
    seed: int = 0,
) -> VotedPanel:
    """``pairs`` all carry votes."""
    table = from_pairs(pairs)
    proba = fit_label_model(label_model, table).predict_proba(table)
    return VotedPanel(
        label_model,
        agreement_statistics(table, resamples, seed),
        annotator_reports(table, proba, chosen_is_longer(pairs), resamples, seed),
        p_chosen(vote_shares(table)),
        p_chosen(proba),
    )


def model_against_votes(panel: VotedPanel, model_p: Floats, bins: int = 5) -> PanelSection:
    """The panel beside one model: ``model_p`` is its P(chosen) for each of the panel's pairs."""
    which = np.minimum((np.asarray(model_p) * bins).astype(int), bins - 1)
    model_vs_votes = [
        VoteBin(
            float(model_p[which == b].mean()),
            float(panel.shares[which == b].mean()),
            float(panel.labels[which == b].mean()),
            int((which == b).sum()),
        )
        for b in range(bins)
        if (which == b).any()
    ]
    return PanelSection(panel.label_model, panel.agreement, panel.annotators, model_vs_votes)


def panel_section(
    pairs: Sequence[Pair],
    model_p: Floats,
    label_model: str = "dawid_skene_sided",
    bins: int = 5,
    resamples: int = 200,
    seed: int = 0,
) -> PanelSection:
    """``pairs`` all carry votes; ``model_p`` is the reward model's P(chosen) for each."""
    return model_against_votes(voted_panel(pairs, label_model, resamples, seed), model_p, bins)
