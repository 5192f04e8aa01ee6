"""Tests of the NMF engine (topicnmf.nmf): correctness against scikit-learn, KKT conditions,
validation, determinism, penalties and the row-independent transform.

Small matrices only; the one real-text check reads 400 messages of the 20 Newsgroups archive
and skips when the archive is absent.
"""

from __future__ import annotations

import importlib.util
import re
import tarfile
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import NMF

from tests.helpers import NEWS_ARCHIVE as ARCHIVE
from tests.helpers import NEWS_SKIP_REASON
from topicnmf.errors import ConvergenceWarning, ParameterError
from topicnmf.nmf import (
    INITS,
    NMFConfig,
    _init,
    _transform,
    fit_nmf,
    frobenius_loss,
    initialize,
    kl_divergence,
    objective,
    reconstruction_error,
    transform,
)

# Short fits on purpose: their iteration-limit warnings are not under test (except where a
# test asks for them with pytest.warns).
pytestmark = pytest.mark.filterwarnings("ignore::topicnmf.errors.ConvergenceWarning")


HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


def random_matrix(n: int = 60, m: int = 80, density: float = 0.3, seed: int = 0) -> sp.csr_matrix:
    """A sparse non-negative matrix with a little low-rank structure, like a tiny TF-IDF."""
    rng = np.random.default_rng(seed)
    low_rank = rng.random((n, 4)) @ rng.random((4, m))
    mask = rng.random((n, m)) < density
    return sp.csr_matrix(low_rank * mask)


def sklearn_nmf(V, k: int, **kwargs) -> tuple[np.ndarray, NMF]:
    """scikit-learn's NMF fitted quietly (its ConvergenceWarning is not under test here).

    random_state=0 matches NMFConfig's default seed, so both start from the same point.
    """
    kwargs.setdefault("random_state", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = NMF(n_components=k, **kwargs)
        W = model.fit_transform(V)
    return W, model


def sklearn_transform(V, H: np.ndarray, max_iter: int = 20_000, **kwargs) -> np.ndarray:
    """scikit-learn's NMF.transform for a given H, solved to a tight tolerance."""
    k = H.shape[0]
    H = np.asarray(H, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = NMF(n_components=k, init="custom", max_iter=1, **kwargs)
        model.fit(V, W=np.full((V.shape[0], k), 0.1), H=H.copy())
        model.components_ = H
        model.set_params(tol=1e-12, max_iter=max_iter)
        return model.transform(V)


@pytest.fixture(scope="module")
def small() -> sp.csr_matrix:
    return random_matrix()


@pytest.fixture(scope="module")
def news() -> sp.csr_matrix:
    """TF-IDF of the first 400 messages in the 20 Newsgroups archive (two newsgroups)."""
    if not ARCHIVE.exists():
        pytest.skip(NEWS_SKIP_REASON)
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = []
    with tarfile.open(ARCHIVE, "r:gz") as archive:
        for member in archive:
            if member.isfile():
                texts.append(archive.extractfile(member).read().decode("latin-1"))
                if len(texts) == 400:
                    break
    vec = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
    return sp.csr_matrix(vec.fit_transform(texts))


# --------------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------------


# kmeans has no scikit-learn counterpart (tests/test_methods.py checks it)
@pytest.mark.parametrize("init", [i for i in INITS if i != "kmeans"])
def test_initialisation_is_scikit_learns(small, init):
    from sklearn.decomposition._nmf import _initialize_nmf

    W, H = initialize(small, NMFConfig(5, init=init, seed=3, dtype="float64", svd="randomized"))
    W_ref, H_ref = _initialize_nmf(small, 5, init=init, random_state=3)
    assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)
    assert_allclose(H, H_ref, rtol=1e-10, atol=1e-12)


def nndsvd_by_hand(V: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD (Boutsidis & Gallopoulos) from numpy's full dense SVD."""
    U, S, Vt = np.linalg.svd(V.toarray())
    W, H = np.zeros((V.shape[0], k)), np.zeros((k, V.shape[1]))
    W[:, 0], H[0] = np.sqrt(S[0]) * np.abs(U[:, 0]), np.sqrt(S[0]) * np.abs(Vt[0])
    for j in range(1, k):
        x, y = U[:, j], Vt[j]
        parts = []
        for xs, ys in (
            (np.maximum(x, 0), np.maximum(y, 0)),
            (-np.minimum(x, 0), -np.minimum(y, 0)),
        ):
            parts.append((np.linalg.norm(xs) * np.linalg.norm(ys), xs, ys))
        sigma, xs, ys = max(parts, key=lambda p: p[0])
        scale = np.sqrt(S[j] * sigma)
        W[:, j] = scale * xs / np.linalg.norm(xs)
        H[j] = scale * ys / np.linalg.norm(ys)
    W[W < 1e-6] = 0
    H[H < 1e-6] = 0
    return W, H


@pytest.mark.parametrize("shape", [(60, 80), (80, 60)])
@pytest.mark.parametrize("dense_limit", [1000, 10])  # dense eigensolver / ARPACK
def test_exact_svd_init_is_nndsvd_of_the_true_svd(shape, dense_limit, monkeypatch):
    monkeypatch.setattr(_init, "DENSE_GRAM", dense_limit)
    V = random_matrix(*shape, seed=4)
    W, H = initialize(V, NMFConfig(6, init="nndsvd", dtype="float64"))
    W_ref, H_ref = nndsvd_by_hand(V, 6)
    assert_allclose(W, W_ref, rtol=1e-7, atol=1e-9)
    assert_allclose(H, H_ref, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dense_limit", [1000, 10])
def test_exact_svd_init_does_not_depend_on_row_order_or_seed(dense_limit, monkeypatch):
    monkeypatch.setattr(_init, "DENSE_GRAM", dense_limit)
    V = random_matrix(70, 90, seed=5)
    perm = np.random.default_rng(1).permutation(70)
    W, H = initialize(V, NMFConfig(8, dtype="float64"))
    W_p, H_p = initialize(V[perm], NMFConfig(8, dtype="float64", seed=123))
    assert_allclose(W_p, W[perm], rtol=1e-8, atol=1e-10)
    assert_allclose(H_p, H, rtol=1e-8, atol=1e-10)
    # the randomized SVD, by contrast, moves with the order (this is why it is not the default)
    W_r, _ = initialize(V, NMFConfig(8, dtype="float64", svd="randomized"))
    W_rp, _ = initialize(V[perm], NMFConfig(8, dtype="float64", svd="randomized"))
    assert not np.allclose(W_rp, W_r[perm], rtol=1e-8, atol=1e-10)


def test_exact_svd_init_of_a_low_rank_matrix_leaves_null_pairs_empty():
    rng = np.random.default_rng(2)
    V = sp.csr_matrix(rng.random((30, 2)) @ rng.random((2, 40)))  # rank 2
    W, H = initialize(V, NMFConfig(5, init="nndsvd", dtype="float64"))
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(H))
    assert np.count_nonzero(W[:, 0]) and np.count_nonzero(H[1])


# --------------------------------------------------------------------------------------------
# Reaching scikit-learn's objective
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_frobenius_cd_reaches_sklearn_objective(small, dtype):
    result = fit_nmf(small, NMFConfig(5, tol=1e-8, max_iter=1000, dtype=dtype))
    _, ref = sklearn_nmf(small, 5, init="nndsvda", tol=1e-8, max_iter=5000)
    ours = reconstruction_error(small, result.W, result.H)
    assert ours <= ref.reconstruction_err_ * (1 + 1e-4)
    assert result.converged
    assert result.W.dtype == np.dtype(dtype) and result.H.dtype == np.dtype(dtype)
    assert result.W.min() >= 0 and result.H.min() >= 0


def test_frobenius_reaches_sklearn_objective_on_real_text(news):
    k = 6
    result = fit_nmf(news, NMFConfig(k, tol=1e-6, max_iter=500))
    _, ref = sklearn_nmf(news, k, init="nndsvda", tol=1e-6, max_iter=2000)
    assert reconstruction_error(news, result.W, result.H) <= ref.reconstruction_err_ * (1 + 1e-4)
    assert result.W.min() >= 0 and result.H.min() >= 0


def test_frobenius_mu_follows_sklearn_mu(small):
    # Same algorithm, same start, same number of iterations: the same objective.
    config = NMFConfig(4, solver="mu", tol=0, max_iter=50, dtype="float64", svd="randomized")
    result = fit_nmf(small, config)
    _, ref = sklearn_nmf(small, 4, solver="mu", init="nndsvda", tol=0, max_iter=50)
    assert result.n_iter == 50
    assert_allclose(np.sqrt(2 * result.loss_history[-1]), ref.reconstruction_err_, rtol=1e-9)
    assert_allclose(result.H, ref.components_, rtol=1e-7, atol=1e-12)


def test_kl_mu_follows_sklearn_mu(small):
    result = fit_nmf(
        small,
        NMFConfig(4, loss="kl", solver="mu", tol=0, max_iter=40, dtype="float64", svd="randomized"),
    )
    _, ref = sklearn_nmf(
        small, 4, solver="mu", beta_loss="kullback-leibler", init="nndsvda", tol=0, max_iter=40
    )
    assert result.n_iter == 40
    assert_allclose(result.H, ref.components_, rtol=1e-6, atol=1e-10)


def test_kl_mu_decreases_the_divergence_monotonically(news):
    result = fit_nmf(news, NMFConfig(5, loss="kl", solver="mu", tol=0, max_iter=60))
    history = np.array(result.loss_history)
    assert np.all(np.diff(history) <= 1e-6 * history[0])
    assert history[-1] < history[0]


@needs_numba
def test_kl_cd_decreases_monotonically_and_beats_sklearn_mu(news):
    result = fit_nmf(news, NMFConfig(5, loss="kl", solver="cd", tol=1e-6, max_iter=300))
    history = np.array(result.loss_history)
    assert np.all(np.diff(history) <= 1e-6 * history[0])
    _, ref = sklearn_nmf(
        news, 5, solver="mu", beta_loss="kullback-leibler", init="nndsvda", tol=1e-6, max_iter=1000
    )
    ours = reconstruction_error(news, result.W, result.H, loss="kl")
    assert ours <= ref.reconstruction_err_ * (1 + 1e-4)
    assert result.W.min() >= 0 and result.H.min() >= 0
    assert_allclose(result.loss, kl_divergence(news, result.W, result.H), rtol=1e-5)


def test_kkt_conditions_hold_at_convergence(small):
    result = fit_nmf(small, NMFConfig(4, tol=1e-12, max_iter=3000, dtype="float64"))
    W, H = result.W, result.H
    V = small.toarray()
    grad_W = W @ (H @ H.T) - V @ H.T
    grad_H = (W.T @ W) @ H - W.T @ V
    for X, grad in ((W, grad_W), (H, grad_H)):
        scale = np.abs(grad).max() + np.abs(V).max()
        assert grad.min() >= -1e-6 * scale  # no descent direction into the feasible set
        assert np.abs(X * grad).max() <= 1e-6 * scale * max(X.max(), 1)  # complementarity


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"n_components": 0}, "0"),
        ({"n_components": 2.5}, "2.5"),
        ({"n_components": True}, "True"),
        ({"loss": "itakura"}, "'itakura'"),
        ({"solver": "als"}, "'als'"),
        ({"init": "svd"}, "'svd'"),
        ({"max_iter": 0}, "0"),
        ({"tol": -1.0}, "-1.0"),
        ({"tol": float("nan")}, "nan"),
        ({"seed": -1}, "-1"),
        ({"alpha_W": -0.5}, "-0.5"),
        ({"alpha_H": "different"}, "'different'"),
        ({"l1_ratio": 1.5}, "1.5"),
        ({"dtype": "float16"}, "'float16'"),
    ],
)
def test_bad_settings_are_refused_on_construction(changes, shown):
    with pytest.raises(ParameterError, match=re.escape(shown)) as err:
        NMFConfig(**{"n_components": 3, **changes})
    assert err.value.param == next(iter(changes))


def test_too_many_components_for_the_matrix():
    V = random_matrix(8, 30)
    with pytest.raises(ParameterError, match="n_components=9"):
        fit_nmf(V, NMFConfig(9))


def test_cd_with_kl_needs_numba(small, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ParameterError, match="numba"):
        fit_nmf(small, NMFConfig(3, loss="kl", solver="cd"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda V: V.multiply(-1).tocsr(), "negative"),
        (lambda V: _with_value(V, np.nan), "nan"),
        (lambda V: _with_value(V, np.inf), "inf"),
        (lambda V: V.toarray()[0], "2-D"),
        (lambda V: np.zeros((0, 5)), "empty"),
        (lambda V: sp.csr_matrix(V.shape), "no non-zero"),
        (lambda V: np.array([["a", "b"], ["c", "d"]]), "real numbers"),
    ],
)
def test_bad_matrices_raise_parameter_error(small, make, message):
    with pytest.raises(ParameterError, match=message):
        fit_nmf(make(small), NMFConfig(2))


def _with_value(V: sp.csr_matrix, value: float) -> sp.csr_matrix:
    V = V.copy()
    V.data[3] = value
    return V


def test_transform_checks_h(small):
    config = NMFConfig(3)
    H = np.ones((3, small.shape[1]))
    with pytest.raises(ParameterError, match="shape"):
        transform(small, H[:, :-1], config)
    with pytest.raises(ParameterError, match="n_components"):
        transform(small, H[:2], config)
    with pytest.raises(ParameterError, match="negative"):
        transform(small, -H, config)


def test_dense_input_is_accepted(small):
    dense = fit_nmf(small.toarray(), NMFConfig(3, max_iter=20))
    sparse = fit_nmf(small, NMFConfig(3, max_iter=20))
    assert_array_equal(dense.H, sparse.H)


# --------------------------------------------------------------------------------------------
# Behaviour of a fit
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        NMFConfig(4, init="random", seed=7),
        NMFConfig(4, init="nndsvdar", seed=7, solver="mu"),
        NMFConfig(4, loss="kl", solver="mu", max_iter=30),
    ],
    ids=["cd-random", "mu-nndsvdar", "kl-mu"],
)
def test_same_seed_gives_identical_arrays(small, config):
    first = fit_nmf(small, config, n_threads=2)
    second = fit_nmf(small, config, n_threads=2)
    assert_array_equal(first.W, second.W)
    assert_array_equal(first.H, second.H)
    assert first.loss_history == second.loss_history


def test_different_seeds_give_different_random_starts(small):
    a = fit_nmf(small, NMFConfig(4, init="random", seed=1, max_iter=5))
    b = fit_nmf(small, NMFConfig(4, init="random", seed=2, max_iter=5))
    assert not np.array_equal(a.H, b.H)


def test_iteration_limit_warns_and_returns_the_result(small, capsys):
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3\b.*tol=1e-12") as caught:
        result = fit_nmf(small, NMFConfig(4, tol=1e-12, max_iter=3))
    assert len(caught) == 1
    assert result.converged is False
    assert result.n_iter == 3
    assert len(result.loss_history) == 4
    assert capsys.readouterr() == ("", "")  # a warning, never a print


def test_a_converged_fit_does_not_warn(small):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit_nmf(small, NMFConfig(4, max_iter=1000)).converged


def test_callback_sees_every_iteration(small):
    seen = []
    result = fit_nmf(
        small, NMFConfig(3, max_iter=15, tol=0), callback=lambda i, loss: seen.append((i, loss))
    )
    assert [i for i, _ in seen] == list(range(1, result.n_iter + 1))
    assert [loss for _, loss in seen] == result.loss_history[1:]


def test_float64_option(small):
    result = fit_nmf(small, NMFConfig(3, dtype="float64", max_iter=10))
    assert result.W.dtype == np.float64 and result.H.dtype == np.float64
    assert transform(small, result.H, NMFConfig(3, dtype="float64")).dtype == np.float64


def test_result_loss_is_the_objective_of_the_returned_factors(small):
    config = NMFConfig(3, alpha_W=0.001, l1_ratio=0.3, dtype="float64")
    result = fit_nmf(small, config)
    assert_allclose(result.loss, objective(small, result.W, result.H, config), rtol=1e-9)
    assert result.loss <= min(result.loss_history) * (1 + 1e-9)
    assert result.seconds > 0


# --------------------------------------------------------------------------------------------
# Penalties
# --------------------------------------------------------------------------------------------


def test_l1_penalty_sparsifies_and_l2_shrinks(small):
    base = fit_nmf(small, NMFConfig(4, dtype="float64"))
    l1 = fit_nmf(small, NMFConfig(4, alpha_W=0.02, l1_ratio=1.0, dtype="float64"))
    l2 = fit_nmf(small, NMFConfig(4, alpha_W=0.002, l1_ratio=0.0, dtype="float64"))
    assert (l1.W == 0).mean() > (base.W == 0).mean()
    assert (l1.H == 0).mean() > (base.H == 0).mean()
    assert np.linalg.norm(l2.W) * np.linalg.norm(l2.H) < np.linalg.norm(base.W) * np.linalg.norm(
        base.H
    )


def test_alpha_h_separate_from_alpha_w(small):
    only_W = fit_nmf(small, NMFConfig(4, alpha_W=0.02, alpha_H=0.0, l1_ratio=1.0))
    both = fit_nmf(small, NMFConfig(4, alpha_W=0.02, l1_ratio=1.0))
    assert (only_W.H == 0).mean() < (both.H == 0).mean()


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_penalised_objective_matches_sklearn(small, l1_ratio):
    config = NMFConfig(
        4,
        alpha_W=0.001,
        alpha_H=0.0005,
        l1_ratio=l1_ratio,
        tol=1e-9,
        max_iter=2000,
        dtype="float64",
    )
    result = fit_nmf(small, config)
    W_ref, ref = sklearn_nmf(
        small,
        4,
        init="nndsvda",
        alpha_W=0.001,
        alpha_H=0.0005,
        l1_ratio=l1_ratio,
        tol=1e-9,
        max_iter=10_000,
    )
    assert result.loss <= objective(small, W_ref, ref.components_, config) * (1 + 1e-4)


# --------------------------------------------------------------------------------------------
# Transform
# --------------------------------------------------------------------------------------------


def test_fit_returns_the_transform_of_its_own_h(small):
    config = NMFConfig(4)
    result = fit_nmf(small, config)
    assert_array_equal(transform(small, result.H, config), result.W)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_transform_matches_sklearn(small, dtype):
    result = fit_nmf(small, NMFConfig(4, dtype="float64"))
    H = result.H
    W = transform(small, H, NMFConfig(4, dtype=dtype))
    W_ref = sklearn_transform(small, H)
    assert_allclose(W, W_ref, rtol=1e-3 if dtype == "float32" else 1e-7, atol=1e-5 * W_ref.max())


def test_transform_with_penalty_matches_sklearn(small):
    H = fit_nmf(small, NMFConfig(4, dtype="float64")).H
    config = NMFConfig(4, alpha_W=0.002, l1_ratio=0.5, dtype="float64")
    W = transform(small, H, config)
    W_ref = sklearn_transform(small, H, alpha_W=0.002, l1_ratio=0.5)
    assert_allclose(W, W_ref, rtol=1e-6, atol=1e-8)


TRANSFORMS = [
    pytest.param("frobenius", False, id="frobenius"),
    pytest.param("kl", True, id="kl-numba", marks=needs_numba),
    pytest.param("kl", False, id="kl-numpy"),
]


@pytest.mark.parametrize(("loss", "compiled"), TRANSFORMS)
@pytest.mark.parametrize("k", [5, 12])  # below and above numpy's 8-way pairwise unrolling
def test_transform_is_bit_identical_whatever_the_batch_and_threads(
    news, loss, compiled, k, monkeypatch
):
    if not compiled:
        monkeypatch.setattr(_transform, "have_numba", lambda: False)
    config = NMFConfig(k, loss=loss, solver="mu", max_iter=30)
    fitted = fit_nmf(news, config, n_threads=2)
    H = fitted.H
    whole = transform(news, H, config, n_threads=1)
    assert_array_equal(fitted.W, whole)  # what fit returns is the transform of its H
    assert_array_equal(transform(news, H, config, n_threads=2), whole)
    batches = np.vstack(
        [transform(news[i : i + 37], H, config, n_threads=2) for i in range(0, news.shape[0], 37)]
    )
    assert_array_equal(batches, whole)
    for i in (0, 5, 123, news.shape[0] - 1):  # each row alone
        assert_array_equal(transform(news[i : i + 1], H, config, n_threads=1), whole[i : i + 1])
    shuffled = np.random.default_rng(0).permutation(news.shape[0])
    assert_array_equal(transform(news[shuffled], H, config), whole[shuffled])


def test_transform_rows_are_independent_with_many_threads_worth_of_rows(monkeypatch):
    # enough rows for the row solves to be split between threads
    monkeypatch.setattr(_transform, "_ENTRIES_PER_THREAD", 2_000)
    V = random_matrix(3000, 60, density=0.2, seed=3)
    config = NMFConfig(9)
    H = fit_nmf(V, config).H
    whole = transform(V, H, config, n_threads=1)
    assert_array_equal(transform(V, H, config, n_threads=2), whole)
    assert_array_equal(transform(V, H, config, n_threads=3), whole)
    parts = [transform(V[i : i + 700], H, config, n_threads=2) for i in range(0, 3000, 700)]
    assert_array_equal(np.vstack(parts), whole)


def test_library_assign_gives_fit_s_weights_exactly():
    # the path of `fit --doc-topics-out` and of `assign` on the training documents
    from tests.conftest import SAMPLES
    from topicnmf import VectorizerConfig, load_corpus
    from topicnmf import fit as fit_model

    docs = list(load_corpus([SAMPLES / "hobbies"]))
    out = fit_model(docs, VectorizerConfig(), NMFConfig(5), n_jobs=2)
    texts = [d.text for d in docs]
    for size, threads in ((1, 1), (7, 2), (len(texts), 1)):
        W = np.vstack(
            [
                out.model.transform(texts[i : i + size], n_threads=threads)
                for i in range(0, len(texts), size)
            ]
        )
        assert_array_equal(W, out.W)


def test_transform_of_empty_rows_is_zero(small):
    H = fit_nmf(small, NMFConfig(3)).H
    V = sp.vstack([small[:2], sp.csr_matrix((1, small.shape[1])), small[2:4]]).tocsr()
    W = transform(V, H, NMFConfig(3))
    assert not W[2].any()
    assert W[[0, 1, 3]].any(axis=1).all()


def test_kl_transform_matches_sklearn(small):
    result = fit_nmf(small, NMFConfig(3, loss="kl", solver="mu", dtype="float64", max_iter=100))
    W = transform(small, result.H, NMFConfig(3, loss="kl", dtype="float64"))
    W_ref = sklearn_transform(
        small, result.H, max_iter=3000, solver="mu", beta_loss="kullback-leibler"
    )
    # Both solve the same convex problem; compare objectives, then the solutions loosely.
    ours = kl_divergence(small, W, result.H)
    theirs = kl_divergence(small, W_ref, result.H)
    assert ours <= theirs * (1 + 1e-6)
    assert_allclose(W, W_ref, rtol=2e-2, atol=1e-3 * W_ref.max())


@needs_numba
def test_kl_transform_without_numba_agrees(small, monkeypatch):
    H = fit_nmf(small, NMFConfig(3, loss="kl", solver="mu", dtype="float64", max_iter=100)).H
    config = NMFConfig(3, loss="kl", dtype="float64")
    compiled = transform(small, H, config)
    monkeypatch.setattr(_transform, "have_numba", lambda: False)
    fallback = transform(small, H, config)
    assert_allclose(fallback, compiled, rtol=1e-3, atol=1e-4 * compiled.max())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    density=st.floats(0.05, 1.0),
)
def test_transform_satisfies_kkt(seed, n, k, density):
    rng = np.random.default_rng(seed)
    m = 15
    V = sp.random(n, m, density=density, random_state=seed, format="csr")
    H = rng.random((k, m)) * (rng.random((k, m)) < 0.7)
    W = transform(V, H, NMFConfig(k, dtype="float64"))
    assert W.shape == (n, k) and W.min() >= 0
    grad = W @ (H @ H.T) - V @ H.T
    scale = np.abs(V @ H.T).max() + 1e-12
    assert grad.min() >= -1e-6 * scale
    assert np.abs(W * grad).max() <= 1e-6 * scale * max(W.max(), 1)


# --------------------------------------------------------------------------------------------
# Loss helpers
# --------------------------------------------------------------------------------------------


def test_loss_helpers_match_dense_formulas(small):
    rng = np.random.default_rng(1)
    W = rng.random((small.shape[0], 3))
    H = rng.random((3, small.shape[1]))
    V = small.toarray()
    WH = W @ H
    assert_allclose(frobenius_loss(small, W, H), 0.5 * ((V - WH) ** 2).sum(), rtol=1e-10)
    nz = V > 0
    kl = (V[nz] * np.log(V[nz] / WH[nz])).sum() - V.sum() + WH.sum()
    assert_allclose(kl_divergence(small, W, H), kl, rtol=1e-10)
    assert_allclose(reconstruction_error(small, W, H), np.sqrt(((V - WH) ** 2).sum()), rtol=1e-10)
    with pytest.raises(ParameterError):
        reconstruction_error(small, W, H, loss="l1")
