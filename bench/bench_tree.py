"""The topic tree on 20 Newsgroups: its time against a flat fit, and the rank-2 solver's worth.

Three measurements on the train split (11,314 messages, headers, footers and quotes
removed), in one run so that the ratios compare like with like on a shared machine:

1. ``topicnmf tree -k 20`` against ``topicnmf fit -k 20``, each in a fresh process,
   alternating, ``--repeats`` times (medians and their ratio).
2. The tree's splits made with the closed-form rank-2 ANLS (``nmf._rank2.rank2_nmf``)
   against the same splits made with the library's HALS (``fit_nmf``, k=2, random start):
   time of the whole 20-leaf tree, and the NMI of its leaves with the newsgroups.
3. NMI with the newsgroups of the leaves (a document's leaf) and of the leaves model's
   dominant topics, against a flat fit's dominant topics.

Usage::

    python bench/bench_tree.py               # 3 repeats, about 2 minutes
    python bench/bench_tree.py --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
DATA = BENCH.parents[1] / "shared" / "data"


def cli_seconds(args: list[str]) -> float:
    env = {**os.environ, "TOPICNMF_DATA_HOME": str(DATA)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "topicnmf", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def leaf_nmi(built, labels: np.ndarray) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    parents = set(built.parents)
    leaf = np.full(len(labels), -1)
    for node, rows in enumerate(built.rows):
        if node not in parents:
            leaf[rows] = node
    kept = leaf >= 0
    return float(normalized_mutual_info_score(labels[kept], leaf[kept]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("-k", type=int, default=20)
    args = parser.parse_args()
    k = str(args.k)

    with tempfile.TemporaryDirectory() as tmp:
        tree_t, fit_t = [], []
        for _ in range(args.repeats):
            tree_t.append(cli_seconds(["tree", "20newsgroups:train", "-k", k, "-q",
                                       "--format", "csv", "-o", f"{tmp}/t.csv"]))  # fmt: skip
            fit_t.append(cli_seconds(["fit", "20newsgroups:train", "-k", k, "-q",
                                      "-m", f"{tmp}/m.npz", "--format", "csv"]))  # fmt: skip
        t, f = statistics.median(tree_t), statistics.median(fit_t)
        print(f"1. end to end, k={k}: tree {t:.2f} s, fit {f:.2f} s, tree/fit {t / f:.2f}")

    from sklearn.metrics import normalized_mutual_info_score
    from threadpoolctl import threadpool_limits

    import topicnmf.tree as tree_mod
    from topicnmf.corpus import load_corpus
    from topicnmf.model import fit as fit_flat
    from topicnmf.nmf import NMFConfig, fit_nmf
    from topicnmf.nmf._rank2 import Rank2Result
    from topicnmf.vectorize import Vectorizer, VectorizerConfig

    corpus = load_corpus(["20newsgroups:train"], data_home=str(DATA))
    docs = list(corpus)
    labels = np.array([d.label for d in docs])
    V = Vectorizer(VectorizerConfig()).fit_transform(d.text for d in docs)

    def hals_split(X, *, seed=0, **_):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fit_nmf(X, NMFConfig(2, init="random", seed=seed, dtype="float64", tol=1e-6,
                                     max_iter=500), n_threads=1)  # fmt: skip
        sums = r.H.sum(axis=1)
        scale = np.where(sums > 0, sums, 1.0)
        dense = X @ (r.H / scale[:, None]).T
        return Rank2Result(
            r.W * scale,
            r.H / scale[:, None],
            float((X.multiply(X)).sum() - 2 * np.sum(r.W * scale * dense)),
            r.n_iter,
            r.converged,
        )

    results = {}
    real = tree_mod.rank2_nmf
    for name, split in (("rank-2 ANLS", real), ("HALS k=2", hals_split)):
        tree_mod.rank2_nmf = split
        times = []
        for _ in range(args.repeats):
            with threadpool_limits(limits=1, user_api="blas"):
                start = time.perf_counter()
                built = tree_mod.build_tree(V, args.k)
                times.append(time.perf_counter() - start)
        results[name] = (statistics.median(times), leaf_nmi(built, labels))
    tree_mod.rank2_nmf = real
    (a_t, a_nmi), (h_t, h_nmi) = results["rank-2 ANLS"], results["HALS k=2"]
    print(f"2. splits of a {k}-leaf tree: rank-2 ANLS {a_t:.2f} s (leaf NMI {a_nmi:.3f}), "
          f"HALS k=2 {h_t:.2f} s (leaf NMI {h_nmi:.3f}); HALS/ANLS {h_t / a_t:.2f}")  # fmt: skip

    class Docs(list):
        pass

    out = tree_mod.fit_tree(Docs(docs), VectorizerConfig(), args.k)
    flat = fit_flat(Docs(docs), VectorizerConfig(), NMFConfig(args.k))

    def dominant_nmi(W):
        kept = W.any(axis=1)
        return normalized_mutual_info_score(labels[kept], W[kept].argmax(axis=1))

    print(f"3. NMI with the newsgroups: tree leaves {a_nmi:.3f}, leaves model dominant topic "
          f"{dominant_nmi(out.W):.3f}, flat fit dominant topic {dominant_nmi(flat.W):.3f}; "
          f"relative error: leaves model {out.model.stats.relative_error:.4f}, flat fit "
          f"{flat.model.stats.relative_error:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
