"""Annotator label models and agreement statistics (layer 1: numpy only).

    from rewardkit.aggregation import from_pairs, make_aggregator, p_chosen
    table = from_pairs(pairs)                        # long (task, annotator, label) table
    model = make_aggregator("dawid_skene").fit(table)
    p = p_chosen(model.predict_proba(table))         # P(chosen), a tie counting one half

``AGGREGATORS`` names the label models; ``agreement_statistics`` and ``annotator_reports``
describe the annotators; ``labelled_pairs`` writes the result back into pairs for training.
"""

from rewardkit.aggregation.agreement import (
    AGREEMENT_STATISTICS,
    Statistic,
    agreement_statistics,
    bootstrap_interval,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    mean_cohen_kappa,
    raw_agreement,
)
from rewardkit.aggregation.annotators import AnnotatorReport, annotator_reports
from rewardkit.aggregation.base import LabelModel
from rewardkit.aggregation.counts import VOTE_SOURCES, oasst_votes
from rewardkit.aggregation.dawid_skene import DawidSkene
from rewardkit.aggregation.glad import GLAD
from rewardkit.aggregation.labels import DropRules, labelled_pairs
from rewardkit.aggregation.mace import MACE
from rewardkit.aggregation.majority import MajorityVote, vote_shares
from rewardkit.aggregation.pairwise_bt import AnnotatorBT
from rewardkit.aggregation.panel import PanelSection, VoteBin, panel_section
from rewardkit.aggregation.registry import AGGREGATORS, fit_label_model, make_aggregator
from rewardkit.aggregation.table import (
    LABELS,
    VoteTable,
    chosen_is_longer,
    from_pairs,
    from_rows,
    p_chosen,
)

__all__ = [
    "AGGREGATORS",
    "AGREEMENT_STATISTICS",
    "GLAD",
    "LABELS",
    "MACE",
    "VOTE_SOURCES",
    "AnnotatorBT",
    "AnnotatorReport",
    "DawidSkene",
    "DropRules",
    "LabelModel",
    "MajorityVote",
    "PanelSection",
    "Statistic",
    "VoteBin",
    "VoteTable",
    "agreement_statistics",
    "annotator_reports",
    "bootstrap_interval",
    "chosen_is_longer",
    "cohen_kappa",
    "fit_label_model",
    "fleiss_kappa",
    "from_pairs",
    "from_rows",
    "krippendorff_alpha",
    "labelled_pairs",
    "make_aggregator",
    "mean_cohen_kappa",
    "oasst_votes",
    "p_chosen",
    "panel_section",
    "raw_agreement",
    "vote_shares",
]
