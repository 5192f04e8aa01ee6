"""Run every benchmark against scikit-learn in one go (`make bench`).

    python bench/run_all.py            # the speed benchmarks of the issue (about 20 minutes)
    python bench/run_all.py --quick    # one repeat each, Frobenius k=20 only (a few minutes)
    python bench/run_all.py --all      # also topic quality, select-k time and corpus memory

Each script times topicnmf and scikit-learn on the same 20 Newsgroups data in the same run
and prints the ratios (medians of its repeats). The machines are shared: compare ratios,
not absolute seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHIVE  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, fewer cases")
    parser.add_argument("--all", action="store_true", help="also quality, select-k and memory")
    args = parser.parse_args()
    if not ARCHIVE.exists():
        raise SystemExit(f"benchmark data not found: {ARCHIVE}")
    repeats = ["--repeats", "1"] if args.quick else []
    runs = [
        ["bench_nmf.py", *repeats, *(["--ks", "20"] if args.quick else [])],  # 1, 2, transform
        ["bench_vectorize.py", *repeats],  # 3
        ["bench_pipeline.py", *repeats],  # 4, 5 and peak memory
        ["bench_methods.py", *repeats],  # kmeans start and anls solver against sklearn's cd
    ]
    if args.all:
        runs += [
            ["bench_quality.py", "targets"],
            ["bench_quality.py", "selectk"],
            ["bench_corpus_memory.py"],
        ]
    failed = []
    for script, *rest in runs:
        print(f"\n=== {script} {' '.join(rest)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *rest], check=False).returncode:
            failed.append(script)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
