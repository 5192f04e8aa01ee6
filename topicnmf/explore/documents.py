"""The documents that best represent each topic, found by streaming a corpus.

A corpus is read a batch at a time; each topic keeps only its ``top`` best documents so
far, so memory is O(k * top + batch) whatever the corpus size. Documents are ranked by
their normalized weight for the topic (weights summing to 1 per document), ties by id.

When the model stores its training documents' weights and the corpus is the training
corpus (same ids in the same order, and the same fingerprint of ids and texts), the stored
weights are used instead of solving for them again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from topicnmf.errors import ParameterError

__all__ = ["Representative", "RepresentativeResult", "representative_documents", "snippet"]

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Representative:
    """One representative document of a topic."""

    topic: int
    rank: int
    id: str
    weight: float
    snippet: str
    text: str | None = None


@dataclass
class RepresentativeResult:
    """What :func:`representative_documents` found.

    Attributes
    ----------
    rows : list of Representative
        By topic (in the order asked), then rank.
    n_documents : int
        Documents read (or stored).
    source : str
        ``"stored"`` when the model's stored weights were used, ``"computed"`` when they
        were solved for, ``"stored-without-text"`` for stored weights with no corpus.
    """

    rows: list[Representative] = field(default_factory=list)
    n_documents: int = 0
    source: str = "computed"


def snippet(text: str, chars: int) -> str:
    """The first ``chars`` characters of ``text`` with whitespace collapsed ('…' if cut)."""
    if chars <= 0:
        return ""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= chars:
        return flat
    return flat[: max(chars - 1, 0)].rstrip() + "…"


class _Best:
    """The best ``top`` documents of each chosen topic so far."""

    def __init__(self, topics: Sequence[int], top: int, min_weight: float, exclusive: bool):
        self.topics = list(topics)
        self.top = top
        self.min_weight = min_weight
        self.exclusive = exclusive
        self.kept: dict[int, list[tuple[float, str, Any]]] = {t: [] for t in self.topics}

    def add(self, ids: Sequence[str], W: np.ndarray, payload: Callable[[int], Any]) -> None:
        """Offer a batch: ``W`` normalized weights, ``payload(i)`` what to keep of row i."""
        if len(ids) == 0:
            return
        dominant = W.argmax(axis=1)
        id_array = np.asarray(ids, dtype=object)
        for t in self.topics:
            w = W[:, t]
            mask = (w > 0) & (w >= self.min_weight)
            if self.exclusive:
                mask &= dominant == t
            idx = np.flatnonzero(mask)
            if len(idx) == 0:
                continue
            kept = self.kept[t]
            if len(kept) == self.top:  # only rows that can beat the worst kept one
                idx = idx[w[idx] >= kept[-1][0] * -1]
            if len(idx) > self.top:
                order = sorted(idx.tolist(), key=lambda i: (-float(w[i]), id_array[i]))
                idx = np.asarray(order[: self.top])
            merged = kept + [(-float(w[i]), str(id_array[i]), payload(int(i))) for i in idx]
            merged.sort(key=lambda e: (e[0], e[1]))
            self.kept[t] = merged[: self.top]

    def rows(self) -> list[Representative]:
        out = []
        for t in self.topics:
            for rank, (neg, doc_id, (snip, text)) in enumerate(self.kept[t], start=1):
                out.append(Representative(t, rank, doc_id, -neg, snip, text))
        return out


class _Fingerprint:
    """The training corpus fingerprint, computed as a fit computes it (id and text, each
    length-prefixed, SHA-256)."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def update(self, doc_id: str, text: str) -> None:
        for part in (doc_id, text):
            data = part.encode("utf-8", "surrogatepass")
            self.digest.update(len(data).to_bytes(8, "little"))
            self.digest.update(data)

    def value(self) -> str:
        return "sha256:" + self.digest.hexdigest()


def representative_documents(
    model: Any,
    batches: Callable[[], Iterable[Sequence[Any]]] | None = None,
    *,
    top: int = 5,
    topics: Sequence[int] | None = None,
    min_weight: float = 0.0,
    exclusive: bool = False,
    snippet_chars: int = 200,
    full_text: bool = False,
    use_stored: bool = True,
    n_threads: int | None = None,
    weigh: Callable[[list[str]], Any] | None = None,
) -> RepresentativeResult:
    """The ``top`` documents that best represent each topic.

    Parameters
    ----------
    model : TopicModel
    batches : callable, optional
        Returns an iterable of batches (sequences of documents with ``id`` and ``text``);
        called once, or twice when stored weights turn out not to fit the corpus. Without
        it, the model's stored training weights are ranked (ids only, no text).
    top : int
        Documents per topic.
    topics : sequence of int, optional
        Topics to rank (default: all), in the order to report them.
    min_weight : float
        Leave out documents whose weight for the topic is below this (weights sum to 1).
    exclusive : bool
        Only documents whose dominant topic it is.
    snippet_chars : int
        Length of each snippet (0: none).
    full_text : bool
        Also keep each document's whole text.
    use_stored : bool
        Use the model's stored weights when the corpus is its training corpus.
    n_threads : int, optional
        Threads for solving the weights.
    weigh : callable, optional
        ``weigh(texts) -> W``, the topic weights of a batch computed elsewhere (on a
        cluster); by default ``model.transform``.
    """
    chosen = _check(model, top, topics, min_weight, snippet_chars)
    stored = use_stored and model.W is not None and model.doc_ids is not None
    if batches is None:
        if not stored and model.W is None:
            raise ParameterError(
                "this model holds no training document weights: give a corpus, or fit "
                "with save_doc_topics=True",
                param="documents",
            )
        from topicnmf.model import normalize_rows

        best = _Best(chosen, top, min_weight, exclusive)
        best.add(model.doc_ids, normalize_rows(model.W), lambda i: ("", None))
        return RepresentativeResult(best.rows(), len(model.doc_ids), "stored-without-text")
    if weigh is None:

        def weigh(texts: list[str]) -> Any:
            return model.transform(texts, n_threads=n_threads)

    if stored:
        result = _scan(model, batches(), chosen, top, min_weight, exclusive, snippet_chars,
                       full_text, weigh, stored=True)  # fmt: skip
        if result is not None:
            return result
    scanned = _scan(model, batches(), chosen, top, min_weight, exclusive, snippet_chars,
                    full_text, weigh, stored=False)  # fmt: skip
    assert scanned is not None
    return scanned


def _check(
    model: Any, top: int, topics: Sequence[int] | None, min_weight: float, snippet_chars: int
) -> list[int]:
    if top < 1:
        raise ParameterError(f"top must be at least 1, not {top!r}", param="top", value=top)
    if not 0.0 <= min_weight <= 1.0:
        raise ParameterError(
            f"the minimum weight must be between 0 and 1, not {min_weight!r}",
            param="min_weight",
            value=min_weight,
        )
    if snippet_chars < 0:
        raise ParameterError(
            f"snippet length must be 0 or more, not {snippet_chars!r}",
            param="snippet_chars",
            value=snippet_chars,
        )
    k = model.n_topics
    if topics is None:
        return list(range(k))
    chosen: list[int] = []
    for t in topics:
        if not 0 <= t < k:
            raise ParameterError(
                f"topic {t} does not exist: the model has topics 0 to {k - 1}",
                param="topics",
                value=t,
            )
        if t not in chosen:
            chosen.append(t)
    return chosen


def _scan(
    model: Any,
    batches: Iterable[Sequence[Any]],
    chosen: list[int],
    top: int,
    min_weight: float,
    exclusive: bool,
    snippet_chars: int,
    full_text: bool,
    weigh: Callable[[list[str]], Any],
    *,
    stored: bool,
) -> RepresentativeResult | None:
    """One pass over the corpus. With ``stored``, stored weights are used while the ids
    match the training ids; None means they were used but the corpus turned out not to be
    the training corpus (the caller solves for the weights instead)."""
    from topicnmf.model import normalize_rows

    best = _Best(chosen, top, min_weight, exclusive)
    fingerprint = _Fingerprint()
    stored_ids = model.doc_ids if stored else None
    matching = stored
    used_stored = False
    n = 0
    for batch in batches:
        ids = [d.id for d in batch]
        texts = [d.text for d in batch]
        if stored:
            for doc_id, text in zip(ids, texts, strict=True):
                fingerprint.update(doc_id, text)
        if matching and stored_ids[n : n + len(ids)] == ids:
            W = model.W[n : n + len(ids)]
            used_stored = True
        else:
            matching = False
            W = weigh(texts)
        n += len(ids)
        best.add(
            ids,
            normalize_rows(W),
            lambda i, texts=texts: (
                snippet(texts[i], snippet_chars),
                texts[i] if full_text else None,
            ),
        )
    if stored and used_stored:
        if not (matching and n == len(stored_ids) and fingerprint.value() == model.fingerprint):
            return None
        return RepresentativeResult(best.rows(), n, "stored")
    return RepresentativeResult(best.rows(), n, "computed")
