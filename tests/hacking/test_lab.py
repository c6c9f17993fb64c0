"""The lab on a small pool with proxies written by hand: an oracle never over-optimises, a
length-loving proxy rises then falls, and a length penalty cuts the fall."""

from __future__ import annotations

import numpy as np
import pytest

from rewardkit.hacking.lab import (
    build_pool,
    compare_drops,
    length_penalized,
    length_slope,
    sweep,
)

NS = (1, 2, 4, 8, 16, 64, 256)


@pytest.fixture(scope="module")
def pool():  # type: ignore[no-untyped-def]
    return build_pool(prompts=6, samples=256, seed=0)


def test_pool_holds_distinct_items_and_every_sample(pool) -> None:  # type: ignore[no-untyped-def]
    assert len(pool.samples) == 6 and all(s.size == 256 for s in pool.samples)
    keys = list(zip(pool.prompts, pool.responses, strict=True))
    assert len(set(keys)) == len(keys)  # each distinct text once: scored once
    assert pool.gold.shape == pool.words.shape == (len(keys),)


def test_an_oracle_proxy_only_rises(pool) -> None:  # type: ignore[no-untyped-def]
    curve = sweep(pool, pool.gold, "oracle", NS)
    assert np.all(np.diff(curve.gold) >= -1e-9)
    assert curve.gold == pytest.approx(curve.proxy)
    assert curve.gold_drop == pytest.approx(0.0, abs=1e-9)


def test_a_length_loving_proxy_rises_then_falls_and_a_penalty_cuts_it(pool) -> None:  # type: ignore[no-untyped-def]
    hackable = pool.gold + 0.4 * pool.words  # a filler sentence: +2 to the proxy, -0.25 gold
    curve = sweep(pool, hackable, "length lover", NS)
    assert curve.gold.argmax() not in (0, len(NS) - 1)  # a peak inside: rise, then fall
    assert curve.gold_drop > 0.1
    weight = length_slope(hackable, pool.words)
    assert weight > 0
    fixed = sweep(pool, length_penalized(hackable, pool.words, 0.4), "penalised", NS)
    assert fixed.gold_drop == pytest.approx(0.0, abs=1e-9)  # the exact penalty is the oracle
    rows = compare_drops(curve, [fixed], kl_budget=1.0)
    assert [r.name for r in rows] == ["length lover", "penalised", "KL <= 1"]
    assert rows[1].drop_cut == pytest.approx(1.0)
    # the KL limit stops at n = 4 (KL 0.64); n = 8 has 1.20
    assert rows[2].gold_at_max_n == curve.gold_within(1.0) == curve.gold[2]
