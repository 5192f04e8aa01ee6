"""A topic hierarchy by recursive rank-2 NMF (Kuang & Park 2013), and its leaves as a model.

The corpus is split in two by a rank-2 NMF of its TF-IDF rows (:mod:`topicnmf.nmf._rank2`),
each document going to the component that reconstructs more of it; then one of the current
leaves is split the same way, and so on until there are ``k`` leaves. Each node's topic (its
term profile) is its row of H in its parent's split; the root's is the corpus's best rank-1
profile.

Which leaf is split next
    Every leaf's split is computed when the leaf appears, and scored by how much it lowers
    the error of the tree: with each leaf's documents X_l represented by their best rank-1
    approximation, the tree's error is sum_l E1(X_l) with E1(X) = ||X||^2 - sigma_1(X)^2,
    and splitting node N into L and R lowers it by E1(N) - E1(L) - E1(R) >= 0. The leaf with
    the largest decrease is split (ties: the lowest node number). This is a greedy descent
    on the same least-squares objective that a flat NMF minimizes, so ``k`` leaves are the
    hierarchy's best answer to "which k topics explain the corpus", a split that separates
    a handful of odd documents scores as little as it explains, and the score needs no
    cut-off such as a number of top terms. (The paper ranks splits by a modified NDCG of the
    children's top-term lists against the parent's, and sets small clusters aside as
    outliers.) A leaf with fewer than two documents, or whose split leaves a side empty, is
    not split; if no leaf can be split, the tree has fewer than ``k`` leaves (a warning).

The leaves, ordered by their share of the reconstruction as :func:`topicnmf.model.fit` orders
topics, are the topics of an ordinary :class:`~topicnmf.model.TopicModel` (documents'
weights by the same ``transform`` as ``assign``), which also holds the tree.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from topicnmf.errors import ParameterError, TopicNMFWarning
from topicnmf.nmf._rank2 import RANK2_MAX_ITER, RANK2_TOL, rank1_error, rank2_nmf
from topicnmf.quality import top_indices

if TYPE_CHECKING:
    from topicnmf.model import TopicModel
    from topicnmf.vectorize import VectorizerConfig

__all__ = ["TREE_TOP", "TopicTree", "TreeNode", "TreeOutput", "build_tree", "fit_tree"]

#: Top terms kept for each node (and stored in a model file).
TREE_TOP = 20


@dataclass
class TreeNode:
    """One node of a topic tree.

    Attributes
    ----------
    id : int
        Node number: 0 is the root, the children of the i-th split are 2i + 1 and 2i + 2.
    parent : int or None
        The parent's number (None for the root).
    children : tuple of int
        Two node numbers, or none for a leaf.
    n_docs : int
        Training documents in the node.
    share : float
        The node's share of the corpus's reconstruction: a leaf's is its topic's share in the
        model, an inner node's the sum of its children's.
    term_ids, weights : ndarray
        The node's top terms (vocabulary columns) and their weights in its profile (which
        sums to 1), heaviest first.
    topic : int or None
        A leaf's topic number in the model; None for an inner node.
    score : float or None
        An inner node: how much its split lowered the tree's squared error (see the module
        docstring); None for a leaf.
    documents : ndarray or None
        Row numbers of the node's training documents (None when read from a model file).
    """

    id: int
    parent: int | None
    children: tuple[int, ...]
    n_docs: int
    share: float
    term_ids: np.ndarray
    weights: np.ndarray
    topic: int | None = None
    score: float | None = None
    documents: np.ndarray | None = None


@dataclass
class TopicTree:
    """A binary topic hierarchy: its nodes (indexed by number) and the vocabulary."""

    nodes: list[TreeNode]
    vocabulary: list[str]

    @property
    def root(self) -> TreeNode:
        return self.nodes[0]

    @property
    def leaves(self) -> list[TreeNode]:
        """The leaves, by topic number."""
        found = [node for node in self.nodes if not node.children]
        return sorted(found, key=lambda node: node.topic if node.topic is not None else -1)

    def depth(self, node: TreeNode) -> int:
        depth = 0
        while node.parent is not None:
            node = self.nodes[node.parent]
            depth += 1
        return depth

    def walk(self) -> Iterator[tuple[TreeNode, int]]:
        """(node, depth) in depth-first order, children in their order: the tree as read."""
        stack = [(self.root, 0)]
        while stack:
            node, depth = stack.pop()
            yield node, depth
            stack.extend((self.nodes[c], depth + 1) for c in reversed(node.children))

    def terms(self, node: TreeNode, n: int = 10) -> list[tuple[str, float]]:
        """The node's ``n`` heaviest terms (at most :data:`TREE_TOP`) with their weights."""
        return [
            (self.vocabulary[int(j)], float(w))
            for j, w in zip(node.term_ids[:n], node.weights[:n], strict=True)
        ]

    def label(self, node: TreeNode) -> str:
        """Its top three terms joined by '_', as topics are labelled."""
        return "_".join(term for term, _ in self.terms(node, 3)) or f"empty_node_{node.id}"


@dataclass
class _Split:
    halves: tuple[np.ndarray, np.ndarray]
    profiles: np.ndarray  # (2, n_terms), rows summing to 1
    errors: tuple[float, float]  # E1 of each half
    score: float
    n_iter: int
    converged: bool


@dataclass
class _Leaf:
    rows: np.ndarray
    profile: np.ndarray
    split: _Split | None


def _try_split(V: sp.csr_matrix, rows: np.ndarray, error1: float, seed: int) -> _Split | None:
    if len(rows) < 2:
        return None
    X = V[rows]
    # only the terms the node's documents use: deep nodes hold a small part of the
    # vocabulary, and the H half-step costs as many columns as there are
    columns = np.unique(X.indices)
    X = sp.csr_matrix(
        (X.data, np.searchsorted(columns, X.indices), X.indptr), shape=(len(rows), len(columns))
    )
    result = rank2_nmf(X, seed=seed)
    # Each document goes to the profile that contributes more to it in Euclidean norm (the
    # paper compares weights of unit-norm profiles). Comparing masses instead (profiles
    # summing to 1) hands the spread-out, general profile every document that is not
    # clearly specific, and the tree grows as a chain of small clusters shed from one
    # general node (20 Newsgroups, k=20: leaf NMI with the newsgroups 0.36, not 0.38,
    # largest leaf 3,084 documents, not 2,121).
    contribution = result.W * np.linalg.norm(result.H, axis=1)
    left = contribution[:, 0] >= contribution[:, 1]
    if left.all() or not left.any():
        return None
    halves = [rows[left], rows[~left]]
    errors = [rank1_error(V[half])[0] for half in halves]
    profiles = np.zeros((2, V.shape[1]))
    profiles[:, columns] = result.H
    # the larger half first, so that the tree reads from the main branch down
    if len(halves[1]) > len(halves[0]):
        halves.reverse()
        errors.reverse()
        profiles = profiles[::-1]
    return _Split(
        (halves[0], halves[1]),
        np.ascontiguousarray(profiles),
        (errors[0], errors[1]),
        max(error1 - errors[0] - errors[1], 0.0),
        result.n_iter,
        result.converged,
    )


@dataclass
class _Built:
    parents: list[int]
    profiles: list[np.ndarray]
    rows: list[np.ndarray]
    scores: list[float | None]
    n_iter: int
    converged: bool


def build_tree(
    V: sp.csr_matrix,
    k: int,
    *,
    seed: int = 0,
    on_split: Callable[[int, int], None] | None = None,
) -> _Built:
    """Split the non-empty rows of ``V`` until ``k`` leaves (see the module docstring).

    Parameters
    ----------
    V : csr_matrix of shape (n_documents, n_terms)
        Non-negative TF-IDF rows.
    k : int
        Leaves wanted.
    seed : int
        Seed of the random start of each rank-2 fit.
    on_split : callable, optional
        ``on_split(leaves, k)`` after each split.

    Returns
    -------
    The nodes as parallel lists (parent, profile, rows, split score), numbered in order of
    creation.
    """
    V = sp.csr_matrix(V)
    rows0 = np.flatnonzero(np.diff(V.indptr) > 0)
    if len(rows0) == 0:
        raise ParameterError("V has no non-zero value; there is nothing to split", param="V")
    error0, profile0 = rank1_error(V[rows0])
    built = _Built([-1], [profile0], [rows0], [None], 0, True)
    leaves: dict[int, _Leaf] = {0: _Leaf(rows0, profile0, None)}
    errors = {0: error0}

    def evaluate(node: int) -> None:
        split = _try_split(V, leaves[node].rows, errors[node], seed)
        leaves[node].split = split
        if split is not None:
            built.n_iter += split.n_iter
            built.converged &= split.converged

    if k > 1:
        evaluate(0)
    while len(leaves) < k:
        ready = [(n, leaf.split) for n, leaf in leaves.items() if leaf.split is not None]
        if not ready:
            warnings.warn(
                f"the tree stops at {len(leaves)} leaves, not {k}: no leaf can be split "
                "further (each holds a single document, or documents the rank-2 fit does "
                "not separate)",
                TopicNMFWarning,
                stacklevel=2,
            )
            break
        node, split = max(ready, key=lambda item: (item[1].score, -item[0]))
        del leaves[node]
        built.scores[node] = split.score
        for half, profile, error in zip(split.halves, split.profiles, split.errors, strict=True):
            child = len(built.parents)
            built.parents.append(node)
            built.profiles.append(profile)
            built.rows.append(half)
            built.scores.append(None)
            leaves[child] = _Leaf(half, profile, None)
            errors[child] = error
        if on_split is not None:
            on_split(len(leaves), k)
        if len(leaves) < k:
            for child in (len(built.parents) - 2, len(built.parents) - 1):
                evaluate(child)
    return built


@dataclass
class TreeOutput:
    """What :func:`fit_tree` returns: the model of the leaves (holding the tree), and the
    training documents' ids and topic weights."""

    model: TopicModel
    tree: TopicTree
    W: np.ndarray
    doc_ids: list[str]
    #: training documents without any term of the vocabulary (in no node)
    empty_documents: int = 0


def fit_tree(
    documents: Iterable[Any],
    vectorizer_config: VectorizerConfig,
    k: int,
    *,
    seed: int = 0,
    n_jobs: int | None = None,
    save_doc_topics: bool = False,
    on_document: Callable[[int], None] | None = None,
    on_split: Callable[[int, int], None] | None = None,
) -> TreeOutput:
    """Build a topic tree of ``k`` leaves from documents; the leaves become a topic model.

    Parameters
    ----------
    documents : iterable of Document
        Anything with ``id`` and ``text`` (as for :func:`topicnmf.model.fit`), read once.
    vectorizer_config : VectorizerConfig
        The TF-IDF settings.
    k : int
        Leaves (topics) wanted.
    seed : int
        Seed of the random start of each rank-2 split.
    n_jobs : int, optional
        Cores for the final transform.
    save_doc_topics : bool
        Keep the training ids and W in the model.
    on_document, on_split : callables, optional
        Progress: documents read; (leaves so far, k).

    Returns
    -------
    TreeOutput
    """
    from topicnmf import model as m
    from topicnmf.modelfile import FitStats
    from topicnmf.nmf import NMFConfig, transform
    from topicnmf.quality import relative_error

    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError(f"k must be a whole number >= 1, not {k!r}", param="n_components")
    created = m.creation_time()
    t0 = time.perf_counter()
    documents, recorder, vectorizer, V = m.vectorize_training(
        documents, vectorizer_config, on_document
    )
    m._check_k(k, *V.shape)
    t1 = time.perf_counter()
    # one BLAS thread: the products are with two columns, and threads only contend
    with threadpool_limits(limits=1, user_api="blas"):
        built = build_tree(V, k, seed=seed, on_split=on_split)
    t2 = time.perf_counter()
    parents = built.parents
    is_leaf = np.ones(len(parents), dtype=bool)
    is_leaf[[p for p in parents if p >= 0]] = False
    leaf_nodes = np.flatnonzero(is_leaf)
    config = NMFConfig(
        n_components=len(leaf_nodes),
        init="random",
        seed=seed,
        max_iter=RANK2_MAX_ITER,
        tol=RANK2_TOL,
    )
    H = m.scale_topics(np.array([built.profiles[i] for i in leaf_nodes], dtype=np.float32))
    # topics in the order a fit gives them (largest share first), W as `assign` computes it
    W = transform(V, H, config, n_threads=n_jobs)
    order = np.argsort(-m._topic_share(W, H), kind="stable")
    H = np.ascontiguousarray(H[order])
    leaf_nodes = leaf_nodes[order]
    W = transform(V, H, config, n_threads=n_jobs)
    share = m._topic_share(W, H)
    tree = _assemble(built, leaf_nodes, share, vectorizer.vocabulary)
    frob = relative_error(V, W, H)
    v_norm = math.sqrt(float(np.dot(V.data.astype(np.float64), V.data))) if V.nnz else 0.0
    stats = FitStats(
        n_documents=int(V.shape[0]),
        n_terms=int(V.shape[1]),
        n_nonzero=int(V.nnz),
        n_iter=built.n_iter,
        loss=0.5 * (frob * v_norm) ** 2,
        frobenius_error=frob * v_norm,
        relative_error=frob,
        converged=built.converged,
        seconds_read_vectorize=round(t1 - t0, 3),
        seconds_nmf=round(t2 - t1, 3),
        seconds_total=round(time.perf_counter() - t0, 3),
    )
    model = m.trained_model(
        H, W, V, vectorizer=vectorizer, nmf_config=config, stats=stats, recorder=recorder,
        documents=documents, created=created, save_doc_topics=save_doc_topics, tree=tree,
    )  # fmt: skip
    return TreeOutput(
        model=model,
        tree=tree,
        W=W,
        doc_ids=recorder.ids,
        empty_documents=int(np.count_nonzero(np.diff(V.indptr) == 0)),
    )


def _assemble(
    built: _Built, leaf_nodes: np.ndarray, share: np.ndarray, vocabulary: list[str]
) -> TopicTree:
    n = len(built.parents)
    topic_of = {int(node): t for t, node in enumerate(leaf_nodes)}
    children: list[list[int]] = [[] for _ in range(n)]
    for node, parent in enumerate(built.parents):
        if parent >= 0:
            children[parent].append(node)
    shares = np.zeros(n)
    for node in range(n - 1, -1, -1):  # children are numbered after their parent
        shares[node] = (
            share[topic_of[node]] if node in topic_of else sum(shares[c] for c in children[node])
        )
    nodes = []
    for node in range(n):
        profile = built.profiles[node]
        ids = top_indices(profile, TREE_TOP)
        ids = ids[profile[ids] > 0]
        nodes.append(
            TreeNode(
                id=node,
                parent=None if built.parents[node] < 0 else built.parents[node],
                children=tuple(children[node]),
                n_docs=len(built.rows[node]),
                share=float(shares[node]),
                term_ids=ids.astype(np.int64),
                weights=profile[ids].astype(np.float64),
                topic=topic_of.get(node),
                score=built.scores[node],
                documents=built.rows[node],
            )
        )
    return TopicTree(nodes, vocabulary)
