"""Load the shared real data with detected formats and print what each file gives.

python examples/shared_data_counts.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rewardkit.data import read_records
from rewardkit.records import Pair, StepTrace

SOURCES = [
    ("hh_rlhf_harmless/pairs.jsonl.gz", {}),
    ("oasst_en100/en_100_message.jsonl", {}),
    ("oasst_en100/en_100_message.jsonl", {"to": "pair"}),
    ("oasst_en100/pairs.jsonl", {}),
    ("prm800k_phase1/phase1_train_steps.jsonl.gz", {}),
    ("gsm8k/example_model_solutions.jsonl", {}),
    ("topical_chat_usr/topical_chat.json", {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    args = parser.parse_args()
    print(f"{'file':<46}{'format':<18}{'to':<6}{'rows':>7}{'records':>9}  issues")
    for name, options in SOURCES:
        stream = read_records(Path(args.data) / name, on_error="skip", **options)
        records = list(stream)
        fmt = next(iter(stream.formats.values()), "?")
        kinds = sorted({type(r).__name__ for r in records})
        print(
            f"{name:<46}{fmt:<18}{options.get('to', '-'):<6}{stream.report.rows_read:>7}"
            f"{len(records):>9}  {dict(stream.report.counts) or '-'}  {','.join(kinds)}"
        )
        if name.startswith("hh_"):
            with_prompt = sum(isinstance(r, Pair) and bool(r.prompt) for r in records)
            print(f"{'':<4}hh-rlhf pairs with the prompt split off: {with_prompt}")
        if name.startswith("prm800k"):
            problems = {r.prompt for r in records if isinstance(r, StepTrace)}
            steps = sum(len(r.steps) for r in records if isinstance(r, StepTrace))
            print(f"{'':<4}{len(problems)} problems, {steps} steps in the traces")


if __name__ == "__main__":
    main()
