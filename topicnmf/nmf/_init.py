"""Initializations of W and H, with scikit-learn's definitions.

``kmeans`` (module ``_kmeans``): spherical k-means centroids as H, W their least-squares
best response.
``random``: scaled absolute normal draws, H first, then W, as scikit-learn draws them.
The NNDSVD variants (Boutsidis & Gallopoulos 2008) start from the k leading singular
triplets of V: ``svd="exact"`` computes them to working precision (:func:`exact_svd`), so the
start does not depend on the order of the documents or on the seed; ``svd="randomized"`` is
scikit-learn's ``randomized_svd`` with its defaults and draws (:func:`randomized_svd`), which
gives scikit-learn's very start.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from topicnmf.config import NMFConfig
from topicnmf.nmf._sparse import SparseOps

# Exact SVD of the NNDSVD inits: a dense eigensolver when the smaller side of V has at most
# this many entries, else ARPACK, to this relative accuracy of the eigenvalues.
DENSE_GRAM = 1000
SVD_TOL = 1e-10


def random_factors(
    n: int, m: int, config: NMFConfig, mean: float, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """The random start: scikit-learn's draws, in its order (H first, then W), scaled by
    the mean of the matrix's entries."""
    rng = np.random.RandomState(config.seed)
    avg = math.sqrt(mean / config.n_components)
    H = np.abs(avg * rng.standard_normal(size=(config.n_components, m))).astype(dtype)
    W = np.abs(avg * rng.standard_normal(size=(n, config.n_components))).astype(dtype)
    return W, H


def initialize_on(ops: SparseOps, config: NMFConfig) -> tuple[np.ndarray, np.ndarray]:
    """Return W (n x k) and H (k x m) as scikit-learn's ``_initialize_nmf`` defines them."""
    X = ops.X
    k = config.n_components
    n, m = X.shape
    dtype = ops.dtype
    mean = float(X.data.sum(dtype=np.float64)) / (n * m)
    if config.init == "random":
        return random_factors(n, m, config, mean, dtype)

    if config.init == "kmeans":
        from topicnmf.nmf._kmeans import kmeans_init
        from topicnmf.nmf._transform import transform_on

        H = kmeans_init(ops, k, config.seed)
        return transform_on(ops, H, config), H

    if config.svd == "exact":
        U, S, Vt = exact_svd(ops, k, config.seed)
    else:
        U, S, Vt = randomized_svd(ops, k, config.seed)
    return nndsvd_factors(U, S, Vt, config, mean, dtype)


def nndsvd_factors(
    U: np.ndarray, S: np.ndarray, Vt: np.ndarray, config: NMFConfig, mean: float, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """W and H of an NNDSVD variant from V's k leading singular triplets and V's mean.

    Apart from :func:`initialize_on` so that a backend that computes the triplets its own way
    (``topicnmf.backends``) starts from the very same factors.
    """
    k = config.n_components
    W = np.zeros_like(U)
    H = np.zeros_like(Vt)
    # The leading singular pair of a non-negative matrix is non-negative (Perron-Frobenius).
    W[:, 0] = math.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = math.sqrt(S[0]) * np.abs(Vt[0, :])
    for j in range(1, k):
        x, y = U[:, j], Vt[j, :]
        xp, yp = np.maximum(x, 0), np.maximum(y, 0)
        xn, yn = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
        xp_norm, yp_norm = _norm(xp), _norm(yp)
        xn_norm, yn_norm = _norm(xn), _norm(yn)
        m_p, m_n = xp_norm * yp_norm, xn_norm * yn_norm
        # Keep the sign pattern (positive or negative parts) that carries more of the pair.
        if m_p > m_n:
            u, v, sigma = xp / xp_norm, yp / yp_norm, m_p
        elif m_n > 0:
            u, v, sigma = xn / xn_norm, yn / yn_norm, m_n
        else:
            continue  # a null singular pair (V has lower rank than k): leave zeros
        lbd = math.sqrt(S[j] * sigma)
        W[:, j] = lbd * u
        H[j, :] = lbd * v
    W[W < 1e-6] = 0
    H[H < 1e-6] = 0
    if config.init == "nndsvda":
        W[W == 0] = mean
        H[H == 0] = mean
    elif config.init == "nndsvdar":
        rng = np.random.RandomState(config.seed)
        W[W == 0] = np.abs(mean * rng.standard_normal(size=int((W == 0).sum())) / 100)
        H[H == 0] = np.abs(mean * rng.standard_normal(size=int((H == 0).sum())) / 100)
    return W.astype(dtype, copy=False), H.astype(dtype, copy=False)


def _norm(x: np.ndarray) -> float:
    return math.sqrt(float(np.dot(x, x)))


def exact_svd(ops: SparseOps, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k leading singular triplets of V, converged (not sketched), in float64.

    They are the top eigenpairs of the Gram matrix of the smaller side (V V^T when V has
    fewer rows than columns): a dense symmetric eigensolver when that side has at most
    ``DENSE_GRAM`` entries or k is close to it, else ARPACK's Lanczos iteration (eigsh)
    with a seeded start vector (products in float64, on one thread). The other side's
    vectors are V^T u / s. Unlike the randomized SVD, the result does not depend on the
    row order or the seed (beyond rounding). Signs: each left vector's
    largest entry is positive (NNDSVD does not care). If ARPACK does not converge, the
    randomized SVD is used instead. Working on the Gram matrix squares the condition
    number: singular values below about 1e-8 of the largest are lost (treated as null),
    which NNDSVD does not mind. Returns U (n x k), S (k, descending), Vt (k x m).
    """
    import scipy.linalg
    import scipy.sparse.linalg as sla

    n, m = ops.shape
    # float64 copies of the values on V's and V^T's index arrays; single-threaded scipy
    # products (a thread hand-off per matrix-vector product costs more than it saves)
    A = sp.csr_matrix((ops.X.data.astype(np.float64), ops.X.indices, ops.X.indptr), shape=(n, m))
    Xt = ops.Xt
    At = sp.csr_matrix((Xt.data.astype(np.float64), Xt.indices, Xt.indptr), shape=(m, n))
    wide = n < m
    d = min(n, m)

    if d <= DENSE_GRAM or k >= d - 1:
        G = (A @ At if wide else At @ A).toarray()
        vals, vecs = scipy.linalg.eigh(G, subset_by_index=[d - k, d - 1], check_finite=False)
    else:
        if wide:
            op = sla.LinearOperator((d, d), matvec=lambda x: A @ (At @ x), dtype=np.float64)
        else:
            op = sla.LinearOperator((d, d), matvec=lambda x: At @ (A @ x), dtype=np.float64)
        v0 = np.random.RandomState(seed).uniform(-1.0, 1.0, size=d)
        try:
            vals, vecs = sla.eigsh(op, k=k, which="LA", v0=v0, tol=SVD_TOL)
        except sla.ArpackError:  # no convergence, or another ARPACK failure
            U, S, Vt = randomized_svd(ops, k, seed)
            return U.astype(np.float64), S.astype(np.float64), Vt.astype(np.float64)
    order = np.argsort(-vals, kind="stable")
    vals, vecs = vals[order], vecs[:, order]
    s = np.sqrt(np.clip(vals, 0.0, None))
    other = At @ vecs if wide else A @ vecs
    # a (numerically) null singular value has no direction on the other side
    nonzero = s > s[0] * 1e-7 if s[0] > 0 else np.zeros(k, dtype=bool)
    other = np.where(nonzero, other / np.where(nonzero, s, 1.0), 0.0)
    U, V = (vecs, other) if wide else (other, vecs)
    flip = np.sign(U[np.abs(U).argmax(axis=0), np.arange(k)])
    flip[flip == 0] = 1.0
    return U * flip, s, (V * flip).T


def randomized_svd(ops: SparseOps, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truncated randomized SVD, scikit-learn's ``randomized_svd`` with its defaults.

    Halko et al. (2009) with 10 oversamples, 7 power iterations (4 when k >= 10% of the
    smaller side), LU normalization between them, the range sampled on the smaller side and
    the same random draws for a given seed, so the NNDSVD start equals scikit-learn's up to
    rounding. Returns U (n x k), S (k), Vt (k x m).
    """
    n, m = ops.shape
    n_random = k + 10
    n_iter = 7 if k < 0.1 * min(n, m) else 4
    transpose = n < m
    # Work with A = V^T when V is wide, so the random sketch has the smaller dimension.
    a_mul, a_tmul = (ops.tmul, ops.mul) if transpose else (ops.mul, ops.tmul)
    a_cols = n if transpose else m
    rng = np.random.RandomState(seed)
    Q = rng.normal(size=(a_cols, n_random))
    if ops.dtype == np.float32:
        Q = Q.astype(np.float32)

    import scipy.linalg  # only here and in exact_svd: `assign` never loads it (0.1 s)

    def lu(A: np.ndarray) -> np.ndarray:
        return scipy.linalg.lu(A, permute_l=True, check_finite=False)[0]

    for _ in range(n_iter):
        Q = lu(a_mul(Q))
        Q = lu(a_tmul(Q))
    Q, _ = scipy.linalg.qr(a_mul(Q), mode="economic", check_finite=False)
    B = a_tmul(Q).T  # Q^T A, (k + p) x a_cols
    Uhat, s, Vt = scipy.linalg.svd(B, full_matrices=False, check_finite=False)
    U = Q @ Uhat
    U, Vt = U[:, :k], Vt[:k]
    s = s[:k]
    if transpose:
        return Vt.T, s, U.T
    return U, s, Vt
