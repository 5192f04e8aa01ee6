"""Benchmark topicnmf's Vectorizer against scikit-learn's TfidfVectorizer on 20 Newsgroups.

    .venv/bin/python bench/bench_vectorize.py [--repeats 5]

Reads the train and test messages of ``../shared/data/20news-bydate.tar.gz`` once, cleaned
as ``fetch_20newsgroups(remove=("headers", "footers", "quotes"))`` cleans them (with
scikit-learn's own strip functions), then times, alternating the two libraries so that
both see the same machine load:

* ``fit_transform`` of the train texts (11,314),
* ``transform`` of the test texts (7,532) with the fitted vocabulary,

with ``TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")`` and the equal
``VectorizerConfig()`` (the tool's defaults).  Prints medians (wall and CPU time), the
speed-up, and checks that both give the same vocabulary, idf and matrices.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT.parent / "shared" / "data" / "20news-bydate.tar.gz"
sys.path.insert(0, str(ROOT))

from topicnmf.vectorize import Vectorizer, VectorizerConfig  # noqa: E402


def load_20ng(archive: Path) -> dict[str, list[str]]:
    """Train and test texts, in archive order, cleaned like ``fetch_20newsgroups``."""
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )

    texts: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            subset = "train" if "20news-bydate-train/" in member.name else "test"
            handle = tar.extractfile(member)
            assert handle is not None
            # scikit-learn decodes the messages as latin-1 and removes, in this order,
            # headers, footers and quoted replies
            text = handle.read().decode("latin-1")
            text = strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(text)))
            texts[subset].append((member.name, text))
    return {name: [t for _, t in sorted(items)] for name, items in texts.items()}


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def compare(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeats: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Alternate the two callables; return wall and CPU times of each."""
    ow, oc, tw, tc = [], [], [], []
    for _ in range(repeats):
        w, c, _ = timed(theirs)
        tw.append(w)
        tc.append(c)
        w, c, _ = timed(ours)
        ow.append(w)
        oc.append(c)
    return ow, oc, tw, tc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    parser.add_argument("--n-jobs", type=int, default=None, help="Vectorizer(n_jobs=...)")
    args = parser.parse_args()
    if not ARCHIVE.is_file():
        print(f"benchmark data not found: {ARCHIVE}", file=sys.stderr)
        return 1

    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    data = load_20ng(ARCHIVE)
    train, test = data["train"], data["test"]
    print(
        f"20 Newsgroups: {len(train):,} train / {len(test):,} test texts, "
        f"{sum(map(len, train)) / 1e6:.1f} M / {sum(map(len, test)) / 1e6:.1f} M characters "
        f"(read in {time.perf_counter() - t0:.1f} s)"
    )

    def sk_new() -> Any:
        return TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")

    def ours_new() -> Vectorizer:
        return Vectorizer(VectorizerConfig(), n_jobs=args.n_jobs)

    # warm up both (imports, caches), and keep fitted vectorizers for transform
    sk = sk_new()
    sk_train = sk.fit_transform(train)
    ours = ours_new()
    our_train = ours.fit_transform(train)

    rows = []
    fit = compare(
        lambda: ours_new().fit_transform(train), lambda: sk_new().fit_transform(train), args.repeats
    )
    rows.append(("fit_transform(train)", fit))
    tr = compare(lambda: ours.transform(test), lambda: sk.transform(test), args.repeats)
    rows.append(("transform(test)", tr))
    both = tuple([a + b for a, b in zip(x, y, strict=True)] for x, y in zip(fit, tr, strict=True))
    rows.append(("fit + transform", both))

    med = statistics.median
    print(f"\nmedians of {args.repeats} alternating runs (n_jobs={args.n_jobs})")
    print(
        f"{'step':<22} {'sklearn s':>10} {'topicnmf s':>11} {'speed-up':>9}   {'CPU speed-up':>12}"
    )
    for name, (ow, oc, tw, tc) in rows:
        print(
            f"{name:<22} {med(tw):>10.3f} {med(ow):>11.3f} {med(tw) / med(ow):>8.1f}x"
            f"   {med(tc) / med(oc):>11.1f}x"
        )

    sk_test = sk.transform(test)
    our_test = ours.transform(test)
    same_vocab = list(sk.get_feature_names_out()) == ours.vocabulary
    idf_diff = float(np.max(np.abs(sk.idf_ - ours.idf))) if same_vocab else float("nan")
    train_diff = abs(sk_train - our_train).max() if same_vocab else float("nan")
    test_diff = abs(sk_test - our_test).max() if same_vocab else float("nan")
    print(
        f"\ncheck: vocabulary {'equal' if same_vocab else 'DIFFERENT'} "
        f"({len(ours.vocabulary):,} terms), idf max |diff| {idf_diff:.1e}, "
        f"matrix max |diff| train {train_diff:.1e}, test {test_diff:.1e} "
        f"(float32 output vs float64)"
    )
    ok = same_vocab and idf_diff == 0.0 and train_diff < 1e-6 and test_diff < 1e-6
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
