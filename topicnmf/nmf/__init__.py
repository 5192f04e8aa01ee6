"""The NMF engine: initialization, solvers, stopping rule and ``transform``.

V (n_samples x n_features, sparse, non-negative) is approximated by W @ H with W, H >= 0.
Two losses, with scikit-learn's definitions so that results compare one for one:

* ``"frobenius"``: 0.5 * ||V - WH||_F^2
* ``"kl"``: the generalized Kullback-Leibler divergence sum(V log(V / WH) - V + WH)

plus the penalties alpha_W * l1_ratio * n_features * ||W||_1
+ 0.5 * alpha_W * (1 - l1_ratio) * n_features * ||W||_F^2, and the same for H with alpha_H and
n_samples (scikit-learn >= 1.2). The initializations are scikit-learn's too.

Modules
-------
``_init``       random and NNDSVD starts; the exact and the randomized truncated SVD
``_kmeans``     the k-means start: spherical k-means centroids as H
``_guided``     seed terms that start and pull the first topics (guided topics)
``_anls``       Frobenius ``anls``: exact alternating NNLS by block principal pivoting
``_hals``       Frobenius ``cd``: HALS with extrapolation (Ang & Gillis 2019)
``_mu``         ``mu``: multiplicative updates for both losses (numpy only)
``_kl_cd``      KL ``cd``: Newton coordinate descent (Hsieh & Dhillon 2011) ...
``_kernels``    ... whose loops are compiled with numba (optional), as scikit-learn keeps its
                kernel in ``_cdnmf_fast.pyx``
``_transform``  W for a fixed H, row by row
``_sparse``     products with V and V^T on a thread pool
``_loss``       losses, penalties and the stopping rule
``_validation`` checks of the inputs

The stopping rule (``_loss.Progress``): with L_t the objective after iteration t and L*_t the
best so far, a fit stops after t >= 5 when (L*_{t-5} - L*_t) / 5 <= tol * (L_0 - L*_t).
Reaching ``max_iter`` first returns ``converged=False`` and warns (ConvergenceWarning).

``transform`` minimizes the loss (and W's penalty) over W >= 0 with H fixed, each row on its
own with its own stopping test, in operations whose result for a row does not depend on the
other rows: the same rows give the same bits whatever the batch and the number of threads.
``fit_nmf`` returns ``W = transform(V, H)``, so transforming the training matrix gives fit's W.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from topicnmf.config import INITS, LOSSES, SOLVERS, NMFConfig
from topicnmf.errors import CollapseWarning, ConvergenceWarning, ParameterError
from topicnmf.nmf._anls import fit_anls
from topicnmf.nmf._guided import Guidance, Guide, guided_start
from topicnmf.nmf._hals import fit_hals
from topicnmf.nmf._init import initialize_on
from topicnmf.nmf._kl_cd import fit_cd_kl
from topicnmf.nmf._loss import (
    frobenius_loss,
    kl_divergence,
    objective,
    objective_on,
    reconstruction_error,
)
from topicnmf.nmf._mu import fit_mu_frobenius, fit_mu_kl
from topicnmf.nmf._sparse import SparseOps
from topicnmf.nmf._transform import transform_on
from topicnmf.nmf._validation import check_components, check_matrix, check_threads

__all__ = [
    "INITS",
    "LOSSES",
    "Guidance",
    "SOLVERS",
    "NMFConfig",
    "NMFResult",
    "check_guided_config",
    "fit_nmf",
    "frobenius_loss",
    "initialize",
    "kl_divergence",
    "objective",
    "reconstruction_error",
    "transform",
]


@dataclass
class NMFResult:
    """What :func:`fit_nmf` returns.

    Attributes
    ----------
    W : ndarray of shape (n_samples, n_components)
        Document-topic weights, ``transform(V, H, config)``.
    H : ndarray of shape (n_components, n_features)
        Topic-term weights.
    n_iter : int
        Outer iterations run.
    loss : float
        Objective (loss + penalties) of the returned W and H.
    converged : bool
        False when the run stopped at ``max_iter`` before the stopping rule was met.
    seconds : float
        Wall time of the fit, initialization and final ``transform`` included.
    loss_history : list of float
        Objective at the initialization, then after each iteration (n_iter + 1 values).
    """

    W: np.ndarray
    H: np.ndarray
    n_iter: int
    loss: float
    converged: bool
    seconds: float
    loss_history: list[float] = field(default_factory=list)


def fit_nmf(
    V: Any,
    config: NMFConfig,
    *,
    n_threads: int | None = None,
    callback: Callable[[int, float], None] | None = None,
    guidance: Guidance | None = None,
) -> NMFResult:
    """Factorize V ~ W @ H with W, H >= 0.

    Parameters
    ----------
    V : sparse matrix or array-like of shape (n_samples, n_features)
        Non-negative, finite data (a TF-IDF matrix). Converted to CSR in ``config.dtype``.
    config : NMFConfig
        The settings.
    n_threads : int, optional
        Threads for the sparse products; default: the CPUs this process may use. The
        result does not depend on it beyond floating-point rounding.
    callback : callable, optional
        ``callback(iteration, objective)`` after each iteration, e.g. for a progress bar.
    guidance : Guidance, optional
        Seed terms for the first topics: they start from the seeds' profiles and are
        pulled towards them (see ``topicnmf.nmf._guided``). Frobenius loss, solver "cd" or
        "anls". The returned ``loss`` does not include the pull.

    Returns
    -------
    NMFResult

    Raises
    ------
    ParameterError
        A bad setting, or V negative, not finite, empty or not 2-D.

    Warns
    -----
    ConvergenceWarning
        ``max_iter`` was reached before the stopping rule was met (``converged`` is False).
    CollapseWarning
        Every weight of W is zero, or some topics are empty (typically a penalty too strong
        for the matrix: see the message).
    """
    start = time.perf_counter()
    X = check_matrix(V, np.dtype(config.dtype))
    config.validate(X.shape)
    if X.nnz == 0:
        raise ParameterError("V has no non-zero value; there is nothing to factorize.")
    if config.solver == "cd" and config.loss == "kl" and importlib.util.find_spec("numba") is None:
        raise ParameterError(
            "solver 'cd' with loss 'kl' needs the numba package, which is not installed "
            "(pip install numba); solver 'mu' works without it.",
            param="solver",
        )
    if guidance is not None:
        _check_guidance(guidance, config, X.shape[1])
    threads = check_threads(n_threads)
    with threadpool_limits(limits=1, user_api="blas"), SparseOps(X, threads) as ops:
        W, H = initialize_on(ops, config)
        solver = _SOLVERS[config.solver, config.loss]
        if guidance is None:
            H, n_iter, history, converged = solver(ops, W, H, config, callback)
        else:
            _, H = guided_start(ops, W, H, guidance)
            W = transform_on(ops, H, config)
            guide = Guide(guidance, ops, H)
            H, n_iter, history, converged = solver(ops, W, H, config, callback, guide)
        # The returned W is the exact best response to H, computed by the same code path
        # that `transform` uses, so transforming the training matrix gives W back.
        W = transform_on(ops, H, config)
        loss = objective_on(ops, W, H, config)
    if not converged:
        warnings.warn(
            f"NMF stopped at the iteration limit (max_iter={config.max_iter}) before its "
            f"stopping rule was met (tol={config.tol:g}); the result is usable, and more "
            "iterations would settle it",
            ConvergenceWarning,
            stacklevel=2,
        )
    _warn_if_collapsed(W, H, config)
    return NMFResult(
        W=W,
        H=H,
        n_iter=n_iter,
        loss=loss,
        converged=converged,
        seconds=time.perf_counter() - start,
        loss_history=history,
    )


_SOLVERS = {
    ("cd", "frobenius"): fit_hals,
    ("cd", "kl"): fit_cd_kl,
    ("mu", "frobenius"): fit_mu_frobenius,
    ("mu", "kl"): fit_mu_kl,
    ("anls", "frobenius"): fit_anls,
}


def _check_guidance(guidance: Guidance, config: NMFConfig, n_features: int) -> None:
    check_guided_config(config)
    guidance.validate(config.n_components, n_features)


def check_guided_config(config: NMFConfig) -> None:
    """Raise ParameterError unless ``config`` can fit guided topics (Frobenius, cd or anls)."""
    if config.loss != "frobenius" or config.solver not in ("cd", "anls"):
        raise ParameterError(
            "seed topics need the frobenius loss and solver 'cd' or 'anls'; got loss "
            f"{config.loss!r} and solver {config.solver!r}",
            param="solver",
            value=config.solver,
        )


def _warn_if_collapsed(W: np.ndarray, H: np.ndarray, config: NMFConfig) -> None:
    """Warn when the fit explains nothing (W = 0) or some topics came out empty."""
    n_empty = int((~(W.any(axis=0) & H.any(axis=1))).sum())
    if n_empty == 0:
        return
    if not W.any():
        what = (
            "NMF collapsed: every document-topic weight is 0, so the model explains nothing "
            "(relative reconstruction error 1)"
        )
    else:
        what = f"NMF left {n_empty} of {config.n_components} topics empty (no weight anywhere)"
    why = _penalty_explanation(config, W.shape[0], H.shape[1])
    warnings.warn(what + (f"; {why}" if why else ""), CollapseWarning, stacklevel=3)


def _penalty_explanation(config: NMFConfig, n_samples: int, n_features: int) -> str:
    """Why a penalty can empty the factors: its strength grows with the matrix size."""
    l1_W, l2_W, l1_H, l2_H = config.penalties(n_samples, n_features)
    if not (l1_W or l2_W or l1_H or l2_H):
        return ""
    alpha_H = config.alpha_W if config.alpha_H == "same" else config.alpha_H
    parts = [
        f"{kind} {value:.3g} on {side}"
        for kind, value, side in (("L1", l1_W, "W"), ("L2", l2_W, "W"), ("L1", l1_H, "H"))
        + (("L2", l2_H, "H"),)
        if value
    ]
    return (
        "the penalties grow with the matrix, as in scikit-learn: alpha_W is multiplied by "
        f"n_features ({n_features:,}) and alpha_H by n_samples ({n_samples:,}), so "
        f"alpha_W={config.alpha_W:g}, alpha_H={alpha_H:g}, l1_ratio={config.l1_ratio:g} give "
        f"penalties {', '.join(parts)}; use a much smaller alpha_W"
        + (" and alpha_H" if config.alpha_H != "same" and alpha_H else "")
    )


def transform(
    V: Any, H: np.ndarray, config: NMFConfig, *, n_threads: int | None = None
) -> np.ndarray:
    """Return the W >= 0 that minimizes the loss (and W's penalty) for V with H fixed.

    Each row is solved on its own, with its own stopping test, by operations whose result
    for a row does not depend on the other rows: splitting V into batches, or changing
    ``n_threads``, gives the same rows bit for bit.

    Parameters
    ----------
    V : sparse matrix or array-like of shape (n_samples, n_features)
        Non-negative, finite data with H's columns (the same vocabulary).
    H : ndarray of shape (n_components, n_features)
        Fitted topic-term matrix.
    config : NMFConfig
        The fit's settings: loss, alpha_W, l1_ratio and dtype are used.
    n_threads : int, optional
        Threads for the sparse product and the row solves; default: the CPUs this process
        may use.

    Returns
    -------
    ndarray of shape (n_samples, n_components), dtype ``config.dtype``
    """
    dtype = np.dtype(config.dtype)
    X = check_matrix(V, dtype)
    Hc = check_components(H, X.shape[1], config.n_components, dtype)
    threads = check_threads(n_threads)
    with threadpool_limits(limits=1, user_api="blas"), SparseOps(X, threads) as ops:
        return transform_on(ops, Hc, config)


def initialize(V: Any, config: NMFConfig) -> tuple[np.ndarray, np.ndarray]:
    """Return the initial (W, H) of a fit, as scikit-learn's ``_initialize_nmf`` defines them.

    Useful to compare solvers from the same start.
    """
    X = check_matrix(V, np.dtype(config.dtype))
    config.validate(X.shape)
    with SparseOps(X, 1) as ops:
        W, H = initialize_on(ops, config)
    return np.ascontiguousarray(W), H
