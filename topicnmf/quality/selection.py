"""select-k: fit a model for each candidate k, score it, and recommend one.

Stability (Greene, O'Callaghan & Cunningham 2014)
    For each ``k``, a reference model is fitted on all documents and ``runs`` models on random
    subsamples (``sample_fraction`` of the documents, without replacement). Each subsample
    model's topics are matched one-to-one to the reference topics by the Hungarian algorithm
    maximizing the Average Jaccard similarity of their ranked top ``N`` term lists; the
    agreement is the mean similarity of the matched pairs and the stability the mean agreement
    over runs (1 = every subsample finds the same ranked top terms).
"""

from __future__ import annotations

import dataclasses
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from topicnmf.config import _is_int, available_cores
from topicnmf.errors import CollapseWarning, ConvergenceWarning, ParameterError
from topicnmf.quality._common import check_top_n, plain
from topicnmf.quality.compare import ranking_agreement
from topicnmf.quality.metrics import relative_error, top_term_indices, topic_diversity, topic_npmi

if TYPE_CHECKING:  # pragma: no cover - imported lazily at run time
    from topicnmf.config import NMFConfig

__all__ = [
    "MAX_K",
    "MAX_K_CANDIDATES",
    "RECOMMENDATION_RULE",
    "STABILITY_DEFINITION",
    "SelectKProgress",
    "SelectKResult",
    "SelectKRow",
    "parse_k_spec",
    "recommend_k",
    "select_k",
]

STABILITY_DEFINITION = (
    "Stability: models fitted on random subsamples of the documents are compared with the "
    "model fitted on all of them; topics are matched by the Hungarian algorithm on the "
    "Average Jaccard similarity of their ranked top N terms, and the score is the mean "
    "similarity of matched topics over all subsamples (1 = identical top terms)."
)

RECOMMENDATION_RULE = (
    "Recommended k: among the k whose stability is within the tolerance of the highest "
    "stability, the one with the highest mean NPMI (ties: the smaller k). Without stability "
    "runs, the k with the highest mean NPMI."
)

# Bounds on the candidates, checked before anything is built: a range such as 1:1000000 is
# refused at once rather than making a million fits.
MAX_K_CANDIDATES = 100
MAX_K = 100_000


@dataclass(frozen=True)
class SelectKProgress:
    """Progress report passed to :func:`select_k`'s callback after each fitted model.

    Attributes
    ----------
    done, total : int
        Models fitted so far and in all (``len(ks) * (runs + 1)``).
    k : int
        Number of topics of the model just fitted.
    run : int
        0 for the reference model on all documents, 1..runs for subsample models.
    seconds : float
        Wall-clock time of that fit.
    """

    done: int
    total: int
    k: int
    run: int
    seconds: float


@dataclass(frozen=True)
class SelectKRow:
    """Figures for one candidate k (one row of the select-k table).

    Attributes
    ----------
    k : int
        Number of topics.
    npmi : float
        Mean NPMI of the reference model's top terms on the corpus itself.
    diversity : float
        Topic diversity of the reference model.
    relative_error : float
        Relative reconstruction error of the reference model.
    stability : float or None
        Mean agreement of the subsample models with the reference model; None if runs = 0.
    stability_std : float or None
        Standard deviation of that agreement over runs; None if runs = 0.
    n_iter : int
        Iterations of the reference fit.
    converged : bool
        Whether every fit for this k (reference and subsamples) converged.
    seconds : float
        Total fitting time for this k, summed over its fits.
    top_terms : list of list of str, or None
        The reference model's top terms per topic, when a vocabulary was given.
    """

    k: int
    npmi: float
    diversity: float
    relative_error: float
    stability: float | None
    stability_std: float | None
    n_iter: int
    converged: bool
    seconds: float
    top_terms: list[list[str]] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SelectKResult:
    """Result of :func:`select_k`.

    Attributes
    ----------
    rows : list of SelectKRow
        One per candidate k, in increasing k.
    recommended_k : int
        The k chosen by :data:`RECOMMENDATION_RULE`.
    reason : str
        One sentence saying why that k was chosen.
    top_n, runs, sample_fraction, seed, tolerance
        The settings used.
    """

    rows: list[SelectKRow]
    recommended_k: int
    reason: str
    top_n: int
    runs: int
    sample_fraction: float
    seed: int
    tolerance: float

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """Return plain Python types ready for ``json.dumps``.

        Parameters
        ----------
        timings : bool, default False
            Keep each row's ``seconds``. Left out by default so that the same command on the
            same input gives the same output, byte for byte.
        """
        out = plain(dataclasses.asdict(self))
        if not timings:
            for row in out["rows"]:
                row.pop("seconds", None)
        return out


# ---------------------------------------------------------------------------------------------
# k specifications
# ---------------------------------------------------------------------------------------------

_K_SPEC_HELP = "use START:STOP:STEP (e.g. 5:50:5, STOP included), START:STOP, or a list (10,20,30)"


def parse_k_spec(spec: str) -> list[int]:
    """Parse a list of candidate numbers of topics.

    Parameters
    ----------
    spec : str
        ``"START:STOP:STEP"`` (STOP included when the steps reach it: ``"5:50:5"`` gives
        5, 10, ..., 50), ``"START:STOP"`` (step 1), a comma-separated list ``"10,20,30"``,
        or one number. Spaces are ignored.

    Returns
    -------
    list of int
        The distinct values in increasing order; each in [2, :data:`MAX_K`], at most
        :data:`MAX_K_CANDIDATES` of them.

    Raises
    ------
    ParameterError
        (``param="ks"``) On anything else: empty parts, non-integers, k < 2 or > MAX_K, a
        step < 1, START > STOP, more than MAX_K_CANDIDATES values. A range is counted before
        it is expanded, so a huge one costs nothing.
    """
    if not isinstance(spec, str):
        raise ParameterError(f"invalid k specification {spec!r}: {_K_SPEC_HELP}", param="ks")
    text = re.sub(r"\s+", "", spec)

    def bad(why: str) -> ParameterError:
        return ParameterError(
            f"invalid k specification {spec!r}: {why}; {_K_SPEC_HELP}", param="ks", value=spec
        )

    def number(part: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", part):
            raise bad(f"{part!r} is not a whole number" if part else "a number is missing")
        if len(part.lstrip("+-").lstrip("0")) > 12:  # never convert a huge literal
            raise bad(f"k must be at most {MAX_K:,}, got {part[:20]}...")
        return int(part)

    if not text:
        raise bad("it is empty")
    if ":" in text and "," in text:
        raise bad("mixes a range and a list")
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3:
            raise bad("a range has at most three parts")
        start, stop = number(parts[0]), number(parts[1])
        step = number(parts[2]) if len(parts) == 3 else 1
        if step < 1:
            raise bad(f"the step must be at least 1, got {step}")
        if start > stop:
            raise bad(f"the start {start} is larger than the stop {stop}")
        count = (stop - start) // step + 1
        if count > MAX_K_CANDIDATES:
            raise bad(f"it gives {count:,} values of k; at most {MAX_K_CANDIDATES} are allowed")
        values = list(range(start, stop + 1, step))
    else:
        parts = text.split(",")
        if len(parts) > MAX_K_CANDIDATES:
            raise bad(f"it lists {len(parts):,} values; at most {MAX_K_CANDIDATES} are allowed")
        values = [number(p) for p in parts]
    if min(values) < 2:
        raise bad(f"k must be at least 2, got {min(values)}")
    if max(values) > MAX_K:
        raise bad(f"k must be at most {MAX_K:,}, got {max(values)}")
    return sorted(set(values))


def _check_ks(ks: Sequence[int]) -> list[int]:
    ks = list(ks)
    if not ks:
        raise ParameterError("no candidate k given", param="ks")
    if len(ks) > MAX_K_CANDIDATES:
        raise ParameterError(
            f"{len(ks):,} candidate values of k; at most {MAX_K_CANDIDATES} are allowed",
            param="ks",
        )
    for k in ks:
        if not _is_int(k) or not 2 <= k <= MAX_K:
            raise ParameterError(
                f"every candidate k must be an integer in [2, {MAX_K:,}], got {k!r}", param="ks"
            )
    if len(set(ks)) != len(ks):
        raise ParameterError(f"candidate k values are repeated: {ks}", param="ks")
    return sorted(int(k) for k in ks)


# ---------------------------------------------------------------------------------------------
# Recommendation
# ---------------------------------------------------------------------------------------------


def recommend_k(rows: Sequence[SelectKRow], tolerance: float = 0.02) -> tuple[int, str]:
    """Choose k from select-k rows by :data:`RECOMMENDATION_RULE` and say why.

    Parameters
    ----------
    rows : sequence of SelectKRow
        One per candidate k.
    tolerance : float, default 0.02
        How far below the highest stability a k may be and still be a candidate (absolute).

    Returns
    -------
    k : int
        The recommended number of topics.
    reason : str
        One sentence with the figures that decided.
    """
    if not rows:
        raise ParameterError("no candidate k to choose from", param="ks")
    if tolerance < 0:
        raise ParameterError(f"tolerance must be at least 0, got {tolerance!r}", param="tolerance")
    by_k = sorted(rows, key=lambda r: r.k)

    def best_npmi(candidates: list[SelectKRow]) -> SelectKRow:
        # Highest NPMI; on equal NPMI the smaller k (the list is in increasing k).
        return max(candidates, key=lambda r: (r.npmi, -r.k))

    if any(r.stability is None for r in by_k):
        choice = best_npmi(by_k)
        if len(by_k) == 1:
            return choice.k, f"k={choice.k} is the only candidate (stability not computed)."
        return choice.k, (
            f"k={choice.k} has the highest mean NPMI ({choice.npmi:.3f}); "
            "stability was not computed (runs=0)."
        )
    top = max(r.stability for r in by_k)  # type: ignore[type-var]
    top_row = next(r for r in by_k if r.stability == top)
    candidates = [r for r in by_k if r.stability >= top - tolerance - 1e-12]  # type: ignore[operator]
    choice = best_npmi(candidates)
    if len(by_k) == 1:
        return choice.k, (
            f"k={choice.k} is the only candidate (stability {choice.stability:.3f}, "
            f"mean NPMI {choice.npmi:.3f})."
        )
    if len(candidates) == 1:
        others = [r for r in by_k if r is not choice]
        runner = max(others, key=lambda r: (r.stability, -r.k))
        return choice.k, (
            f"k={choice.k} has the highest stability ({choice.stability:.3f}); the next best is "
            f"k={runner.k} ({runner.stability:.3f}), more than {tolerance:g} lower."
        )
    ks = ", ".join(str(r.k) for r in candidates)
    if choice is top_row:
        return choice.k, (
            f"k={choice.k} has the highest stability ({choice.stability:.3f}) and the highest "
            f"mean NPMI ({choice.npmi:.3f}) among the k within {tolerance:g} of it ({ks})."
        )
    return choice.k, (
        f"k={choice.k} has the highest mean NPMI ({choice.npmi:.3f}) among the k whose "
        f"stability is within {tolerance:g} of the highest ({top:.3f} at k={top_row.k}): {ks}."
    )


# ---------------------------------------------------------------------------------------------
# Fitting the candidates
# ---------------------------------------------------------------------------------------------

# Matrix shared with worker processes (set once per worker by the pool's initializer).
_WORKER_V: Any = None


def _init_worker(V: Any) -> None:
    global _WORKER_V
    _WORKER_V = V


def _subsample_rows(n_docs: int, fraction: float, seed: int, k: int, run: int) -> np.ndarray:
    """Rows of subsample ``run`` for ``k``: a function of (seed, k, run) only."""
    rng = np.random.default_rng([seed, k, run])
    size = max(1, int(round(fraction * n_docs)))
    return np.sort(rng.choice(n_docs, size=size, replace=False))


def _run_seed(seed: int, k: int, run: int) -> int:
    """NMF seed of a subsample fit (matters for random init); the reference fit uses ``seed``."""
    if run == 0:
        return seed
    return int(np.random.default_rng([seed, k, run, 1]).integers(0, 2**31 - 1))


def _fit_task(
    V: Any,
    config: NMFConfig,
    k: int,
    run: int,
    seed: int,
    fraction: float,
    top_n: int,
    n_threads: int | None,
) -> dict[str, Any]:
    """Fit one model of select-k and return only what the table needs (small to pickle).

    The engine's warnings are caught here (a worker process has no one to show them to) and
    returned, so that select_k can say once what happened to how many fits.
    """
    from topicnmf.nmf import fit_nmf

    if V is None:
        V = _WORKER_V
    cfg = dataclasses.replace(config, n_components=k, seed=_run_seed(seed, k, run))
    X = V if run == 0 else V[_subsample_rows(V.shape[0], fraction, seed, k, run)]
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit_nmf(X, cfg, n_threads=n_threads)
    seconds = time.perf_counter() - start
    top = top_term_indices(result.H, top_n)
    out: dict[str, Any] = {
        "k": k,
        "run": run,
        "top": top,
        "n_iter": int(result.n_iter),
        "converged": bool(result.converged),
        "collapsed": [str(w.message) for w in caught if issubclass(w.category, CollapseWarning)],
        "seconds": seconds,
    }
    if run == 0:
        out["npmi"] = float(np.mean(topic_npmi(top, V)))
        out["diversity"] = topic_diversity(top)
        out["relative_error"] = relative_error(V, result.W, result.H)
    return out


def select_k(
    V: Any,
    ks: Sequence[int],
    *,
    nmf_config: NMFConfig | None = None,
    vocabulary: Sequence[str] | None = None,
    top_n: int = 10,
    runs: int = 5,
    sample_fraction: float = 0.8,
    seed: int = 0,
    tolerance: float = 0.02,
    jobs: int = 1,
    n_threads: int | None = None,
    callback: Callable[[SelectKProgress], None] | None = None,
    runner: Callable[..., Iterable[dict[str, Any]]] | None = None,
) -> SelectKResult:
    """Fit a model for each candidate k and measure coherence, diversity, fit and stability.

    For each k: a reference model on all documents (with ``seed``, so it is the model that
    ``fit`` would give), scored by mean NPMI on ``V`` itself, topic diversity and relative
    reconstruction error; and ``runs`` models on random subsamples of ``sample_fraction`` of
    the documents, whose agreement with the reference gives the stability (see the module
    docstring). Each subsample and its NMF seed depend only on ``(seed, k, run)`` and every
    fit uses ``n_threads`` threads, so the result does not depend on ``jobs`` or on the order
    in which fits finish.

    Parameters
    ----------
    V : sparse matrix of shape (n_documents, n_terms)
        The corpus vectorized once (e.g. ``Vectorizer(config).fit_transform(texts)``).
    ks : sequence of int
        Candidate numbers of topics (see :func:`parse_k_spec`); each in [2, MAX_K], at most
        MAX_K_CANDIDATES of them.
    nmf_config : NMFConfig, optional
        NMF settings; ``n_components`` and ``seed`` are replaced per fit. Default: the engine's
        defaults.
    vocabulary : sequence of str, optional
        Term strings in column order, to report each k's top terms.
    top_n : int, default 10
        Top terms per topic for NPMI, diversity and stability.
    runs : int, default 5
        Subsample models per k; 0 skips stability (the recommendation then uses NPMI alone).
    sample_fraction : float, default 0.8
        Share of documents in each subsample, in (0, 1).
    seed : int, default 0
        Seed of the reference fits, and root of the subsample seeds.
    tolerance : float, default 0.02
        See :func:`recommend_k`.
    jobs : int, default 1
        Worker processes fitting models in parallel.
    n_threads : int, optional
        Threads per fit, the same for every fit whatever ``jobs`` is. Default 1: the fits
        are many and short, so running them side by side (``jobs``) uses the cores better.
    callback : callable, optional
        Called in the calling process with a :class:`SelectKProgress` after every fit.
    runner : callable, optional
        ``runner(fn, V, tasks)`` runs ``fn(V, *task)`` for every task elsewhere (e.g. on a
        Dask cluster, ``topicnmf.backends``) and yields the results in any order; ``jobs``
        is then unused.

    Returns
    -------
    SelectKResult

    Warns
    -----
    ConvergenceWarning, CollapseWarning
        Once each, saying how many fits (for which k) stopped at ``max_iter`` or left
        topics empty.
    """
    V = sp.csr_matrix(V if sp.issparse(V) else np.asarray(V))
    ks = _check_ks(ks)
    _check_settings(V, ks, vocabulary, top_n, runs, jobs, sample_fraction, tolerance)
    if nmf_config is None:
        from topicnmf.config import NMFConfig

        nmf_config = NMFConfig(n_components=ks[0])
    # Not tied to jobs: a different thread count may change results in the last digits.
    per_fit_threads = 1 if n_threads is None else n_threads
    tasks = [(k, run) for k in ks for run in range(runs + 1)]
    args = (seed, float(sample_fraction), int(top_n), per_fit_threads)
    results = _run_fits(V, nmf_config, tasks, args, jobs, callback, runner)
    _warn_about_fits(results, nmf_config)
    rows = [_row(k, runs, results, vocabulary) for k in ks]
    best, reason = recommend_k(rows, tolerance)
    return SelectKResult(
        rows=rows,
        recommended_k=best,
        reason=reason,
        top_n=int(top_n),
        runs=int(runs),
        sample_fraction=float(sample_fraction),
        seed=int(seed),
        tolerance=float(tolerance),
    )


def _check_settings(
    V: sp.csr_matrix,
    ks: list[int],
    vocabulary: Sequence[str] | None,
    top_n: int,
    runs: int,
    jobs: int,
    sample_fraction: float,
    tolerance: float,
) -> None:
    n_docs, n_terms = V.shape
    for name, value, low in (("runs", runs, 0), ("jobs", jobs, 1)):
        if not _is_int(value) or value < low:
            raise ParameterError(
                f"{name} must be an integer of at least {low}, got {value!r}",
                param="n_jobs" if name == "jobs" else name,
            )
    if not (0.0 < float(sample_fraction) < 1.0):
        raise ParameterError(
            f"sample_fraction must be between 0 and 1, got {sample_fraction!r}",
            param="sample_fraction",
        )
    if tolerance < 0:
        raise ParameterError(f"tolerance must be at least 0, got {tolerance!r}", param="tolerance")
    if vocabulary is not None and len(vocabulary) != n_terms:
        raise ParameterError(f"vocabulary has {len(vocabulary)} terms but V has {n_terms} columns")
    check_top_n(top_n, n_terms)
    n_rows_fit = n_docs if runs == 0 else max(1, int(round(sample_fraction * n_docs)))
    limit = min(n_rows_fit, n_terms)
    if ks[-1] > limit:
        raise ParameterError(
            f"k={ks[-1]} is too large: a model can have at most {limit} topics here "
            f"({n_docs} documents{', subsamples of ' + str(n_rows_fit) if runs else ''}, "
            f"{n_terms} terms)",
            param="ks",
        )


def _run_fits(
    V: sp.csr_matrix,
    config: NMFConfig,
    tasks: list[tuple[int, int]],
    args: tuple[int, float, int, int],
    jobs: int,
    callback: Callable[[SelectKProgress], None] | None,
    runner: Callable[..., Iterable[dict[str, Any]]] | None = None,
) -> dict[tuple[int, int], dict[str, Any]]:
    """Run every (k, run) fit, in this process or in ``jobs`` worker processes."""
    results: dict[tuple[int, int], dict[str, Any]] = {}

    def record(out: dict[str, Any]) -> None:
        results[(out["k"], out["run"])] = out
        if callback is not None:
            done = SelectKProgress(len(results), len(tasks), out["k"], out["run"], out["seconds"])
            callback(done)

    if runner is not None:
        for out in runner(_fit_task, V, [(config, k, run, *args) for k, run in tasks]):
            record(out)
        return results
    if jobs == 1:
        for k, run in tasks:
            record(_fit_task(V, config, k, run, *args))
        return results
    workers = max(1, min(jobs, len(tasks), available_cores()))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(V,)) as pool:
        pending: set[Future[dict[str, Any]]] = {
            pool.submit(_fit_task, None, config, k, run, *args) for k, run in tasks
        }
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    record(fut.result())
        except BaseException:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def _warn_about_fits(results: dict[tuple[int, int], dict[str, Any]], config: NMFConfig) -> None:
    """One warning for the fits that hit max_iter, one for those that left topics empty."""
    fits = [results[key] for key in sorted(results)]
    unconverged = [f for f in fits if not f["converged"]]
    if unconverged:
        ks = ", ".join(str(k) for k in sorted({f["k"] for f in unconverged}))
        warnings.warn(
            f"{len(unconverged)} of {len(fits)} fits (k = {ks}) stopped at the iteration limit "
            f"(max_iter={config.max_iter}) before their stopping rule was met "
            f"(tol={config.tol:g}); their figures are usable, more iterations would settle them",
            ConvergenceWarning,
            stacklevel=3,
        )
    collapsed = [f for f in fits if f["collapsed"]]
    if collapsed:
        ks = ", ".join(str(k) for k in sorted({f["k"] for f in collapsed}))
        warnings.warn(
            f"{len(collapsed)} of {len(fits)} fits (k = {ks}) left topics empty; the first: "
            + collapsed[0]["collapsed"][0],
            CollapseWarning,
            stacklevel=3,
        )


def _row(
    k: int,
    runs: int,
    results: dict[tuple[int, int], dict[str, Any]],
    vocabulary: Sequence[str] | None,
) -> SelectKRow:
    ref = results[(k, 0)]
    agreements = [ranking_agreement(ref["top"], results[(k, r)]["top"]) for r in range(1, runs + 1)]
    fits = [results[(k, r)] for r in range(runs + 1)]
    return SelectKRow(
        k=k,
        npmi=ref["npmi"],
        diversity=ref["diversity"],
        relative_error=ref["relative_error"],
        stability=float(np.mean(agreements)) if agreements else None,
        stability_std=float(np.std(agreements)) if agreements else None,
        n_iter=ref["n_iter"],
        converged=all(f["converged"] for f in fits),
        seconds=float(sum(f["seconds"] for f in fits)),
        top_terms=None
        if vocabulary is None
        else [[str(vocabulary[i]) for i in topic] for topic in ref["top"]],
    )
