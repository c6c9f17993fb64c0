"""`RewardModel.score` against a plain transformers loop, on the same hh texts and weights.

    python bench/score_speed.py --n 1000 --repeats 3

The plain loop is what an expert writes: texts sorted by length, batches of 16, the model's
input layout (one text, or the tokenizer's sentence-pair encoding) and pooling (the model card's
recipe: the mean of the real tokens for a mean-pooled model), inference mode, in fp32,
under bf16 autocast and with bf16 weights: the fastest of the three on this machine is the
anchor (bf16 is emulated, and about 5x slower, on a CPU without avx512_bf16 or AMX: there
--plain defaults to fp32 alone). rewardkit scores the same (prompt, response) texts with
`RewardModel.score` (precision auto, length-sorted token-budget batches). The token budget is
chosen first by a short sweep on this machine; then the runs alternate --repeats times. Prints
texts/s of each (median), the ratio to the anchor, and the largest score difference on texts
both scored (they differ only where the plain loop truncates what rewardkit flags).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rewardkit.data import read_records
from rewardkit.models.precision import cpu_has_fast_bf16
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair, Text, render_text

HH = Path(__file__).resolve().parents[2] / "shared/data/hh_rlhf_harmless/pairs.jsonl.gz"


def hh_texts(n: int) -> tuple[list[Text], list[Text]]:
    prompts: list[Text] = []
    responses: list[Text] = []
    for record in read_records([str(HH)]):
        if isinstance(record, Pair):
            prompts += [record.prompt, record.prompt]
            responses += [record.chosen, record.rejected]
        if len(prompts) >= n:
            break
    return prompts[:n], responses[:n]


PLAIN_PRECISIONS = ("fp32", "bf16 autocast", "bf16 weights")


def plain_loop(
    directory: Path, max_length: int, layout: str, pooling: str, precision: str
) -> Callable[[list[str], list[str]], list[float]]:
    """The model card's plain-transformers recipe in sorted batches of 16: the classifier on
    the first token, or on the mean of the real tokens for a mean-pooled model."""
    tokenizer = AutoTokenizer.from_pretrained(directory)
    network = AutoModelForSequenceClassification.from_pretrained(directory).eval()
    if precision == "bf16 weights":
        network.to(torch.bfloat16)

    @torch.inference_mode()
    def score(prompts: list[str], responses: list[str]) -> list[float]:
        lengths = [len(p) + len(r) for p, r in zip(prompts, responses, strict=True)]
        order = sorted(range(len(prompts)), key=lambda i: lengths[i])
        out = [0.0] * len(prompts)
        for start in range(0, len(order), 16):
            batch = order[start : start + 16]
            texts = (  # the model's own layout: one text, or a sentence pair
                ([prompts[i] + responses[i] for i in batch],)
                if layout == "text"
                else ([prompts[i] for i in batch], [responses[i] for i in batch])
            )
            inputs = tokenizer(
                *texts,
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16 autocast"):
                if pooling == "mean":
                    hidden = network.base_model(**inputs).last_hidden_state
                    mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    logits = network.classifier((hidden * mask).sum(1) / mask.sum(1))
                else:
                    logits = network(**inputs).logits
            logits = logits[:, 0].float()
            for i, value in zip(batch, logits.tolist(), strict=True):
                out[i] = value
        return out

    return score


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budgets", default="2048,4096,8192,16384")
    parser.add_argument(
        "--plain",
        default=",".join(PLAIN_PRECISIONS if cpu_has_fast_bf16() else PLAIN_PRECISIONS[:1]),
        help=f"plain-loop precisions, of {PLAIN_PRECISIONS}",
    )
    args = parser.parse_args()
    prompts, responses = hh_texts(args.n)
    plain_prompts = [render_text(p) for p in prompts]
    plain_responses = [render_text(r) for r in responses]
    with tempfile.TemporaryDirectory() as tmp:
        RewardModel.from_backbone("minilm").save(tmp)
        model = RewardModel.load(tmp)
        plains = {
            f"plain {name}": plain_loop(
                Path(tmp), model.info.max_length, model.info.input_style, model.info.pooling, name
            )
            for name in args.plain.split(",")
        }
        for plain in plains.values():  # warm-up: allocator, kernels
            plain(plain_prompts[:64], plain_responses[:64])
        model.score(prompts[:64], responses[:64])
        sweep: dict[int, float] = {}
        for budget in (int(b) for b in args.budgets.split(",")):
            start = time.perf_counter()
            model.score(prompts[:300], responses[:300], budget)
            sweep[budget] = time.perf_counter() - start
            print(f"budget {budget:6d}: {300 / sweep[budget]:6.1f} texts/s", flush=True)
        budget = min(sweep, key=lambda b: sweep[b])
        seconds: dict[str, list[float]] = {"rewardkit": [], **{name: [] for name in plains}}
        for _ in range(args.repeats):
            for name, plain in plains.items():
                seconds[name].append(
                    timed(functools.partial(plain, plain_prompts, plain_responses))
                )
            seconds["rewardkit"].append(timed(lambda: model.score(prompts, responses, budget)))
            print({k: round(v[-1], 1) for k, v in seconds.items()}, flush=True)
        ours = model.score(prompts, responses, budget)
        rate = {k: args.n / statistics.median(v) for k, v in seconds.items()}
        anchor = max(plains, key=lambda name: rate[name])
        theirs = plains[anchor](plain_prompts, plain_responses)
    both = [(a, b) for a, b in zip(ours.raw, theirs, strict=True) if a is not None]
    print(f"texts: {args.n} hh ({sum(ours.too_long)} over {model.info.max_length} tokens: "
          f"flagged by rewardkit, truncated by the plain loop); budget {budget} tokens")  # fmt: skip
    for name in plains:
        print(f"{name} loop (sorted, batch 16): {rate[name]:.1f} texts/s")
    print(f"RewardModel.score ({model.weight_dtype}): {rate['rewardkit']:.1f} texts/s")
    print(f"ratio to the faster plain loop ({anchor}): {rate['rewardkit'] / rate[anchor]:.2f}"
          f"  (median of {args.repeats})")  # fmt: skip
    print(f"max |score difference| on texts both scored: {max(abs(a - b) for a, b in both):.4f}")


if __name__ == "__main__":
    main()
