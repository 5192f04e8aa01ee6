"""The k-means start and the ANLS solver against nndsvda/cd and scikit-learn, on 20 Newsgroups.

    .venv/bin/python bench/bench_methods.py               # k = 20, median of 3 runs
    .venv/bin/python bench/bench_methods.py --repeats 1 --k 20

Each method fits the train TF-IDF matrix (11,314 x 39,115, bench/common.py) with its default
stopping rule; scikit-learn's reference is ``NMF(k, init='nndsvda', solver='cd',
random_state=0)`` with its defaults, timed in the same run. Printed per method: the objective
0.5 ||V - WH||^2 reached, iterations, wall time (median), the time ratio to scikit-learn's cd,
the mean NPMI of the top 10 terms on the test documents, and the NMI of the dominant topic of
each train document with its newsgroup. Results go to bench/results/bench_methods.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_quality import load_texts  # noqa: E402
from common import RESULTS_DIR, load_20ng, median_time  # noqa: E402
from sklearn.decomposition import NMF  # noqa: E402
from sklearn.metrics import normalized_mutual_info_score  # noqa: E402

from topicnmf import quality  # noqa: E402
from topicnmf.nmf import NMFConfig, fit_nmf, frobenius_loss  # noqa: E402

METHODS = (("cd", "nndsvda"), ("cd", "kmeans"), ("anls", "nndsvda"), ("anls", "kmeans"))


def scores(V_test, W: np.ndarray, H: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean test NPMI of the top 10 terms; NMI of dominant topics and newsgroups."""
    top = quality.top_term_indices(H, 10)
    npmi = float(np.mean(quality.topic_npmi(top, V_test)))
    # weights on topics whose rows of H sum to 1, as the model stores them
    dom = quality.dominant_topics(W * H.sum(axis=1))
    has = dom >= 0
    return npmi, float(normalized_mutual_info_score(labels[has], dom[has]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (median)")
    parser.add_argument("--k", type=int, default=20, help="number of topics")
    args = parser.parse_args()
    V, V_test = load_20ng()
    labels = np.array(load_texts()["train"]["labels"])
    k = args.k
    rows = []

    def sk() -> tuple[np.ndarray, np.ndarray, int]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = NMF(n_components=k, init="nndsvda", solver="cd", random_state=0)
            W = model.fit_transform(V)
        return W, model.components_, model.n_iter_

    sk_time, (W, H, n_iter) = median_time(sk, args.repeats)
    rows.append(("scikit-learn cd", "nndsvda", frobenius_loss(V, W, H), n_iter, sk_time, W, H))
    for solver, init in METHODS:
        config = NMFConfig(n_components=k, solver=solver, init=init)

        def ours(config: NMFConfig = config):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fit_nmf(V, config)

        seconds, result = median_time(ours, args.repeats)
        loss = frobenius_loss(V, result.W, result.H)
        rows.append((f"topicnmf {solver}", init, loss, result.n_iter, seconds, result.W, result.H))

    print(f"20 Newsgroups train, k={k}, default stopping rules, median of {args.repeats}")
    head = f"{'method':<16} {'init':<8} {'objective':>10} {'iter':>5} {'s':>7} "
    print(head + f"{'vs sk cd':>8} {'NPMI':>7} {'NMI':>6}")
    out = []
    for name, init, loss, it, secs, W, H in rows:
        npmi, nmi = scores(V_test, W, H, labels)
        ratio = secs / sk_time
        print(
            f"{name:<16} {init:<8} {loss:10.2f} {it:5d} {secs:7.2f} {ratio:7.2f}x "
            f"{npmi:7.4f} {nmi:6.4f}"
        )
        out.append(
            dict(method=name, init=init, objective=loss, n_iter=int(it), seconds=secs)
            | dict(ratio_to_sklearn_cd=ratio, npmi=npmi, nmi=nmi)
        )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "bench_methods.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
