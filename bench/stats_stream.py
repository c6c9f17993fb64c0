"""Peak memory and rows/s of `rewardkit data stats` streaming over N synthetic pairs.

    python bench/stats_stream.py --n 1000000

Writes N pairs to a temporary .jsonl.gz, then runs the stats command in a fresh process and
reads its peak RSS (ru_maxrss) so that generating the data does not count.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rewardkit.data import write_records
from rewardkit.synthetic import generate_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.jsonl.gz"
        start = time.perf_counter()
        write_records(generate_pairs(args.n, seed=0), path)
        print(
            f"generated {args.n} pairs in {time.perf_counter() - start:.1f} s "
            f"({path.stat().st_size / 2**20:.1f} MiB gzip)"
        )
        start = time.perf_counter()
        code = (
            "import sys; from rewardkit.cli import main; "
            f"sys.exit(main(['data', 'stats', '{path}', '--on_error', 'skip']))"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"stats over {args.n} pairs: {seconds:.1f} s, {args.n / seconds:,.0f} rows/s, "
        f"peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
