"""Topic-quality targets on 20 Newsgroups, and the time of select-k.

Targets (train split, k=20, NPMI on the test split), each evaluated by ``topicnmf.quality``:

1. mean NPMI >= that of scikit-learn's ``TfidfVectorizer(max_df=0.95, min_df=2,
   stop_words='english')`` + ``NMF(20, init='nndsvda')``;
2. topic diversity >= 0.90;
3. NMI between each train document's dominant topic and its newsgroup >= 0.35.

About 3% of the train documents have no vocabulary word left (empty once headers, footers
and quotes are removed), so no dominant topic. The tables show NMI three ways: ``NMI`` over
the documents that have a dominant topic, ``NMI-1`` with the others as one more class, and
``NMIam`` for a plain ``W.argmax(axis=1)``, which puts them in topic 0.

Run from the project root::

    .venv/bin/python bench/bench_quality.py baseline     # scikit-learn's pipeline
    .venv/bin/python bench/bench_quality.py grid         # candidate defaults (sklearn parts)
    .venv/bin/python bench/bench_quality.py topicnmf     # topicnmf's engine, raw W and H
    .venv/bin/python bench/bench_quality.py tool         # exactly what `topicnmf fit` does
    .venv/bin/python bench/bench_quality.py targets      # baseline + tool: the issue's table
    .venv/bin/python bench/bench_quality.py orders       # both on 5 orders of the documents
    .venv/bin/python bench/bench_quality.py selectk      # time select-k --k 10:30:5
    .venv/bin/python bench/bench_quality.py all

Texts are cached in ``bench/results/20ng_texts.json`` (git-ignored); every measured row is
appended to ``bench/results/quality.jsonl`` and printed as a table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
RESULTS_DIR = BENCH_DIR / "results"
TEXT_CACHE = RESULTS_DIR / "20ng_texts.json"
LOG = RESULTS_DIR / "quality.jsonl"
ARCHIVE = BENCH_DIR.parents[1] / "shared" / "data" / "20news-bydate.tar.gz"

from topicnmf import quality  # noqa: E402

K = 20
TOP_N = 10
NO_DIGITS = r"(?u)\b[^\W\d_][^\W\d_]+\b"  # tokens of 2+ letters, no digits or underscores
HAS_LETTER = r"(?u)\b\w*[^\W\d_]\w*\b"  # tokens containing at least one letter


def load_texts() -> dict[str, Any]:
    """Train/test texts and newsgroup labels (headers, footers, quotes removed)."""
    if TEXT_CACHE.exists():
        return json.loads(TEXT_CACHE.read_text())
    if not ARCHIVE.exists():
        raise SystemExit(f"benchmark data not found: {ARCHIVE}")
    from sklearn.datasets import fetch_20newsgroups

    from bench.common import _sklearn_data_home

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = _sklearn_data_home(Path(tmp))
        for subset in ("train", "test"):
            d = fetch_20newsgroups(
                subset=subset,
                remove=("headers", "footers", "quotes"),
                data_home=home,
                download_if_missing=False,
            )
            out[subset] = {"texts": list(d.data), "labels": [int(t) for t in d.target]}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp_path = TEXT_CACHE.with_suffix(".tmp")
    tmp_path.write_text(json.dumps(out))
    tmp_path.replace(TEXT_CACHE)
    return out


def score(
    H: np.ndarray, W_train: np.ndarray, X_test: Any, labels: np.ndarray, vocab: Any
) -> dict[str, Any]:
    """The three target figures, computed by topicnmf.quality."""
    from sklearn.metrics import normalized_mutual_info_score

    top = quality.top_term_indices(H, TOP_N)
    dom = quality.dominant_topics(W_train)
    has = dom >= 0
    return {
        "npmi": float(np.mean(quality.topic_npmi(top, X_test))),
        "diversity": quality.topic_diversity(top),
        # NMI of the dominant topic and the newsgroup, over the documents that have a
        # dominant topic (a document with no vocabulary word has none) ...
        "nmi": float(normalized_mutual_info_score(labels[has], dom[has])),
        # ... with those documents as one more class ...
        "nmi_none_as_class": float(normalized_mutual_info_score(labels, dom)),
        # ... and as a plain W.argmax(axis=1) puts them: in topic 0
        "nmi_argmax": float(normalized_mutual_info_score(labels, np.argmax(W_train, axis=1))),
        "n_terms": int(H.shape[1]),
        "undominated": int(np.sum(dom < 0)),
        "topics": [" ".join(str(vocab[i]) for i in t[:6]) for t in top],
    }


def run_sklearn(name: str, data: dict[str, Any], vec: dict[str, Any], nmf: dict[str, Any]):
    """Fit scikit-learn's TfidfVectorizer + NMF on train; score with NPMI on test."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    v = TfidfVectorizer(**vec)
    V = v.fit_transform(data["train"]["texts"])
    X_test = v.transform(data["test"]["texts"])
    model = NMF(n_components=K, **{"init": "nndsvda", "random_state": 0, **nmf})
    W = model.fit_transform(V)
    seconds = time.perf_counter() - t0
    row = score(
        model.components_, W, X_test, np.array(data["train"]["labels"]), v.get_feature_names_out()
    )
    row.update(
        name=name, engine="sklearn", vec=vec, nmf=nmf, n_iter=int(model.n_iter_), seconds=seconds
    )
    return row


def _vectorize(vec: dict[str, Any], train: list[str], test: list[str], sk: bool):
    """TF-IDF of train and test with topicnmf's Vectorizer, or scikit-learn's (same matrix)."""
    if sk:
        from sklearn.feature_extraction.text import TfidfVectorizer

        v = TfidfVectorizer(**{**BASE_VEC, **vec}, dtype=np.float32)
        return v.fit_transform(train), v.transform(test), list(v.get_feature_names_out())
    from topicnmf.vectorize import Vectorizer, VectorizerConfig

    tv = Vectorizer(VectorizerConfig(**vec))
    return tv.fit_transform(train), tv.transform(test), tv.vocabulary


def run_topicnmf(
    name: str,
    data: dict[str, Any],
    vec: dict[str, Any],
    nmf: dict[str, Any],
    sk_vectorizer: bool = False,
):
    """Same with topicnmf's engine and Vectorizer (defaults unless overridden).

    With ``sk_vectorizer`` the TF-IDF matrix comes from scikit-learn's TfidfVectorizer with
    the documented topicnmf defaults (``BASE_VEC``) updated by ``vec``.
    """
    from topicnmf.nmf import NMFConfig, fit_nmf

    t0 = time.perf_counter()
    V, X_test, vocab = _vectorize(vec, data["train"]["texts"], data["test"]["texts"], sk_vectorizer)
    result = fit_nmf(V, NMFConfig(n_components=K, **nmf))
    seconds = time.perf_counter() - t0
    row = score(result.H, result.W, X_test, np.array(data["train"]["labels"]), vocab)
    row.update(
        name=name,
        engine="topicnmf" + ("+skvec" if sk_vectorizer else ""),
        vec=vec,
        nmf=nmf,
        n_iter=int(result.n_iter),
        seconds=seconds,
    )
    return row


def run_tool(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """What `topicnmf fit 20newsgroups:train -k 20` does: topicnmf.model.fit with the defaults
    (topics ordered, H rows scaled to sum to 1, W from transform)."""
    from topicnmf import Document, NMFConfig, VectorizerConfig, fit

    t0 = time.perf_counter()
    docs = [Document(str(i), text) for i, text in enumerate(data["train"]["texts"])]
    out = fit(docs, VectorizerConfig(), NMFConfig(n_components=K))
    seconds = time.perf_counter() - t0
    m = out.model
    X_test = m.vectorizer.transform(data["test"]["texts"])
    row = score(m.H, out.W, X_test, np.array(data["train"]["labels"]), m.vocabulary)
    assert m.stats is not None
    row.update(name=name, engine="tool", vec={}, nmf={}, n_iter=m.stats.n_iter, seconds=seconds)
    return row


BASE_VEC = {"max_df": 0.95, "min_df": 2, "stop_words": "english"}

GRID: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("sublinear", {**BASE_VEC, "sublinear_tf": True}, {}),
    ("letters", {**BASE_VEC, "token_pattern": NO_DIGITS}, {}),
    ("has_letter", {**BASE_VEC, "token_pattern": HAS_LETTER}, {}),
    ("letters+sublinear", {**BASE_VEC, "token_pattern": NO_DIGITS, "sublinear_tf": True}, {}),
    ("letters+min_df5", {**BASE_VEC, "token_pattern": NO_DIGITS, "min_df": 5}, {}),
    ("letters+max_df0.5", {**BASE_VEC, "token_pattern": NO_DIGITS, "max_df": 0.5}, {}),
    (
        "letters+sublinear+min_df5",
        {**BASE_VEC, "token_pattern": NO_DIGITS, "sublinear_tf": True, "min_df": 5},
        {},
    ),
    ("nndsvd", BASE_VEC, {"init": "nndsvd"}),
    ("iter500", BASE_VEC, {"max_iter": 500, "tol": 1e-5}),
    ("letters+iter500", {**BASE_VEC, "token_pattern": NO_DIGITS}, {"max_iter": 500, "tol": 1e-5}),
    (
        "l1_H",
        {**BASE_VEC, "token_pattern": NO_DIGITS},
        {"alpha_H": 1e-4, "alpha_W": 0.0, "l1_ratio": 1.0},
    ),
    ("max_df0.2", {**BASE_VEC, "max_df": 0.2}, {}),
    ("max_df0.15", {**BASE_VEC, "max_df": 0.15}, {}),
    ("max_df0.12", {**BASE_VEC, "max_df": 0.12}, {}),
    ("max_df0.1", {**BASE_VEC, "max_df": 0.1}, {}),
    ("max_df0.08", {**BASE_VEC, "max_df": 0.08}, {}),
    ("max_df0.05", {**BASE_VEC, "max_df": 0.05}, {}),
    ("max_df0.1+min_df5", {**BASE_VEC, "max_df": 0.1, "min_df": 5}, {}),
    ("max_df0.15+min_df5", {**BASE_VEC, "max_df": 0.15, "min_df": 5}, {}),
    ("alpha_W_l2", BASE_VEC, {"alpha_W": 1e-4, "alpha_H": 0.0, "l1_ratio": 0.0}),
    (
        "kl",
        {**BASE_VEC, "token_pattern": NO_DIGITS},
        {"beta_loss": "kullback-leibler", "solver": "mu", "max_iter": 300},
    ),
]


# topicnmf's own vectorizer and engine: its current defaults, and the candidate defaults.
TOPICNMF_GRID: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("topicnmf-defaults", {}, {}),
    ("topicnmf max_df=0.1", {"max_df": 0.1}, {}),
    ("topicnmf max_df=0.15", {"max_df": 0.15}, {}),
    ("topicnmf max_df=0.1 min_df=5", {"max_df": 0.1, "min_df": 5}, {}),
    ("topicnmf max_df=0.2", {"max_df": 0.2}, {}),
    ("topicnmf max_df=0.15 min_df=5", {"max_df": 0.15, "min_df": 5}, {}),
]


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'name':32} {'engine':8} {'NPMI':>7} {'div':>5} {'NMI':>6} {'NMI-1':>6} {'NMIam':>6}"
    lines = [head + f" {'terms':>6} {'iter':>5} {'sec':>6}"]
    for r in rows:
        lines.append(
            f"{r['name']:32} {r['engine']:8} {r['npmi']:7.4f} {r['diversity']:5.3f} "
            f"{r['nmi']:6.4f} {r.get('nmi_none_as_class', float('nan')):6.4f} "
            f"{r.get('nmi_argmax', float('nan')):6.4f} "
            f"{r['n_terms']:6d} {r['n_iter']:5d} {r['seconds']:6.1f}"
        )
    return "\n".join(lines)


def permuted(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same data with the train documents in another order (test unchanged)."""
    train = data["train"]
    order = np.random.default_rng(seed).permutation(len(train["texts"]))
    return {
        "train": {
            "texts": [train["texts"][i] for i in order],
            "labels": [train["labels"][i] for i in order],
        },
        "test": data["test"],
    }


def run_orders(data: dict[str, Any], n_orders: int) -> list[dict[str, Any]]:
    """scikit-learn's pipeline and topicnmf's fit on several orders of the train split.

    scikit-learn's NNDSVD start (a randomized SVD sketched on the document side) moves with
    the order of the documents; topicnmf's exact SVD does not. Prints mean, min and max.
    """
    rows = []
    for seed in range(n_orders):
        d = data if seed == 0 else permuted(data, seed)
        tag = "scikit-learn's order" if seed == 0 else f"permutation {seed}"
        rows.append(run_sklearn(f"sklearn, {tag}", d, BASE_VEC, {}))
        log(rows[-1])
        rows.append(run_tool(f"topicnmf, {tag}", d))
        log(rows[-1])
    print()
    for engine in ("sklearn", "tool"):
        mine = [r for r in rows if r["engine"] == engine]
        for key in ("npmi", "diversity", "nmi", "nmi_none_as_class", "nmi_argmax"):
            xs = [r[key] for r in mine]
            print(
                f"{engine:8} {key:18} mean {np.mean(xs):.4f}  min {min(xs):.4f}  "
                f"max {max(xs):.4f}  ({len(xs)} orders)"
            )
    return rows


def log(row: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with LOG.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(table([row]).splitlines()[1], flush=True)


def time_select_k(
    data: dict[str, Any],
    jobs: int,
    runs: int,
    vec: dict[str, Any] | None = None,
    sk_vectorizer: bool = False,
) -> dict[str, Any]:
    """Time select-k --k 10:30:5 on the train split (topicnmf's defaults unless ``vec``)."""
    vec = vec or {}
    from topicnmf.nmf import NMFConfig

    t0 = time.perf_counter()
    V, _, _ = _vectorize(vec, data["train"]["texts"], [], sk_vectorizer)
    t_vec = time.perf_counter() - t0

    def progress(p: quality.SelectKProgress) -> None:
        print(f"  [{p.done}/{p.total}] k={p.k} run={p.run} {p.seconds:.1f}s", flush=True)

    t1 = time.perf_counter()
    result = quality.select_k(
        V,
        quality.parse_k_spec("10:30:5"),
        nmf_config=NMFConfig(n_components=10),
        runs=runs,
        jobs=jobs,
        callback=progress,
    )
    seconds = time.perf_counter() - t1
    out = {
        "name": f"select-k 10:30:5 runs={runs} jobs={jobs} vec={vec}",
        "vectorize_seconds": t_vec,
        "select_k_seconds": seconds,
        "recommended_k": result.recommended_k,
        "reason": result.reason,
        "rows": [
            {
                "k": r.k,
                "npmi_train": r.npmi,
                "diversity": r.diversity,
                "rel_error": r.relative_error,
                "stability": r.stability,
                "seconds": r.seconds,
            }
            for r in result.rows
        ],
    }
    with LOG.open("a") as f:
        f.write(json.dumps(out) + "\n")
    print(json.dumps(out, indent=1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what",
        choices=["baseline", "grid", "topicnmf", "tool", "targets", "orders", "selectk", "all"],
    )
    parser.add_argument("--orders", type=int, default=5, help="orders: how many row orders")
    parser.add_argument("--only", help="grid: run only the named configuration")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--sk-vectorizer",
        action="store_true",
        help="topicnmf/selectk: build TF-IDF with scikit-learn instead of topicnmf.vectorize",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--vec", help='selectk: vectorizer settings as JSON, e.g. {"max_df": 0.1}')
    args = parser.parse_args()
    data = load_texts()
    rows = []
    if args.what in ("baseline", "targets", "all"):
        rows.append(run_sklearn("sklearn-baseline", data, BASE_VEC, {}))
        log(rows[-1])
    if args.what in ("tool", "targets", "all"):
        rows.append(run_tool("topicnmf fit (defaults)", data))
        log(rows[-1])
    if args.what in ("grid", "all"):
        for name, vec, nmf in GRID:
            if args.only and name != args.only:
                continue
            rows.append(run_sklearn(name, data, vec, nmf))
            log(rows[-1])
    if args.what in ("topicnmf", "all"):
        for name, vec, nmf in TOPICNMF_GRID:
            if args.only and name != args.only:
                continue
            rows.append(run_topicnmf(name, data, vec, nmf, args.sk_vectorizer))
            log(rows[-1])
    if rows:
        print()
        print(table(rows))
        for r in rows:
            print(f"\n{r['name']}:")
            for t in r["topics"]:
                print("   ", t)
    if args.what == "orders":
        run_orders(data, args.orders)
    if args.what in ("selectk", "all"):
        vec = json.loads(args.vec) if args.vec else {}
        time_select_k(data, args.jobs, args.runs, vec, args.sk_vectorizer)


if __name__ == "__main__":
    main()
