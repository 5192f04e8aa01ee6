"""Dynamic topics (Greene & Cross 2017): one NMF per time window, then one over their topics.

Each window's documents (rows of one TF-IDF matrix, so every window shares the vocabulary)
get their own NMF with ``k_window`` topics. The window topics, each row of H scaled to sum
to 1 and cut to its ``top`` strongest terms as in the paper, are stacked into a matrix of
window topics x terms; a second NMF with ``n_components`` topics of that matrix gives the
dynamic topics (its H) and how much each window topic belongs to each of them (its W). A
window topic is linked to the dynamic topic with its largest weight.

``model.fit(windows=...)`` uses it and stores the window topics in the model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from topicnmf.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class DynamicTopics:
    """The result of :func:`dynamic_topics`.

    Attributes
    ----------
    H : numpy.ndarray of shape (n_components, n_terms)
        The dynamic topics, rows summing to 1, largest share first.
    window_H : numpy.ndarray of shape (n_window_topics, n_terms)
        Every window's topics, rows summing to 1, window by window.
    window : numpy.ndarray of shape (n_window_topics,)
        The window of each window topic.
    dynamic : numpy.ndarray of shape (n_window_topics,)
        The dynamic topic each window topic belongs to most.
    weight : numpy.ndarray of shape (n_window_topics,)
        That membership's share of the window topic's weights (0 to 1).
    result : NMFResult
        The second fit (iterations, loss, convergence).
    """

    H: np.ndarray
    window_H: np.ndarray
    window: np.ndarray
    dynamic: np.ndarray
    weight: np.ndarray
    result: Any = None

    def frame(self, vocabulary: list[str], top: int = 5) -> pd.DataFrame:
        """One row per window topic: window, window_topic, dynamic_topic, weight, top_terms."""
        import pandas as pd

        from topicnmf.quality.metrics import top_indices

        counters: dict[int, int] = {}
        rows = []
        for i, w in enumerate(self.window.tolist()):
            counters[w] = counters.get(w, -1) + 1
            terms = [vocabulary[j] for j in top_indices(self.window_H[i], top)]
            rows.append((w, counters[w], int(self.dynamic[i]), float(self.weight[i]), terms))
        return pd.DataFrame(
            rows, columns=["window", "window_topic", "dynamic_topic", "weight", "top_terms"]
        )


def dynamic_topics(
    V: Any,
    window_index: np.ndarray,
    config: Any,
    *,
    k_window: int | None = None,
    top: int = 20,
    n_threads: int | None = None,
) -> DynamicTopics:
    """Fit window topics, then dynamic topics over them.

    Parameters
    ----------
    V : sparse matrix of shape (n_documents, n_terms)
        TF-IDF of every document, one vocabulary.
    window_index : numpy.ndarray of shape (n_documents,)
        Each document's window (0, 1, ...); a window without documents is skipped.
    config : NMFConfig
        Settings of every fit; ``n_components`` is the number of dynamic topics.
    k_window : int, optional
        Topics per window (default: ``config.n_components``; fewer when a window has
        fewer documents or terms).
    top : int
        Terms kept of each window topic in the stacked matrix (the rest are 0).
    n_threads : int, optional
        Threads of the solver.

    Returns
    -------
    DynamicTopics
    """
    import scipy.sparse as sp

    from topicnmf.model import order_topics, scale_topics
    from topicnmf.nmf import fit_nmf
    from topicnmf.quality.metrics import top_indices

    V = sp.csr_matrix(V)
    window_index = np.asarray(window_index, dtype=np.int64)
    if window_index.shape != (V.shape[0],):
        raise ParameterError("one window per document is needed", param="windows")
    k_window = k_window or config.n_components
    blocks, windows = [], []
    for w in np.unique(window_index).tolist():
        rows = V[window_index == w]
        columns = np.flatnonzero(rows.getnnz(axis=0))  # only the window's own terms
        Vw = rows[:, columns]
        k = min(k_window, *Vw.shape)
        if k < 1:
            continue
        result = fit_nmf(Vw, replace(config, n_components=k), n_threads=n_threads)
        _, Hw, _ = order_topics(result.W, result.H)
        full = np.zeros((k, V.shape[1]))
        full[:, columns] = scale_topics(Hw)
        blocks.append(full)
        windows += [w] * k
    if not blocks:
        raise ParameterError("no window has documents with terms", param="windows")
    window_H = np.vstack(blocks)
    stacked = np.zeros_like(window_H)
    for i, row in enumerate(window_H):
        keep = top_indices(row, top)
        stacked[i, keep] = row[keep]
    k_dyn = min(config.n_components, *stacked.shape)
    second = fit_nmf(sp.csr_matrix(stacked), replace(config, n_components=k_dyn),
                     n_threads=n_threads)  # fmt: skip
    B, H, _ = order_topics(second.W, second.H)
    sums = B.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(sums > 0, B.max(axis=1) / np.where(sums > 0, sums, 1.0), 0.0)
    return DynamicTopics(
        H=scale_topics(H),
        window_H=window_H,
        window=np.asarray(windows, dtype=np.int64),
        dynamic=np.argmax(B, axis=1).astype(np.int64),
        weight=weight,
        result=second,
    )


def window_topics_frame(windows: Any, vocabulary: list[str], top: int = 5) -> pd.DataFrame:
    """A dynamic model's window topics, one row each.

    Parameters
    ----------
    windows : WindowTopics
        ``TopicModel.windows``.
    vocabulary : list of str
        The model's vocabulary.
    top : int
        Terms per window topic.

    Returns
    -------
    pandas.DataFrame
        Columns ``topic`` (the dynamic topic), ``window``, ``window_start``, ``window_end``,
        ``top_terms`` (a list), ordered by topic, then window.
    """
    import pandas as pd

    from topicnmf.quality.metrics import top_indices

    rows = []
    for i, (w, t) in enumerate(zip(windows.window.tolist(), windows.dynamic.tolist(), strict=True)):
        row = windows.H[i]
        terms = [vocabulary[j] for j in top_indices(row, top) if row[j] > 0]
        rows.append((int(t), int(w), windows.starts[w], windows.ends[w], terms))
    frame = pd.DataFrame(
        rows, columns=["topic", "window", "window_start", "window_end", "top_terms"]
    )
    return frame.sort_values(["topic", "window"], kind="stable").reset_index(drop=True)
