"""Evaluation metrics: pure numpy functions over scores, outcomes, lengths and votes."""

from rewardkit.evaluation.metrics.accuracy import (
    Weighting,
    best_of_k_credit,
    overall_score,
    pairwise_correct,
    section_scores,
)
from rewardkit.evaluation.metrics.agreement import Agreement, agreement
from rewardkit.evaluation.metrics.arrays import Floats
from rewardkit.evaluation.metrics.bootstrap import percentile_interval, stratified_resamples
from rewardkit.evaluation.metrics.calibration import (
    ReliabilityBin,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    log_loss,
    preference_probability,
    reliability_bins,
    sigmoid,
)
from rewardkit.evaluation.metrics.distribution import Summary, shared_histogram, summarize
from rewardkit.evaluation.metrics.length import (
    LENGTH_DIFFERENCE_EDGES,
    LengthBucket,
    LengthSplit,
    accuracy_by_length_difference,
    length_split,
    pearson,
    spearman,
)
from rewardkit.evaluation.metrics.objectives import correlation_matrix, objective_accuracy

__all__ = [
    "LENGTH_DIFFERENCE_EDGES",
    "Agreement",
    "Floats",
    "LengthBucket",
    "LengthSplit",
    "ReliabilityBin",
    "Summary",
    "Weighting",
    "accuracy_by_length_difference",
    "agreement",
    "best_of_k_credit",
    "brier_score",
    "correlation_matrix",
    "expected_calibration_error",
    "fit_temperature",
    "length_split",
    "log_loss",
    "objective_accuracy",
    "overall_score",
    "pairwise_correct",
    "pearson",
    "percentile_interval",
    "preference_probability",
    "reliability_bins",
    "section_scores",
    "shared_histogram",
    "sigmoid",
    "spearman",
    "stratified_resamples",
    "summarize",
]
