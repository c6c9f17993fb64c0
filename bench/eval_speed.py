"""`rewardkit eval` against the scorer it stands on (`rewardkit score`): same model, same pairs.

    python bench/eval_speed.py --model runs/demo/model --n 10000 --repeats 2

Writes N synthetic pairs, then alternates the two commands, each in a fresh process and timed
end to end (model load included): `score` scores every response; `eval` scores them too and
adds every metric with 1,000 bootstrap resamples, the baselines, and the report with plots.
Prints pairs/s of each (median over repeats) and the ratio eval / score.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rewardkit.data import write_records
from rewardkit.synthetic import generate_pairs


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    code = f"import sys; from rewardkit.cli import main; sys.exit(main({args!r}))"
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="runs/demo/model")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "pairs.jsonl"
        write_records(generate_pairs(args.n, seed=11), data)
        commands = {
            "score": ["score", "--model", args.model, "--data", str(data), "--output", f"{tmp}/s.jsonl",
                      "--on_error", "skip"],
            "eval": ["eval", "--models", args.model, "--suites", str(data), "--output", f"{tmp}/eval",
                     "--subset_field", "category", "--on_error", "skip"],
        }  # fmt: skip
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                seconds[name].append(timed(command))
                print(f"{name}: {seconds[name][-1]:.1f} s", flush=True)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    for name, value in median.items():
        print(f"{name:5s} {args.n / value:7.1f} pairs/s  (median of {args.repeats}: {value:.1f} s)")
    print(f"eval / score speed: {median['score'] / median['eval']:.2f}")


if __name__ == "__main__":
    main()
