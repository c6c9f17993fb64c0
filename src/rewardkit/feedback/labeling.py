"""Label pairs with a judge and a constitution: both orders, every chosen principle, every sample.

For each pair the judge sees the options twice, the pair's ``chosen`` as (A) and then as (B);
P(chosen) of each call is P(A) or 1 - P(A), and the soft label is their mean, which cancels a
judge's constant lean towards one position (its position bias). The pair is position-consistent
when both orders pick the same side. With a reasoning-first constitution the label is clamped to
[0.4, 0.6], as Constitutional AI does with chain-of-thought labels (their 0/1 letters are
overconfident). Every call goes through the cache first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from rewardkit.feedback.base import Judge, JudgeReply, JudgeRequest
from rewardkit.feedback.cache import CallCache, call_key
from rewardkit.feedback.constitution import Constitution, Principle, comparison_prompt
from rewardkit.records import Judgment, Pair, Verdict, render_text

ORDERS = ("chosen_first", "rejected_first")
CLAMP = (0.4, 0.6)


@dataclass(frozen=True)
class LabelSettings:
    principles_per_pair: int = 0
    """Principles sampled per pair (the same for the same pair and seed); 0: all, averaged."""
    samples: int = 1
    """Calls per order and principle, averaged (self-consistency; useful at temperature > 0)."""
    seed: int = 0


@dataclass(frozen=True)
class PairLabel:
    pair: Pair
    """The input pair, human labels and all."""
    key: str
    p_chosen: float
    """The soft label: the mean over orders, principles and samples (clamped when reasoning)."""
    p_orders: tuple[float, float]
    """Mean P(chosen) with chosen shown as (A), and with chosen shown as (B)."""
    unread: int
    """Calls whose answer could not be read (counted as 0.5)."""
    judgments: tuple[Judgment, ...]

    @property
    def consistent(self) -> bool:
        """Both orders pick the same side (a 0.5 is a side of its own: a tie)."""
        first, second = (_side(p) for p in self.p_orders)
        return first == second


@dataclass
class Spend:
    """What the calls cost so far: paid calls, cache hits and tokens."""

    calls: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    unread: int = 0
    seconds: float = 0.0
    """Judge time of the calls behind the labels, the cached ones included."""


@dataclass
class Labeller:
    judge: Judge
    constitution: Constitution
    cache: CallCache
    settings: LabelSettings = field(default_factory=LabelSettings)
    spend: Spend = field(default_factory=Spend)

    def requests(self, pair: Pair) -> list[tuple[str, str, Principle, JudgeRequest]]:
        """(cache key, order, principle, request) for every call a pair needs."""
        key = pair_key(pair)
        chosen = self.constitution.choose(
            key, self.settings.principles_per_pair, self.settings.seed
        )
        reason = self.constitution.reason_first
        out = []
        for principle in chosen:
            for order in ORDERS:
                first = order == ORDERS[0]
                a, b = (pair.chosen, pair.rejected) if first else (pair.rejected, pair.chosen)
                prompt = comparison_prompt(principle, pair.prompt, a, b, reason)
                for sample in range(self.settings.samples):
                    call = call_key(self.judge.name, prompt, order, principle.name, sample)
                    out.append((call, order, principle, JudgeRequest(prompt, reason, sample)))
        return out

    def pending(self, pairs: Sequence[Pair]) -> tuple[int, int, int]:
        """(calls to pay for, calls already cached, characters of the prompts to pay for)."""
        to_pay = cached = chars = 0
        for pair in pairs:
            for call, _, _, request in self.requests(pair):
                if self.cache.get(call) is None:
                    to_pay += 1
                    chars += len(request.prompt)
                else:
                    cached += 1
        return to_pay, cached, chars

    def label(self, pair: Pair) -> PairLabel:
        by_order: dict[str, list[float]] = {order: [] for order in ORDERS}
        by_principle: dict[str, list[float]] = {}
        texts: dict[str, str] = {}
        unread = 0
        for call, order, principle, request in self.requests(pair):
            reply = self._reply(call, request)
            p_a = 0.5 if reply.p_a is None else reply.p_a
            unread += reply.p_a is None
            p_chosen = p_a if order == ORDERS[0] else 1.0 - p_a
            by_order[order].append(p_chosen)
            by_principle.setdefault(principle.name, []).append(p_chosen)
            if reply.text and principle.name not in texts:
                texts[principle.name] = reply.text
        p_orders = (_mean(by_order[ORDERS[0]]), _mean(by_order[ORDERS[1]]))
        p = _mean(list(p_orders))
        if self.constitution.reason_first:
            p = min(max(p, CLAMP[0]), CLAMP[1])
        key = pair_key(pair)
        judgments = tuple(
            Judgment(
                key,
                self.judge.name,
                _side(_mean(ps)),
                round(_mean(ps), 6),
                texts.get(name),
                name,
            )
            for name, ps in by_principle.items()
        )
        self.spend.unread += unread
        return PairLabel(pair, key, p, p_orders, unread, judgments)

    def _reply(self, call: str, request: JudgeRequest) -> JudgeReply:
        reply = self.cache.get(call)
        if reply is not None:
            self.spend.cached += 1
            self.spend.seconds += reply.seconds
            return reply
        start = time.perf_counter()
        reply = dataclasses.replace(self.judge(request), seconds=time.perf_counter() - start)
        self.cache.put(call, reply)
        self.spend.seconds += reply.seconds
        self.spend.calls += 1
        self.spend.tokens_in += reply.tokens_in
        self.spend.tokens_out += reply.tokens_out
        return reply


def ai_pair(label: PairLabel, judge: str, constitution: str) -> Pair:
    """The pair as AI feedback: the soft label, no human votes (they would not count beside a
    soft label anyway), the human label and the judge's details kept as provenance."""
    pair = label.pair
    feedback = {
        "judge": judge,
        "constitution": constitution,
        "principles": [j.principle for j in label.judgments],
        "p_chosen_first": round(label.p_orders[0], 6),
        "p_rejected_first": round(label.p_orders[1], 6),
        "position_consistent": label.consistent,
        "unread_calls": label.unread,
        "human_p_chosen": pair.p_chosen,
        "human_source": pair.source,
    }
    return dataclasses.replace(
        pair,
        id=label.key,
        votes=(),
        soft_label=round(label.p_chosen, 6),
        source=f"ai:{judge}",
        metadata={**pair.metadata, "feedback": feedback},
    )


def pair_key(pair: Pair) -> str:
    if pair.id:
        return pair.id
    text = "\x00".join(render_text(t) for t in (pair.prompt, pair.chosen, pair.rejected))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _side(p: float) -> Verdict:
    return "chosen" if p > 0.5 else "rejected" if p < 0.5 else "tie"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)
