"""Shared helpers for the benchmarks: the 20 Newsgroups TF-IDF matrices, timing.

The matrices are built once with scikit-learn (``fetch_20newsgroups`` + ``TfidfVectorizer``)
from ``../shared/data/20news-bydate.tar.gz`` and cached under ``bench/results/`` (git-ignored),
so a second run starts in a second instead of half a minute.
"""

from __future__ import annotations

import codecs
import os
import pickle
import statistics
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = BENCH_DIR.parents[1] / "shared" / "data"
ARCHIVE = DATA_DIR / "20news-bydate.tar.gz"
MATRIX_CACHE = RESULTS_DIR / "20ng_tfidf.npz"


def _sklearn_data_home(tmp: Path) -> Path:
    """Lay out ``tmp`` the way ``fetch_20newsgroups`` expects after a download.

    With ``download_if_missing=False`` scikit-learn only reads its zipped-pickle cache
    (``20news-bydate_py3.pkz``), so we extract the archive and write that cache the way its
    downloader does (``load_files`` of each folder, latin-1), without touching the network.
    """
    from sklearn.datasets import load_files

    home = tmp / "20news_home"
    home.mkdir(parents=True, exist_ok=True)
    with tarfile.open(ARCHIVE, "r:gz") as archive:
        archive.extractall(home, filter="data")
    cache = {
        "train": load_files(home / "20news-bydate-train", encoding="latin1"),
        "test": load_files(home / "20news-bydate-test", encoding="latin1"),
    }
    (tmp / "20news-bydate_py3.pkz").write_bytes(codecs.encode(pickle.dumps(cache), "zlib_codec"))
    return tmp


def load_20ng() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Return the float64 TF-IDF matrices (train 11,314 rows, test 7,532 rows) of 20NG.

    ``TfidfVectorizer(max_df=0.95, min_df=2, stop_words='english')`` fitted on the train
    subset with headers, footers and quotes removed; test rows use the same vocabulary.
    """
    if MATRIX_CACHE.exists():
        with np.load(MATRIX_CACHE) as z:
            parts = []
            for name in ("train", "test"):
                parts.append(
                    sp.csr_matrix(
                        (z[f"{name}_data"], z[f"{name}_indices"], z[f"{name}_indptr"]),
                        shape=tuple(z[f"{name}_shape"]),
                    )
                )
            return parts[0], parts[1]
    if not ARCHIVE.exists():
        raise SystemExit(f"benchmark data not found: {ARCHIVE}")

    from sklearn.datasets import fetch_20newsgroups
    from sklearn.feature_extraction.text import TfidfVectorizer

    with tempfile.TemporaryDirectory() as tmp:
        home = _sklearn_data_home(Path(tmp))
        kwargs: dict[str, Any] = dict(
            remove=("headers", "footers", "quotes"), data_home=home, download_if_missing=False
        )
        train = fetch_20newsgroups(subset="train", **kwargs).data
        test = fetch_20newsgroups(subset="test", **kwargs).data
    vec = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
    V_train = sp.csr_matrix(vec.fit_transform(train))
    V_test = sp.csr_matrix(vec.transform(test))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, M in (("train", V_train), ("test", V_test)):
        arrays.update(
            {
                f"{name}_data": M.data,
                f"{name}_indices": M.indices,
                f"{name}_indptr": M.indptr,
                f"{name}_shape": np.array(M.shape),
            }
        )
    tmp_path = MATRIX_CACHE.with_suffix(".tmp.npz")
    np.savez(tmp_path, **arrays)
    os.replace(tmp_path, MATRIX_CACHE)
    return V_train, V_test


def median_time(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Run ``fn`` ``repeats`` times; return the median wall time and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result
