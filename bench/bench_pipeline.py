"""End-to-end benchmarks: the whole `topicnmf fit` and `topicnmf assign` against scikit-learn.

Each side runs as a fresh process (interpreter start, imports, reading the archive, cleaning,
vectorizing, NMF, writing the result), the way a user or a batch job runs it. Peak memory is
the child process's maximum resident set size.

    python bench/bench_pipeline.py [--repeats 3] [-k 20]

5. fit:    `topicnmf fit 20newsgroups:train -k 20` vs fetch_20newsgroups + TfidfVectorizer +
           NMF(solver='cd', init='nndsvda') + writing the top words. The final objective
           ||V - WH||_F of both is printed: topicnmf must reach the same or a lower one.
4. assign: `topicnmf assign -m MODEL 20newsgroups:test` vs unpickling the fitted scikit-learn
           vectorizer and NMF, fetch_20newsgroups(test), transform, writing the weights.

scikit-learn reads the collection from its own cache (20news-bydate_py3.pkz, made the way its
downloader makes it, see common.py); topicnmf reads the .tar.gz archive itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHIVE, DATA_DIR, _sklearn_data_home  # noqa: E402

SKLEARN_FIT = r"""
import sys, numpy as np
from sklearn.datasets import fetch_20newsgroups
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.decomposition import NMF
home, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = fetch_20newsgroups(subset="train", remove=("headers", "footers", "quotes"),
                          data_home=home, download_if_missing=False).data
vec = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
V = vec.fit_transform(data)
nmf = NMF(n_components=k, init="nndsvda", solver="cd", random_state=0)
W = nmf.fit_transform(V)
terms = vec.get_feature_names_out()
with open(out, "w") as fh:
    fh.write("topic,rank,term,weight\n")
    for t, row in enumerate(nmf.components_):
        for r, j in enumerate(np.argsort(-row)[:10], start=1):
            fh.write(f"{t},{r},{terms[j]},{row[j]:.6g}\n")
print(f"OBJECTIVE {nmf.reconstruction_err_:.6f} ITER {nmf.n_iter_}", file=sys.stderr)
"""

SKLEARN_PICKLE = r"""
import sys, pickle
from sklearn.datasets import fetch_20newsgroups
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.decomposition import NMF
home, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = fetch_20newsgroups(subset="train", remove=("headers", "footers", "quotes"),
                          data_home=home, download_if_missing=False).data
vec = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
nmf = NMF(n_components=k, init="nndsvda", solver="cd", random_state=0).fit(vec.fit_transform(data))
with open(out, "wb") as fh:
    pickle.dump((vec, nmf), fh)
"""

SKLEARN_ASSIGN = r"""
import sys, pickle, numpy as np
from sklearn.datasets import fetch_20newsgroups
home, model, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(model, "rb") as fh:
    vec, nmf = pickle.load(fh)
test = fetch_20newsgroups(subset="test", remove=("headers", "footers", "quotes"),
                          data_home=home, download_if_missing=False)
W = nmf.transform(vec.transform(test.data))
sums = W.sum(axis=1, keepdims=True)
W = np.divide(W, sums, out=np.zeros_like(W), where=sums > 0)
k = W.shape[1]
with open(out, "w") as fh:
    fh.write("id," + ",".join(f"topic_{t}" for t in range(k)) + ",dominant_topic\n")
    for name, row in zip(test.filenames, W):
        fh.write(name + "," + ",".join(f"{x:.6g}" for x in row) + f",{int(np.argmax(row))}\n")
"""


# A small launcher measures the command: a child inherits its parent's peak RSS across
# fork and exec on Linux, so the parent that waits for it must itself be small.
LAUNCHER = r"""
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"wall": time.perf_counter() - t0, "rss_kib": usage.ru_maxrss,
                  "code": os.waitstatus_to_exitcode(status)}))
"""


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command in a fresh process; return (wall seconds, peak RSS in MiB, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, check=False
    )
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"code": proc.returncode}
    if proc.returncode != 0 or result["code"] != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stderr}")
    return result["wall"], result["rss_kib"] / 1024, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("-k", type=int, default=20)
    parser.add_argument(
        "--sklearn-compatible",
        action="store_true",
        help="fit with scikit-learn's token rules (the same vocabulary as the reference)",
    )
    args = parser.parse_args()
    rules = ["--sklearn-compatible"] if args.sklearn_compatible else []
    if not ARCHIVE.exists():
        raise SystemExit(f"benchmark data not found: {ARCHIVE}")
    topicnmf = [sys.executable, "-m", "topicnmf"]
    py = sys.executable
    k = str(args.k)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = str(_sklearn_data_home(tmp / "sk"))
        model = tmp / "model.npz"
        sk_model = tmp / "sk.pkl"
        run([py, "-c", SKLEARN_PICKLE, home, k, str(sk_model)])

        fit_rows = {"topicnmf": [], "scikit-learn": []}
        objective = {}
        for _ in range(args.repeats):
            w, rss, _err = run([
                *topicnmf, "fit", "20newsgroups:train", "-k", k, "--data-home", str(DATA_DIR),
                "-m", str(model), "-o", str(tmp / "topics.csv"), "-q", *rules,
            ])  # fmt: skip
            fit_rows["topicnmf"].append((w, rss))
            w, rss, err = run([py, "-c", SKLEARN_FIT, home, k, str(tmp / "sk_topics.csv")])
            fit_rows["scikit-learn"].append((w, rss))
            objective["scikit-learn"] = err.split("OBJECTIVE ")[1].split()[0]
        info = json.loads(
            subprocess.run(
                [*topicnmf, "info", str(model), "--format", "json"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout  # fmt: skip
        )
        fit_stats = info["fit"]
        objective["topicnmf"] = f"{fit_stats['frobenius_error']:.6f}"

        assign_rows = {"topicnmf": [], "scikit-learn": []}
        for _ in range(args.repeats):
            w, rss, _err = run([
                *topicnmf, "assign", "-m", str(model), "20newsgroups:test", "--data-home",
                str(DATA_DIR), "-o", str(tmp / "assign.csv"), "-q",
            ])  # fmt: skip
            assign_rows["topicnmf"].append((w, rss))
            w, rss, _err = run([py, "-c", SKLEARN_ASSIGN, home, str(sk_model), str(tmp / "sk.csv")])
            assign_rows["scikit-learn"].append((w, rss))
        with open(tmp / "assign.csv") as fh:
            n_assigned = sum(1 for _ in fh) - 1

    same = same_matrix_objectives(int(k))

    def med(rows: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(
        f"\nEnd to end, 20 Newsgroups, k={k}, medians of {args.repeats} runs (each a fresh process)"
        f"; topicnmf's token rules: {'scikit-learn' if rules else 'defaults'}"
    )
    print(f"{'benchmark':<34}{'topicnmf':>12}{'scikit-learn':>14}{'ratio':>8}")
    for name, rows in (("5. fit train (s)", fit_rows), ("4. assign test (s)", assign_rows)):
        ours, ref = med(rows["topicnmf"], 0), med(rows["scikit-learn"], 0)
        print(f"{name:<34}{ours:>12.2f}{ref:>14.2f}{ref / ours:>7.2f}x")
    for name, rows in (
        ("5. fit peak memory (MiB)", fit_rows),
        ("4. assign peak memory (MiB)", assign_rows),
    ):
        print(f"{name:<34}{med(rows['topicnmf'], 1):>12.0f}{med(rows['scikit-learn'], 1):>14.0f}")
    label = "5. final objective ||V-WH||_F"
    print(f"{label:<34}{objective['topicnmf']:>12}{objective['scikit-learn']:>14}")
    print(f"{'   topicnmf iterations':<34}{fit_stats['n_iter']:>12}")
    label = "5. same matrix and row order"
    print(f"{label:<34}{same['topicnmf']:>12.6f}{same['scikit-learn']:>14.6f}")
    print(f"{'4. documents assigned':<34}{n_assigned:>12}")


def same_matrix_objectives(k: int) -> dict[str, float]:
    """||V - WH||_F of both engines on topicnmf's own matrix, in topicnmf's row order.

    The two scripts above read the documents in different orders (scikit-learn shuffles),
    and NNDSVD's randomized SVD, hence the local minimum, depends on the order; this puts
    both solvers on exactly the same matrix.
    """
    import warnings

    import numpy as np
    from sklearn.decomposition import NMF

    from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus

    docs = list(load_corpus(["20newsgroups:train"], data_home=DATA_DIR))
    out = fit(docs, VectorizerConfig(), NMFConfig(n_components=k))
    V = out.model.vectorizer.transform(d.text for d in docs).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = NMF(n_components=k, init="nndsvda", solver="cd", random_state=0).fit(V)
    assert out.model.stats is not None
    return {"topicnmf": out.model.stats.frobenius_error, "scikit-learn": sk.reconstruction_err_}


if __name__ == "__main__":
    main()
