"""Agreement statistics on a hand-worked table: three pairs, three annotators.

    pair   A        B        C
    t0     chosen   chosen   chosen
    t1     chosen   chosen   rejected
    t2     chosen   tie      rejected

Chance agreement is taken on the mirrored table (each pair also with its sides swapped), whose
18 votes are 8 chosen, 8 rejected and 2 ties.
"""

from __future__ import annotations

import numpy as np
import pytest

from rewardkit.aggregation import (
    agreement_statistics,
    annotator_reports,
    bootstrap_interval,
    cohen_kappa,
    fleiss_kappa,
    from_rows,
    krippendorff_alpha,
    mean_cohen_kappa,
    raw_agreement,
)
from rewardkit.aggregation.table import VoteTable

ROWS = [
    ("t0", "A", "chosen"), ("t0", "B", "chosen"), ("t0", "C", "chosen"),
    ("t1", "A", "chosen"), ("t1", "B", "chosen"), ("t1", "C", "rejected"),
    ("t2", "A", "chosen"), ("t2", "B", "tie"), ("t2", "C", "rejected"),
]  # fmt: skip


@pytest.fixture
def table() -> VoteTable:
    return from_rows(ROWS)[0]


def test_raw_agreement(table: VoteTable) -> None:
    # agreeing pairs of votes: t0 3 of 3, t1 1 of 3, t2 0 of 3 -> (1 + 1/3 + 0) / 3
    assert raw_agreement(table) == pytest.approx(4 / 9)


def test_fleiss_kappa(table: VoteTable) -> None:
    # P_e = (8/18)^2 + (8/18)^2 + (2/18)^2 = 132/324; kappa = (4/9 - P_e) / (1 - P_e) = 1/16
    assert fleiss_kappa(table) == pytest.approx(0.0625)


def test_cohen_kappa(table: VoteTable) -> None:
    # A: chosen x3; B: chosen, chosen, tie; mirrored A = C C C R R R, B = C C T R R T
    # p_o = 4/6; p_e = 1/2 * 2/6 (chosen) + 1/2 * 2/6 (rejected) = 1/3; kappa = (2/3 - 1/3) / (2/3)
    assert cohen_kappa(table, 0, 1) == pytest.approx(0.5)
    assert mean_cohen_kappa(table, min_overlap=3) == pytest.approx(
        np.mean([cohen_kappa(table, i, j) for i, j in ((0, 1), (0, 2), (1, 2))])
    )


def test_krippendorff_alpha(table: VoteTable) -> None:
    # coincidences (mirrored): o_cc = o_rr = 4, o_cr = 3, o_ct = o_rt = 1, o_tt = 0; n = 18
    # nominal: D_o = (2*3 + 2*1 + 2*1) / 18, D_e = (18^2 - 132) / (18 * 17)
    assert krippendorff_alpha(table) == pytest.approx(1 - (10 / 18) / (192 / 306))
    # interval (tie halfway): D_o = (2*3*1 + 4*1*0.25) / 18, D_e = (2*64 + 4*16*0.25) / 306
    assert krippendorff_alpha(table, "interval") == pytest.approx(1 - (7 / 18) / (144 / 306))


def test_perfect_agreement_is_one_and_single_votes_are_undefined() -> None:
    same, _ = from_rows([(t, a, "chosen") for t in "xyz" for a in "AB"])
    assert raw_agreement(same) == 1.0 and fleiss_kappa(same) == pytest.approx(1.0)
    assert krippendorff_alpha(same) == pytest.approx(1.0)
    single, _ = from_rows([("x", "A", "chosen"), ("y", "A", "rejected")])
    assert np.isnan(raw_agreement(single)) and np.isnan(krippendorff_alpha(single))


def test_bootstrap_interval_brackets_the_value() -> None:
    values = np.r_[np.ones(70), np.zeros(30)]
    low, high = bootstrap_interval(lambda i: float(values[i].mean()), values.size, 300)
    assert low < 0.7 < high and high - low < 0.25


def test_statistics_carry_intervals(table: VoteTable) -> None:
    stats = agreement_statistics(table, resamples=50)
    assert stats["raw_agreement"].value == pytest.approx(4 / 9)
    assert stats["raw_agreement"].low <= stats["raw_agreement"].value <= stats["raw_agreement"].high


def test_annotator_reports_by_hand(table: VoteTable) -> None:
    proba = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0.25, 0.25]])
    # chosen is longer on t0 and t1, shorter on t2
    reports = {r.annotator: r for r in annotator_reports(table, proba, np.array([1.0, 1.0, -1.0]))}
    a, b, c = reports["A"], reports["B"], reports["C"]
    # reliability: mean posterior of the label given; A: (1 + 0.5 + 0.5) / 3
    assert a.reliability.value == pytest.approx(2 / 3)
    assert c.reliability.value == pytest.approx((1 + 0.5 + 0.25) / 3)
    # others' strict majority: t0 A and B agree; t1 C's others say chosen; t2 no majority
    assert a.agrees_with_others.value == 1.0 and c.agrees_with_others.value == 0.5
    # the longer side: A picked chosen 3 times: longer on t0, t1, not t2
    assert a.prefers_longer.value == pytest.approx(2 / 3)
    # C: chosen on t0 (longer), rejected on t1 (shorter) and on t2 (longer)
    assert c.prefers_longer.value == pytest.approx(2 / 3)
    # B: chosen on t0 and t1 (longer); the tie on t2 has no side and is left out
    assert b.prefers_longer.value == pytest.approx(1.0)
    assert b.tie_rate == pytest.approx(1 / 3)
    assert np.isnan(a.prefers_first.value)  # positions unknown
