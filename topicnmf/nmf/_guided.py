"""Guided topics: seed terms that start and steer the first s topics.

A seeded topic t (t < s) has a set S_t of seed terms (columns of V). Its start is the
profile of the documents that use them: p_t = V^T (V[:, S_t] 1), the TF-IDF rows summed with
weights equal to each document's seed-term mass, scaled to the average length of the other
starting rows. The other topics start as ``config.init`` says, and W is the least-squares
best response to the whole start.

During the fit the seeded rows of H are pulled towards their seed terms by the penalty

    0.5 * mu * sum_{t < s} ||H_t - T_t||^2,   mu = strength * n_samples,

where T_t is the seeded row's start (the seed terms' profile). It scales with n_samples
like scikit-learn's alpha_H. The pull keeps the topic near the vocabulary of the documents
that use its seeds, while the data reweigh it; strength 0 only starts from the seeds. (A
target restricted to the seed terms, zero elsewhere, was tried first: on 20 Newsgroups it
narrowed each seeded topic to its seed words, and topics that dominated 400 to 700
documents unguided dominated 0 to 140 at strengths that kept the seeds in the top 10.) The term is a
quadratic in each row of H, so HALS and the exact ANLS sub-problems take it by adding mu to
the seeded diagonal entries of the Gram matrix and mu T to the right-hand side. The
unseeded topics are found freely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from topicnmf.errors import ParameterError
from topicnmf.nmf._sparse import SparseOps


@dataclass(frozen=True)
class Guidance:
    """Seed terms of the first ``len(terms)`` topics and the strength of their pull.

    Parameters
    ----------
    terms : sequence of sequences of int
        For each seeded topic, the column indices of its seed terms (at least one each).
    strength : float
        The pull's strength (>= 0), multiplied by n_samples (see the module's docstring).
    """

    terms: tuple[tuple[int, ...], ...]
    strength: float = 0.01

    def validate(self, n_components: int, n_features: int) -> None:
        """Check the seeds against k and the vocabulary size."""
        s = len(self.terms)
        if not isinstance(self.strength, (int, float)) or isinstance(self.strength, bool):
            raise ParameterError(
                f"seed_strength must be a number >= 0, got {self.strength!r}",
                param="seed_strength",
            )
        if not math.isfinite(self.strength) or self.strength < 0:
            raise ParameterError(
                f"seed_strength must be a finite number >= 0, got {self.strength!r}",
                param="seed_strength",
                value=self.strength,
            )
        if s > n_components:
            raise ParameterError(
                f"{s} seeded topics do not fit in n_components={n_components}; "
                f"choose at least {s} topics",
                param="n_components",
                value=n_components,
            )
        for t, cols in enumerate(self.terms):
            if not cols:
                raise ParameterError(f"seeded topic {t} has no seed term", param="seed_topics")
            if min(cols) < 0 or max(cols) >= n_features:
                raise ParameterError(
                    f"seeded topic {t} has a term index outside 0..{n_features - 1}",
                    param="seed_topics",
                )


class Guide:
    """The penalty of a :class:`Guidance` on one matrix, as the solvers use it.

    ``H0`` is the start, whose seeded rows are the targets.
    """

    def __init__(self, guidance: Guidance, ops: SparseOps, H0: np.ndarray):
        self.s = len(guidance.terms)
        self.mu = float(guidance.strength) * ops.shape[0]
        self.target = np.zeros((self.s, H0.shape[1]), dtype=H0.dtype)
        self.target[:] = H0[: self.s]

    def h_system(self, G: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """G and Q (k x m) of the H sub-problem with the pull added (copies)."""
        if not self.mu:
            return G, Q
        G = G.copy()
        G.flat[: self.s * (G.shape[0] + 1) : G.shape[0] + 1] += self.mu
        Q = Q.copy()
        Q[: self.s] += self.mu * self.target
        return G, Q

    def penalty(self, H: np.ndarray) -> float:
        """0.5 * mu * sum_t ||H_t - T_t||^2 over the seeded rows, in float64."""
        if not self.mu:
            return 0.0
        diff = H[: self.s].astype(np.float64) - self.target
        return 0.5 * self.mu * float(np.vdot(diff, diff))


def seed_profiles(ops: SparseOps, terms: Sequence[Sequence[int]]) -> np.ndarray:
    """p_t = V^T (V[:, S_t] 1) for each seeded topic, as rows (s x m)."""
    X = ops.X
    n = X.shape[0]
    mass = np.zeros((n, len(terms)), dtype=ops.dtype)
    for t, cols in enumerate(terms):
        mass[:, t] = np.asarray(X[:, list(cols)].sum(axis=1)).ravel()
    return ops.tmul(mass).T.copy()


def guided_start(
    ops: SparseOps, W: np.ndarray, H: np.ndarray, guidance: Guidance
) -> tuple[np.ndarray, np.ndarray]:
    """The start with seed profiles in rows 0..s-1 of H (W not updated).

    Each seed profile replaces the starting topic most like it (cosine), so that the free
    topics keep covering what the seeds do not; the replaced rows move to the front in the
    seeds' order, the others follow in their order.
    """
    s = len(guidance.terms)
    P = seed_profiles(ops, guidance.terms).astype(np.float64)
    H64 = H.astype(np.float64)
    lengths = np.linalg.norm(H64, axis=1)
    scale = float(lengths.mean()) if lengths.mean() > 0 else 1.0
    P_norm = np.linalg.norm(P, axis=1)
    P_unit = P / np.where(P_norm > 0, P_norm, 1.0)[:, None]
    cosine = P_unit @ (H64 / np.where(lengths > 0, lengths, 1.0)[:, None]).T
    taken: list[int] = []
    for t in range(s):
        free = np.setdiff1d(np.arange(H.shape[0]), taken)
        taken.append(int(free[np.argmax(cosine[t, free])]))
    order = taken + [j for j in range(H.shape[0]) if j not in taken]
    H = H[order].copy()
    H[:s] = (P_unit * scale).astype(H.dtype)
    return W[:, order], H
