from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rewardkit.data import compute_stats, is_eval, read_records
from rewardkit.data.stats import AgreementTally
from rewardkit.records import Pair, Vote
from rewardkit.synthetic import generate_pairs

WriteJsonl = Callable[..., Path]


def test_agreement_hand_computed() -> None:
    tally = AgreementTally()
    tally.add(["chosen", "chosen", "chosen"])  # agreement 1
    tally.add(["chosen", "rejected", "tie"])  # agreement 0
    tally.add(["chosen", "chosen", "rejected"])  # agreement 1/3
    # observed = 4/9; categories: chosen 6, rejected 2, tie 1 of 9
    # side-symmetric chance: 2 * (4/9)^2 + (1/9)^2 = 33/81
    summary = tally.summary()
    assert summary["pairwise_agreement"] == pytest.approx(4 / 9, abs=1e-4)
    expected = 33 / 81
    assert summary["fleiss_kappa"] == pytest.approx((4 / 9 - expected) / (1 - expected), abs=1e-4)


def test_stats_counts_lengths_ties_and_annotators() -> None:
    pairs = [
        Pair("ab", "xxxx", "y", votes=(Vote("w1", "chosen"), Vote("w2", "tie"))),
        Pair("abc", "x", "yy", votes=(Vote("w1", "chosen"), Vote("w2", "rejected"))),
        Pair("a", "xx", "yy"),
    ]
    stats = compute_stats(pairs).to_dict()
    assert stats["kinds"] == {"pair": 3}
    assert stats["lengths"]["chosen"]["max"] == 4 and stats["lengths"]["prompt"]["p50"] == 2
    assert stats["pairs"]["chosen_longer"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["pairs"]["ties"] == 1  # the second pair: one vote each way
    assert stats["annotators"]["distinct"] == 2
    assert stats["annotators"]["votes_per_item"] == {2: 2}


def test_split_keeps_each_prompt_on_one_side(tmp_path: Path) -> None:
    pairs = list(generate_pairs(600, seed=3))
    held = [p for p in pairs if is_eval(p, 0.2, seed=1)]
    train = [p for p in pairs if not is_eval(p, 0.2, seed=1)]
    assert {p.prompt for p in held}.isdisjoint({p.prompt for p in train})
    assert 0.05 < len(held) / len(pairs) < 0.45
    assert [p for p in pairs if is_eval(p, 0.2, seed=2)] != held


def test_stats_reads_its_own_synthetic_output(tmp_path: Path) -> None:
    from rewardkit.data import write_records

    path = tmp_path / "synth.jsonl.gz"
    write_records(generate_pairs(300, seed=0), path)
    stats = compute_stats(read_records(path, on_error="skip")).to_dict()
    assert stats["records"] == 300
    assert stats["annotators"]["votes_per_item"] == {3: 300}
