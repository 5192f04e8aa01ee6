"""Topic quality of the token rules: topicnmf's defaults, its scikit-learn-compatible mode
(the old defaults), and scikit-learn's usual pipeline, on two corpora.

    .venv/bin/python bench/bench_rules.py 20ng [--ks 10,20,50]
    .venv/bin/python bench/bench_rules.py docstrings [--ks 10,20,50]
    .venv/bin/python bench/bench_rules.py all [--runs 5]

Corpora (training split / reference split for coherence / labels for NMI):

* ``20ng``: 20 Newsgroups, headers, footers and quotes removed (as
  ``fetch_20newsgroups(remove=...)``): train / test / newsgroup.
* ``docstrings``: the docstrings of the Python standard library and of numpy, scipy, pandas
  and scikit-learn as installed (``bench/corpus_docstrings.py``): a deterministic 80/20 split
  by the hash of each docstring's name / the package it belongs to.

Pipelines, each at k = 10, 20, 50 (NNDSVDA start):

* ``scikit-learn``: ``TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")`` +
  ``NMF(k, init="nndsvda", random_state=0)``;
* ``topicnmf compatible``: ``topicnmf.fit`` with ``VectorizerConfig.sklearn_compatible()``
  (the defaults before the token rules);
* ``topicnmf defaults``: ``topicnmf.fit`` with ``VectorizerConfig()``;
* ``topicnmf phrases`` (only when asked, ``--pipelines``): the defaults with ``phrases=True``.

``--ngram-range 1,2`` gives every pipeline that n-gram range (scikit-learn's too);
``--max-line-df`` changes the boilerplate threshold of the defaults (the test of which topics
are boilerplate keeps the default's threshold).

Figures, all computed by ``topicnmf.quality`` on the top 10 terms of each topic:

* ``NPMI``: mean over topics of the NPMI on the reference split, vectorized by the pipeline's
  own vectorizer (boilerplate removal included);
* ``NPMI*``: the same over the topics that are not boilerplate, which would otherwise hide
  the rest (a signature topic scores about 0.97 against about 0.35 for real topics). A topic
  is boilerplate when its top terms co-occur almost perfectly in the training documents
  (NPMI on the training split >= 0.75: one author's signature), or when most of their
  training documents hold them only in boilerplate lines (the lines that topicnmf's
  default ``max_line_df`` finds in the training split: a disclaimer, a license, a
  template block repeated in many documents);
* ``NPMI†``: the same over the topics that are neither boilerplate nor led by junk (half or
  more of their top 10 are numbers or contraction fragments: ``10 11 12 15 14 16``), which
  score high for the same reason as boilerplate and which the defaults remove;
* ``bp``: the number of such boilerplate topics, listed under the table;
* ``div``: topic diversity; ``NMI``: normalized mutual information between each training
  document's dominant topic and its label (documents with no vocabulary word left excluded);
* ``junk``: the number of top-10 terms that are a number, or a piece of an English
  contraction cut at its apostrophe (``don``, ``ve``, ``ll``, ``doesn``, ...).

``--runs N`` fits each pipeline and k N times: on the whole training split, then on seeded
random samples of ``--sample`` (0.9) of it, the same samples for every pipeline; a second
table gives the mean (standard deviation) of each figure over the runs, since one fit's mean
NPMI moves by 0.01-0.02 with small changes of the vocabulary.

Every topic of every whole-split row is printed with its NPMI; ``--markdown FILE`` also writes the
tables as Markdown. Rows are appended to ``bench/results/rules.jsonl``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import itertools
import json
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))
RESULTS_DIR = BENCH_DIR / "results"
LOG = RESULTS_DIR / "rules.jsonl"

from topicnmf import quality  # noqa: E402

TOP_N = 10
BOILERPLATE_NPMI = 0.75
BOILERPLATE_SHARE = 0.5
# Pieces of English contractions that scikit-learn's pattern cuts out ("don't" -> "don").
FRAGMENTS = frozenset(
    "don doesn didn isn wasn weren aren couldn wouldn shouldn haven hasn hadn ll ve ain "
    "mustn needn shan mightn".split()
)


def is_number(token: str) -> bool:
    return bool(token) and all(unicodedata.category(c)[0] == "N" for c in token)


def junk_terms(terms: list[str]) -> list[str]:
    """Top terms that are numbers or contraction fragments (any word of an n-gram/phrase)."""
    out = []
    for term in terms:
        words = term.replace("_", " ").split()
        if any(is_number(w) or w in FRAGMENTS for w in words):
            out.append(term)
    return out


# ------------------------------------------------------------------------------- corpora


def corpus_20ng() -> dict[str, Any]:
    from bench_quality import load_texts

    data = load_texts()
    names = sorted(set(data["train"]["labels"]))
    return {
        "name": "20 Newsgroups",
        "train": data["train"]["texts"],
        "test": data["test"]["texts"],
        "labels": np.array(data["train"]["labels"]),
        "n_labels": len(names),
    }


def corpus_docstrings() -> dict[str, Any]:
    from corpus_docstrings import load

    docs = load()
    train, test, labels = [], [], []
    for doc in docs:
        # a split that does not move when documents are added or removed elsewhere
        held_out = hashlib.sha256(doc["id"].encode()).digest()[0] < 52  # about 20%
        if held_out:
            test.append(doc["text"])
        else:
            train.append(doc["text"])
            labels.append(doc["label"])
    names = sorted(set(labels))
    index = {n: i for i, n in enumerate(names)}
    return {
        "name": "Python docstrings",
        "train": train,
        "test": test,
        "labels": np.array([index[x] for x in labels]),
        "n_labels": len(names),
    }


CORPORA = {"20ng": corpus_20ng, "docstrings": corpus_docstrings}


# ----------------------------------------------------------------------------- pipelines


def clean_lines(texts: list[str]) -> list[str]:
    """The texts without the boilerplate lines topicnmf's default finds in them."""
    from topicnmf.config import DEFAULT_MAX_LINE_DF
    from topicnmf.vectorize.lines import LineCounter, LineFilter

    counter = LineCounter()
    counter.add(texts)
    cleaned, _ = LineFilter(counter.frequent(DEFAULT_MAX_LINE_DF)).clean(texts)
    return cleaned


def boilerplate_share(top: np.ndarray, X_raw: Any, X_clean: Any) -> np.ndarray:
    """For each topic, the mean over its top terms of the share of the term's training
    documents that hold it only in boilerplate lines."""
    df_raw = np.asarray((X_raw > 0).sum(axis=0)).ravel().astype(float)
    df_clean = np.asarray((X_clean > 0).sum(axis=0)).ravel().astype(float)
    share = np.where(df_raw > 0, (df_raw - df_clean) / np.maximum(df_raw, 1), 0.0)
    return share[top].mean(axis=1)


def score(
    H: np.ndarray,
    W: np.ndarray,
    X_train: Any,
    X_test: Any,
    labels: np.ndarray,
    vocab: Any,
    X_raw: Any,
    X_clean: Any,
) -> dict[str, Any]:
    """The figures of one model; ``X_raw``/``X_clean``: the training split with and without
    its boilerplate lines, in the model's vocabulary."""
    from sklearn.metrics import normalized_mutual_info_score

    top = quality.top_term_indices(H, TOP_N)
    npmi_test = quality.topic_npmi(top, X_test)
    npmi_train = quality.topic_npmi(top, X_train)
    share = boilerplate_share(top, X_raw, X_clean)
    boiler = (npmi_train >= BOILERPLATE_NPMI) | (share >= BOILERPLATE_SHARE)
    terms = [[str(vocab[i]) for i in row] for row in top]
    dom = quality.dominant_topics(W)
    has = dom >= 0
    junk = sorted({t for row in terms for t in junk_terms(row)})
    # topics led by junk: half or more of their top terms are numbers or fragments
    junk_led = np.array([2 * len(junk_terms(row)) >= TOP_N for row in terms])
    real = ~boiler & ~junk_led
    return {
        "npmi": float(np.mean(npmi_test)),
        "npmi_clean": float(np.mean(npmi_test[~boiler])) if (~boiler).any() else float("nan"),
        "npmi_real": float(np.mean(npmi_test[real])) if real.any() else float("nan"),
        "n_junk_led": int(junk_led.sum()),
        "n_boilerplate": int(boiler.sum()),
        "diversity": float(quality.topic_diversity(top)),
        "nmi": float(normalized_mutual_info_score(labels[has], dom[has])),
        "n_junk": sum(len(junk_terms(row)) for row in terms),
        "junk": junk,
        "n_terms": int(H.shape[1]),
        "topics": [
            {
                "npmi": float(a),
                "npmi_train": float(b),
                "share": float(c),
                "boilerplate": bool(d),
                "terms": t,
            }
            for a, b, c, d, t in zip(npmi_test, npmi_train, share, boiler, terms, strict=True)
        ],
    }


def run_sklearn(corpus: dict[str, Any], k: int, ngram: tuple[int, int]) -> dict[str, Any]:
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    vec = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english", ngram_range=ngram)
    V = vec.fit_transform(corpus["train"])
    model = NMF(n_components=k, init="nndsvda", random_state=0)
    W = model.fit_transform(V)
    seconds = time.perf_counter() - t0
    row = score(
        model.components_, W, V, vec.transform(corpus["test"]), corpus["labels"],
        vec.get_feature_names_out(), V, vec.transform(corpus["train_clean"]),
    )  # fmt: skip
    row.update(pipeline="scikit-learn", seconds=seconds)
    return row


def run_topicnmf(
    corpus: dict[str, Any], k: int, mode: str, ngram: tuple[int, int], line_df: Any = None
) -> dict[str, Any]:
    from topicnmf import Document, NMFConfig, VectorizerConfig, fit

    if mode == "compatible":
        config = VectorizerConfig.sklearn_compatible(ngram_range=ngram)
    else:  # "defaults", or "phrases": the defaults with phrase detection
        config = VectorizerConfig(ngram_range=ngram, phrases=mode == "phrases")
        if line_df is not None:
            config = dataclasses.replace(config, max_line_df=line_df)
    docs = [Document(str(i), text) for i, text in enumerate(corpus["train"])]
    t0 = time.perf_counter()
    out = fit(docs, config, NMFConfig(n_components=k))
    seconds = time.perf_counter() - t0
    m = out.model
    X_train = m.vectorizer.transform(corpus["train"])
    X_test = m.vectorizer.transform(corpus["test"])
    keeping = copy.copy(m.vectorizer)  # the same vectorizer, without boilerplate removal
    keeping.boilerplate, keeping._index = [], None
    X_raw = keeping.transform(corpus["train"])
    X_clean = m.vectorizer.transform(corpus["train_clean"])
    row = score(m.H, out.W, X_train, X_test, corpus["labels"], m.vocabulary, X_raw, X_clean)
    row.update(
        pipeline=f"topicnmf {mode}",
        seconds=seconds,
        removed=m.vectorizer.removed,
        boilerplate_lines=len(m.vectorizer.boilerplate),
        boilerplate_documents=m.vectorizer.boilerplate_documents,
    )
    return row


# --------------------------------------------------------------------------------- output


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| corpus | k | pipeline | NPMI | NPMI* | NPMI† | bp | div | NMI | junk | terms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['corpus']} | {r['k']} | {r['pipeline']} | {r['npmi']:.3f} | "
            f"{r['npmi_clean']:.3f} | {r['npmi_real']:.3f} | {r['n_boilerplate']} | "
            f"{r['diversity']:.3f} | {r['nmi']:.3f} | {r['n_junk']} | {r['n_terms']:,} |"
        )
    return lines


SUMMARIZED = ("npmi", "npmi_clean", "npmi_real", "n_boilerplate", "diversity", "nmi", "n_junk")


def runs_table(rows: list[dict[str, Any]]) -> list[str]:
    """Mean (standard deviation) of each figure over the runs of each corpus, k, pipeline."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["corpus"], r["k"], r["pipeline"]), []).append(r)
    lines = [
        "| corpus | k | pipeline | runs | NPMI | NPMI* | NPMI† | bp | div | NMI | junk |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (corpus, k, pipeline), group in groups.items():
        cells = []
        for key in SUMMARIZED:
            values = np.array([g[key] for g in group], dtype=float)
            digits = 1 if key.startswith("n_") else 3
            cells.append(f"{np.nanmean(values):.{digits}f} ({np.nanstd(values):.{digits}f})")
        lines.append(f"| {corpus} | {k} | {pipeline} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


def subsample(corpus: dict[str, Any], run: int, share: float) -> dict[str, Any]:
    """Run 0: the corpus; run r > 0: a seeded random ``share`` of its training documents
    (the same for every pipeline), the reference split unchanged."""
    if run == 0:
        return corpus
    n = len(corpus["train"])
    keep = np.sort(np.random.default_rng(run).choice(n, int(share * n), replace=False))
    out = dict(corpus)
    for key in ("train", "train_clean"):
        out[key] = [corpus[key][i] for i in keep.tolist()]
    out["labels"] = corpus["labels"][keep]
    return out


def topics_text(r: dict[str, Any]) -> list[str]:
    head = f"{r['corpus']}, k={r['k']}, {r['pipeline']}"
    out = [head, "-" * len(head)]
    for i, t in enumerate(r["topics"]):
        mark = " BOILERPLATE" if t["boilerplate"] else ""
        out.append(f"{i:3d} {t['npmi']:6.3f}{mark} {' '.join(t['terms'])}")
    if r["junk"]:
        out.append("junk: " + ", ".join(r["junk"]))
    if "removed" in r:
        out.append(
            "removed tokens: " + ", ".join(f"{k} {v:,}" for k, v in r["removed"].items())
            + f"; {r['boilerplate_lines']} boilerplate lines in "
            f"{r['boilerplate_documents']:,} documents"
        )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", choices=[*CORPORA, "all"])
    parser.add_argument("--ks", default="10,20,50")
    parser.add_argument(
        "--pipelines",
        default="scikit-learn,compatible,defaults",
        help="comma-separated, of scikit-learn, compatible, defaults, phrases",
    )
    parser.add_argument("--ngram-range", default="1,1", help="n-gram lengths of every pipeline")
    parser.add_argument(
        "--max-line-df", help="max_line_df of the defaults (a float share or an int count)"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="fits per pipeline and k: the whole training split, then seeded random "
        "samples of --sample of it; the table gives mean (sd) over them",
    )
    parser.add_argument("--sample", type=float, default=0.9, help="share of each sample")
    parser.add_argument("--markdown", help="also write the tables and topics here")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    low, high = (int(n) for n in args.ngram_range.split(","))
    line_df = args.max_line_df
    if line_df is not None:
        line_df = float(line_df) if "." in line_df else int(line_df)
    pipelines = args.pipelines.split(",")
    names = list(CORPORA) if args.corpus == "all" else [args.corpus]
    rows = []
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in names:
        corpus = CORPORA[name]()
        corpus["train_clean"] = clean_lines(corpus["train"])
        print(
            f"{corpus['name']}: {len(corpus['train']):,} training documents, "
            f"{len(corpus['test']):,} reference documents, {corpus['n_labels']} labels",
            flush=True,
        )
        for k, run, p in itertools.product(ks, range(args.runs), pipelines):
            sample = subsample(corpus, run, args.sample)
            if p == "scikit-learn":
                row = run_sklearn(sample, k, (low, high))
            else:
                row = run_topicnmf(sample, k, p, (low, high), line_df)
            row.update(corpus=corpus["name"], k=k, run=run)
            if (low, high) != (1, 1):
                row["pipeline"] += f" (ngram {low},{high})"
            if line_df is not None and p in ("defaults", "phrases"):
                row["pipeline"] += f" (max_line_df {line_df})"
            rows.append(row)
            with LOG.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(table([row])[-1], f"({row['seconds']:.1f} s)", flush=True)
    whole = [r for r in rows if r["run"] == 0]
    head = table(whole)
    if args.runs > 1:
        what = f"the whole split and {args.runs - 1} samples of {args.sample:.0%}"
        head += ["", f"Mean (sd) over {args.runs} runs ({what}):", "", *runs_table(rows)]
    topics = []
    for r in whole:
        topics += ["", *topics_text(r)]
    print("\n".join(head + ["", *topics]))
    if args.markdown:
        Path(args.markdown).write_text(
            "\n".join(head) + "\n\n```\n" + "\n".join(topics) + "\n```\n"
        )


if __name__ == "__main__":
    main()
