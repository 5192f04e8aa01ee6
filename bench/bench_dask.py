"""The Dask backend against the single-process fit on 20 Newsgroups train.

Runs ``topicnmf.model.fit`` and ``topicnmf.backends.dask_backend.fit`` (a LocalCluster of
``--workers`` processes on loopback, started before the clock) in one run, alternating, and
prints the medians, their ratio and the agreement of the two fits (relative objective
difference, topic order).

    .venv/bin/python bench/bench_dask.py [--workers 2] [-k 20] [--repeat 3]

On a 2-core machine the Dask fit is expected to be slower: the same work is split over the
same two cores, plus a round trip to the workers per iteration. Its point is memory and
machines beyond this one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA_DIR  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-k", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from topicnmf.backends import BackendConfig, dask_backend
    from topicnmf.corpus import load_corpus
    from topicnmf.model import fit
    from topicnmf.nmf import NMFConfig
    from topicnmf.vectorize import VectorizerConfig

    docs = list(load_corpus(["20newsgroups:train"], data_home=DATA_DIR))
    vec = VectorizerConfig()  # the defaults: English stop words, min_df=2, max_df=0.95
    nmf = NMFConfig(n_components=args.k)
    print(f"20 Newsgroups train: {len(docs):,} documents, k={args.k}, workers={args.workers}")
    t = time.perf_counter()
    with dask_backend.connect(BackendConfig("dask", workers=args.workers)) as client:
        print(f"cluster start: {time.perf_counter() - t:.2f} s (not counted below)")
        local_t, dask_t = [], []
        for _ in range(args.repeat):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                a = fit(docs, vec, nmf)
                local_t.append(time.perf_counter() - t)
                t = time.perf_counter()
                b = dask_backend.fit(docs, vec, nmf, client)
                dask_t.append(time.perf_counter() - t)
    la, lb = a.model.stats.loss, b.model.stats.loss
    cos = a.model.H @ b.model.H.T
    cos /= np.outer(np.linalg.norm(a.model.H, axis=1), np.linalg.norm(b.model.H, axis=1))
    same_order = bool((cos.argmax(axis=1) == np.arange(args.k)).all())
    ml, md = statistics.median(local_t), statistics.median(dask_t)
    print(f"local fit   median {ml:7.2f} s  ({', '.join(f'{x:.2f}' for x in local_t)})")
    print(f"dask fit    median {md:7.2f} s  ({', '.join(f'{x:.2f}' for x in dask_t)})")
    print(f"ratio dask/local: {md / ml:.2f}")
    for name, out in (("local", a), ("dask", b)):
        st = out.model.stats
        print(
            f"  {name:5s} last run: read+vectorize {st.seconds_read_vectorize:.2f} s, "
            f"start+NMF {st.seconds_nmf:.2f} s, total {st.seconds_total:.2f} s"
        )
    print(
        f"objective local {la:.6f}, dask {lb:.6f}, relative difference {abs(la - lb) / la:.2e}; "
        f"iterations {a.model.stats.n_iter} / {b.model.stats.n_iter}; same topic order: "
        f"{same_order}; min topic cosine {cos.diagonal().min():.6f}"
    )


if __name__ == "__main__":
    main()
