"""Scale benchmark: in-memory fit, ``fit --stream`` and the references on planted corpora.

    python bench/bench_scale.py [--sizes 10000,100000,1000000] [--cap 900] [--methods ...]

For each N it writes a planted-topic corpus (bench/planted.py, cached),
(in $TOPICNMF_BENCH_DATA, default /tmp/topicnmf-bench),
then runs each method in a child process under a time cap and prints wall time, peak RSS
of the child's process tree (sampled every 0.1 s from /proc) and the NMI between each
document's dominant topic and its planted label, k = 50. Methods are the functions in
METHODS (one per column, so a Dask backend adds one function); scikit-learn's MiniBatchNMF
and gensim's Nmf (the ``bench`` extra) run the same corpus. The figures are from a shared
2-core machine: compare ratios within one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("TOPICNMF_BENCH_DATA", "/tmp/topicnmf-bench"))
K = 50
MIN_DF, MAX_DF = 5, 0.5
TOPICNMF = [sys.executable, "-m", "topicnmf"]


def corpus(n: int) -> Path:
    path = DATA / f"planted-{n}.txt"
    if not (path.exists() and Path(str(path) + ".labels.npy").exists()):
        DATA.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(HERE))
        import planted

        planted.write(str(path), n, k=K)
    return path


def dominant_from_assign(model: Path, path: Path, work: Path) -> dict:
    """Dominant topics of every document by ``topicnmf assign`` (time and memory too)."""
    out = work / "assign.csv"
    stats = measure([*TOPICNMF, "assign", "-m", model, path, "--top-topics", "1", "-q",
                     "--format", "csv", "-o", out, "--batch-size", "8192"])  # fmt: skip
    import pandas as pd

    col = pd.read_csv(out, usecols=["rank1_topic"])["rank1_topic"]
    stats["dominant"] = col.fillna(-1).astype(int).to_numpy()
    return stats


# -- methods: each returns {"seconds", "peak_mb", "dominant"} or raises ------------------------


def method_memory(path: Path, work: Path, cap: float, extra: tuple = ()) -> dict:
    model = work / "memory.npz"
    args = [*TOPICNMF, "fit", path, "-k", K, "-m", model, "--min-df", MIN_DF, "--max-df",
            MAX_DF, "--doc-topics-out", work / "w.csv", "-q", "--format", "csv", "-o",
            os.devnull, *extra]  # fmt: skip
    stats = measure(args, cap)
    import pandas as pd

    w = pd.read_csv(work / "w.csv", usecols=["dominant_topic"])["dominant_topic"]
    stats["dominant"] = w.fillna(-1).astype(int).to_numpy()
    return stats


def method_stream(path: Path, work: Path, cap: float) -> dict:
    model = work / "stream.npz"
    args = [*TOPICNMF, "fit", path, "-k", K, "-m", model, "--min-df", MIN_DF, "--max-df",
            MAX_DF, "--stream", "-q", "--format", "csv", "-o", os.devnull]  # fmt: skip
    stats = measure(args, cap)
    assigned = dominant_from_assign(model, path, work)
    stats["dominant"] = assigned.pop("dominant")
    stats["assign"] = assigned
    return stats


def method_dask(path: Path, work: Path, cap: float) -> dict:
    """The in-memory fit on a Dask LocalCluster of 2 worker processes (the process tree's
    peak memory includes the workers)."""
    return method_memory(path, work, cap, ("--backend", "dask", "--workers", 2))


def method_sklearn(path: Path, work: Path, cap: float) -> dict:
    return measure([sys.executable, __file__, "--child", "sklearn", str(path)], cap, child=True)


def method_gensim(path: Path, work: Path, cap: float) -> dict:
    return measure([sys.executable, __file__, "--child", "gensim", str(path)], cap, child=True)


METHODS = {
    "memory": method_memory,
    "stream": method_stream,
    "dask": method_dask,
    "sklearn-minibatch": method_sklearn,
    "gensim": method_gensim,
}


# -- reference children: print the dominant topics as JSON on stdout ------------------------


def child_sklearn(path: str) -> np.ndarray:
    from sklearn.decomposition import MiniBatchNMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    with open(path, encoding="utf-8") as fh:
        V = TfidfVectorizer(min_df=MIN_DF, max_df=MAX_DF, dtype=np.float32).fit_transform(fh)
    W = MiniBatchNMF(K, batch_size=4096, random_state=0, max_iter=20).fit_transform(V)
    return W.argmax(axis=1)


def child_gensim(path: str) -> np.ndarray:
    from gensim.corpora import Dictionary
    from gensim.models import TfidfModel
    from gensim.models.nmf import Nmf
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    def docs():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield [w for w in line.split() if w not in ENGLISH_STOP_WORDS]

    vocab = Dictionary(docs())
    n = vocab.num_docs
    vocab.filter_extremes(no_below=MIN_DF, no_above=MAX_DF, keep_n=None)
    tfidf = TfidfModel(dictionary=vocab)

    class Bows:
        def __iter__(self):
            return (tfidf[vocab.doc2bow(d)] for d in docs())

    model = Nmf(Bows(), num_topics=K, id2word=vocab, chunksize=4096, passes=1, random_state=0)
    out = np.full(n, -1)
    for i, bow in enumerate(Bows()):
        topics = model.get_document_topics(bow, minimum_probability=0.0)
        if topics:
            out[i] = max(topics, key=lambda t: t[1])[0]
    return out


# -- measuring ----------------------------------------------------------------------------


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(args: list, cap: float = 3600, child: bool = False) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE if child else None)
    peak = 0
    out = b""
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        if time.perf_counter() - t0 > cap:
            proc.kill()
            proc.wait()
            raise TimeoutError(f"over the {cap:.0f} s cap")
        time.sleep(0.1)
    if child:
        out = proc.stdout.read()
    if proc.returncode:
        raise RuntimeError(f"exit {proc.returncode}")
    stats = {"seconds": time.perf_counter() - t0, "peak_mb": peak / 2**20}
    if child:
        stats["dominant"] = np.array(json.loads(out))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--cap", type=float, default=900)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        which, path = args.child
        dominant = (child_sklearn if which == "sklearn" else child_gensim)(path)
        print(json.dumps(dominant.tolist()))
        return
    from sklearn.metrics import normalized_mutual_info_score as nmi

    print(f"k = {K}, min_df = {MIN_DF}, max_df = {MAX_DF}; cap {args.cap:.0f} s; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")  # fmt: skip
    print(f"{'N':>9} {'method':<18} {'seconds':>9} {'peak MB':>9} {'NMI':>7}  notes", flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        path = corpus(n)
        labels = np.load(str(path) + ".labels.npy")
        work = DATA / f"work-{n}"
        work.mkdir(exist_ok=True)
        for name in args.methods.split(","):
            try:
                r = METHODS[name](path, work, args.cap)
            except Exception as exc:  # a reference that fails or runs out of time: say so
                print(f"{n:>9} {name:<18} {'-':>9} {'-':>9} {'-':>7}  {exc}", flush=True)
                continue
            score = nmi(labels, r["dominant"])
            note = ""
            if "assign" in r:
                a = r["assign"]
                note = f"assign: {a['seconds']:.1f} s, {a['peak_mb']:.0f} MB"
            print(f"{n:>9} {name:<18} {r['seconds']:>9.1f} {r['peak_mb']:>9.0f} {score:>7.3f}  "
                  f"{note} (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
