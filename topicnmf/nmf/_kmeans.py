"""The ``kmeans`` initialization: spherical k-means on the documents, centroids as H.

Documents are compared by cosine similarity, so each row of V is scaled to unit length
first (TF-IDF rows already are, unless normalization was turned off). k-means++ chooses the
first centroids (Arthur & Vassilvitskii 2007, with 1 - cosine as the distance), from the
seed's random stream, so the start is deterministic. Lloyd iterations then assign each
document to its most similar centroid and set each centroid to the normalized sum of its
documents (Dhillon & Modha 2001), until no document changes cluster. A cluster that loses
all its documents takes the document worst served by its current centroid.

The centroids, non-negative because V is, become H; W is the non-negative least-squares
best response to them (the ``transform`` of V), so the start's scale is the data's.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from topicnmf.nmf._sparse import SparseOps

# Lloyd iterations at most; on 20 Newsgroups (k=20) assignments settle in 20 to 40.
MAX_LLOYD = 100


def unit_rows(X: sp.csr_matrix) -> sp.csr_matrix:
    """X with every non-empty row scaled to unit Euclidean length (float64 values)."""
    data = X.data.astype(np.float64)
    sq = np.add.reduceat(data * data, X.indptr[:-1]) if X.nnz else np.zeros(0)
    lengths = np.diff(X.indptr)
    norms = np.zeros(X.shape[0])
    nonempty = lengths > 0
    # reduceat gives garbage for empty segments; only the non-empty rows are read
    norms[nonempty] = np.sqrt(sq[nonempty])
    scale = np.repeat(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0), lengths)
    return sp.csr_matrix((data * scale, X.indices, X.indptr), shape=X.shape)


def kmeans_plus_plus(Xn: sp.csr_matrix, k: int, rng: np.random.RandomState) -> np.ndarray:
    """Indices of k rows of the unit-row matrix Xn chosen by k-means++ (cosine distance)."""
    rows = np.flatnonzero(np.diff(Xn.indptr) > 0)
    first = int(rows[rng.randint(rows.size)])
    chosen = [first]
    best = np.asarray(Xn @ Xn[first].T.toarray()).ravel()  # best similarity so far
    for _ in range(1, k):
        dist = np.clip(1.0 - best, 0.0, None)
        dist[np.diff(Xn.indptr) == 0] = 0.0  # an empty row cannot be a centroid
        total = dist.sum()
        if total <= 0:  # fewer distinct directions than k: take any row not chosen yet
            left = np.setdiff1d(rows, chosen)
            pick = int(left[rng.randint(left.size)]) if left.size else int(rows[0])
        else:
            pick = int(np.searchsorted(np.cumsum(dist), rng.uniform(0, total)))
            pick = min(pick, Xn.shape[0] - 1)
        chosen.append(pick)
        best = np.maximum(best, np.asarray(Xn @ Xn[pick].T.toarray()).ravel())
    return np.array(chosen)


def spherical_kmeans(X: sp.csr_matrix, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Spherical k-means of the rows of X.

    Returns
    -------
    centroids : ndarray of shape (k, n_features)
        Unit-length, non-negative when X is.
    labels : ndarray of shape (n_samples,)
        Cluster of each row (-1 for empty rows).
    n_iter : int
        Lloyd iterations run.
    """
    Xn = unit_rows(X)
    empty = np.diff(Xn.indptr) == 0
    rng = np.random.RandomState(seed)
    C = Xn[kmeans_plus_plus(Xn, k, rng)].toarray()
    labels = np.full(X.shape[0], -2)
    n_iter = 0
    while n_iter < MAX_LLOYD:
        n_iter += 1
        S = np.asarray(Xn @ C.T)
        new = S.argmax(axis=1)
        new[empty] = -1
        if np.array_equal(new, labels):
            break
        labels = new
        counts = np.bincount(labels[~empty], minlength=k)
        for j in np.flatnonzero(counts == 0):
            # the document its centroid serves worst restarts the empty cluster
            served = S[np.arange(S.shape[0]), np.maximum(labels, 0)]
            served[empty] = np.inf
            worst = int(served.argmin())
            labels[worst] = j
            S[worst] = np.inf
        ind = sp.csr_matrix(
            (np.ones(int((~empty).sum())), (labels[~empty], np.flatnonzero(~empty))),
            shape=(k, X.shape[0]),
        )
        C = np.asarray((ind @ Xn).todense())
        norms = np.linalg.norm(C, axis=1)
        C /= np.where(norms > 0, norms, 1.0)[:, None]
    return C, labels, n_iter


def kmeans_init(ops: SparseOps, k: int, seed: int) -> np.ndarray:
    """H of the ``kmeans`` start: the spherical k-means centroids of V's rows, in V's dtype."""
    C, _, _ = spherical_kmeans(ops.X, k, seed)
    return C.astype(ops.dtype)
