"""Counting terms: from token batches to a sparse matrix of texts x term ids.

:class:`TermCounter` takes the :class:`~topicnmf.vectorize.tokenizer.Tokens` batches of a
tokenizer, gives every token an id (:class:`~topicnmf.vectorize.tables.TokenRegistry`),
drops the stop words, forms the word n-grams on token ids (within a text, after stop-word
removal, as scikit-learn does) and interns them in a second hash table, and keeps the
counts per text. Term ids are provisional (order of first appearance); the vectorizer maps
them to vocabulary columns at the end, and only then builds the strings of the terms it
keeps.

A text that came in several batches (a long one, see the tokenizer) becomes one row: the
first row of a continuing batch is added to the last row kept so far, and the last
``max_n - 1`` tokens of a text are carried over so that n-grams spanning two batches are
counted once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from topicnmf.config import VectorizerConfig
from topicnmf.errors import VectorizerError

from .lines import LineFilter
from .phrases import Phrases
from .tables import KeyTable, TokenRegistry
from .tokenizer import Tokens, make_tokenizer
from .words import stop_words_as_read

# Texts are read in chunks of about this many characters (or this many texts): large
# enough that the per-chunk NumPy overhead vanishes, small enough that the temporary
# arrays (a few bytes per character) stay small.
CHUNK_CHARS = 1 << 20
CHUNK_TEXTS = 8192


def chunks(texts: Iterable[str]) -> Iterator[list[str]]:
    """The texts in lists of about :data:`CHUNK_CHARS` characters."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("expected an iterable of texts, got a single string")
    chunk: list[str] = []
    size = 0
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"expected str texts, got {type(text).__name__}")
        chunk.append(text)
        size += len(text) + 1
        if size >= CHUNK_CHARS or len(chunk) >= CHUNK_TEXTS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def count_texts(
    config: VectorizerConfig,
    texts: Iterable[str],
    fixed: tuple[TokenRegistry, np.ndarray] | None = None,
    *,
    lines: LineFilter | None = None,
    phrases: Phrases | None = None,
) -> TermCounter:
    """Tokenize and count ``texts`` chunk by chunk; see :class:`TermCounter` for ``fixed``.

    ``lines`` removes boilerplate lines from each text first (and the tokens they held are
    counted in ``n_boilerplate``); ``phrases`` joins phrases.
    """
    tokenizer = make_tokenizer(config)
    counter = TermCounter(config, tokenizer.packs, fixed, phrases=phrases)
    for chunk in chunks(texts):
        if lines is not None:
            chunk, removed = lines.clean(chunk)
            if removed:
                counter.n_boilerplate += sum(
                    len(t.key1) + t.n_numbers + t.n_short + t.n_addresses
                    for t in tokenizer.tokenize([removed])
                )
        for tokens in tokenizer.tokenize(chunk):
            counter.add(tokens)
    return counter


@dataclass
class TokenTally:
    """What tokenizing found and dropped, summed over chunks, partitions or passes (a
    :class:`TermCounter` has the same counts), to say why a vocabulary came out empty."""

    n_documents: int = 0
    n_tokens: int = 0  # tokens the tokenizer kept, before stop-word removal
    n_kept_tokens: int = 0  # after it
    n_numbers: int = 0
    n_short: int = 0
    n_addresses: int = 0
    n_boilerplate: int = 0
    n_stop: int = 0  # stop words removed

    @classmethod
    def of(cls, counts: TokenTally | TermCounter) -> TokenTally:
        tally = cls()
        tally.add(counts)
        return tally

    def add(self, counts: TokenTally | TermCounter) -> None:
        for name in TokenTally.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(counts, name))

    def removals(self) -> dict[str, int]:
        """Tokens each token rule removed: the first entries of ``Vectorizer.removed``."""
        return {
            "boilerplate": self.n_boilerplate,
            "addresses": self.n_addresses,
            "numbers": self.n_numbers,
            "short": self.n_short,
            "stop_words": self.n_stop,
        }


def term_frequencies(
    counter: TermCounter,
) -> tuple[sp.csr_matrix, list[str] | None, np.ndarray, np.ndarray]:
    """The counter's counts with equal terms merged (:func:`merge_equal_terms`: the counts
    and, when terms were merged, their strings), each term's document frequency and its
    total count (float64)."""
    counts, merged = merge_equal_terms(counter.counts(), counter)
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    totals = np.bincount(
        counts.indices, weights=counts.data.astype(np.float64), minlength=counts.shape[1]
    )
    return counts, merged, df, totals


def term_strings(counter: TermCounter, merged: list[str] | None, ids: np.ndarray) -> list[str]:
    """The strings of the terms ``ids`` of :func:`term_frequencies`'s counts."""
    return counter.strings(ids) if merged is None else [merged[i] for i in ids.tolist()]


class TermCounter:
    """Count terms (tokens or n-grams of token ids) per text, batch by batch.

    With ``fixed`` (a registry and the column of each token id, from
    :func:`~topicnmf.vectorize.tables.vocabulary_index`), single tokens are only looked up
    and counted straight into their columns; otherwise every token is registered and term
    ids are provisional. ``phrases`` (the parts of each phrase must be in a fixed registry)
    joins each phrase's two tokens into the phrase's token, left to right, before terms
    are counted.
    """

    def __init__(
        self,
        config: VectorizerConfig,
        packs: bool,
        fixed: tuple[TokenRegistry, np.ndarray] | None = None,
        phrases: Phrases | None = None,
    ) -> None:
        self._min_n, self._max_n = config.ngram_range
        self._adjacent = config.adjacent_ngrams
        # column_of[-1] is -1 so that unknown tokens (id -1) map to no column
        self._column_of: np.ndarray | None = None
        if fixed is not None:
            self.tokens, self._column_of = fixed
            self._n_fixed = int(self._column_of.max(initial=-1)) + 1
            if self._max_n != 1:
                raise ValueError("a fixed vocabulary counts single tokens only")
        else:
            self.tokens = TokenRegistry(stop_words_as_read(config), packs=packs)
        self._phrases = None if phrases is None or not len(phrases) else phrases.table(self.tokens)
        # n-grams: a term's key is (prefix term id + 1) << 32 | (last token id + 1),
        # unigrams have prefix -1, so keys are non-zero and unique.
        self._terms = KeyTable(wide=False) if self._max_n > 1 else None
        self._term_keys: list[np.ndarray] = []
        self._n_terms = 0
        # per batch: entries per row, term ids, counts
        self._row_nnz: list[np.ndarray] = []
        self._indices: list[np.ndarray] = []
        self._data: list[np.ndarray] = []
        # last kept token ids of the last text, and whether each starts a run of adjacent ones
        self._carry = np.zeros(0, dtype=np.int64)
        self._carry_starts = np.zeros(0, dtype=bool)
        self.n_documents = 0
        self.n_tokens = 0  # tokens the tokenizer kept, before stop-word removal
        self.n_kept_tokens = 0  # after it
        self.n_stop = 0  # stop words removed
        self.n_numbers = 0  # number-only tokens the tokenizer dropped
        self.n_short = 0  # one-character tokens it dropped
        self.n_boilerplate = 0  # tokens of removed boilerplate lines
        self.n_addresses = 0  # tokens inside e-mail and web addresses the tokenizer dropped

    @property
    def n_terms(self) -> int:
        if self._column_of is not None:
            return self._n_fixed
        return self.tokens.size if self._terms is None else self._n_terms

    def add(self, toks: Tokens) -> None:
        """Count the terms of a batch of tokens."""
        n_rows = len(toks.indptr) - 1
        self.n_numbers += toks.n_numbers
        self.n_short += toks.n_short
        self.n_addresses += toks.n_addresses
        if self._column_of is not None:
            ids = self.tokens.lookup(toks.key1, toks.key2, toks.strs)
            stop = (ids >= 0) & (ids < self.tokens.n_stop)
        else:
            ids = self.tokens.ids(toks.key1, toks.key2, toks.strs)
            stop = ids < self.tokens.n_stop
        self.n_tokens += len(ids)
        keep = ~stop
        # Token offsets of each text after stop-word removal.
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        indptr = kept_before[toks.indptr]
        ids = ids[keep]
        self.n_stop += len(stop) - len(ids)
        starts = None
        if self._phrases is not None or (self._adjacent and self._max_n > 1):
            # a kept token starts a run of adjacent tokens when a dropped token or a stop
            # word stood right before it
            gap = np.zeros(len(stop), dtype=bool) if toks.breaks is None else toks.breaks.copy()
            gap[1:] |= stop[:-1]
            starts = gap[keep]
        if self._phrases is not None:
            assert starts is not None
            ids, indptr, starts = self._phrases.join(ids, indptr, starts)
        if self._column_of is not None:
            ids = self._column_of[ids]
            known = ids >= 0
            indptr = np.concatenate(([0], np.cumsum(known, dtype=np.int64)))[indptr]
            ids = ids[known]
        self.n_kept_tokens += len(ids)
        if self.tokens.size >= 2**31:
            raise VectorizerError("too many distinct tokens (more than 2**31)")
        if self._terms is None:
            counts = sp.csr_matrix(
                (np.ones(len(ids), dtype=np.int32), ids.astype(np.int32), indptr),
                shape=(n_rows, self.n_terms),
            )
        else:
            ended_gap = bool(toks.ends_removed or (len(stop) and stop[-1]))
            starts = starts if self._adjacent else None
            counts = self._count_ngrams(ids, indptr, starts, n_rows, toks.continues, ended_gap)
        counts.sum_duplicates()
        if toks.continues:
            counts = self._join_last_row(counts)
        self._row_nnz.append(np.diff(counts.indptr))
        self._indices.append(counts.indices.astype(np.int32, copy=False))
        self._data.append(counts.data)
        self.n_documents += n_rows - int(toks.continues)

    def _join_last_row(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Take the last row kept so far out and add it to row 0 of ``counts``."""
        nnz = int(self._row_nnz[-1][-1])
        cut = len(self._indices[-1]) - nnz
        last_indices, last_data = self._indices[-1][cut:], self._data[-1][cut:]
        if len(self._row_nnz[-1]) == 1:  # the batch held only that row (a piece of a long text)
            del self._row_nnz[-1], self._indices[-1], self._data[-1]
        else:  # copies, so that the row taken out does not stay in memory
            self._row_nnz[-1] = self._row_nnz[-1][:-1].copy()
            self._indices[-1] = self._indices[-1][:cut].copy()
            self._data[-1] = self._data[-1][:cut].copy()
        indices = np.concatenate((last_indices, counts.indices))
        data = np.concatenate((last_data, counts.data))
        indptr = counts.indptr.astype(np.int64) + nnz
        indptr[0] = 0
        joined = sp.csr_matrix((data, indices, indptr), shape=counts.shape)
        joined.sum_duplicates()
        return joined

    def _intern_terms(self, keys: np.ndarray) -> np.ndarray:
        assert self._terms is not None
        tids, new_keys, _ = self._terms.intern(keys, None, self._n_terms)
        self._n_terms += len(new_keys)
        self._term_keys.append(new_keys)
        return tids

    def _count_ngrams(
        self,
        ids: np.ndarray,
        indptr: np.ndarray,
        starts: np.ndarray | None,
        n_rows: int,
        continues: bool,
        ended_gap: bool,
    ) -> sp.csr_matrix:
        # The last tokens of the text this batch continues go in front of row 0, so that
        # n-grams spanning the two batches are formed; terms ending in them were counted.
        skip = len(self._carry) if continues else 0
        if skip:
            ids = np.concatenate((self._carry, ids))
            if starts is not None:
                starts = np.concatenate((self._carry_starts, starts))
            indptr = indptr + skip
            indptr[0] = 0
        n_tok = len(ids)
        lengths = np.diff(indptr)
        row_of = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        # n-grams are formed within a run of adjacent tokens: within a text, and with
        # adjacency, between the gaps that dropped tokens and stop words leave
        run_start = np.zeros(n_tok, dtype=bool) if starts is None else starts.copy()
        run_start[indptr[:-1][lengths > 0]] = True
        bounds = np.append(np.flatnonzero(run_start), n_tok)
        run_end = np.repeat(bounds[1:], np.diff(bounds))
        last = (ids + 1).astype(np.uint64)
        prefix = self._intern_terms(last)  # unigram term of each position
        rows, cols = [], []
        if self._min_n == 1:
            rows.append(row_of[skip:])
            cols.append(prefix[skip:])
        positions = np.arange(n_tok, dtype=np.int64)
        for n in range(2, self._max_n + 1):
            # n-grams starting at each position that end inside the same run
            begin = positions[: max(n_tok - n + 1, 0)]
            begin = begin[begin + n <= run_end[: len(begin)]]
            if not len(begin):
                break
            keys = ((prefix[begin] + 1).astype(np.uint64) << np.uint64(32)) | last[begin + n - 1]
            tids = self._intern_terms(keys)
            if n >= self._min_n:
                new = begin + n > skip
                rows.append(row_of[begin[new]])
                cols.append(tids[new])
            prefix = np.full(n_tok, -1, dtype=np.int64)
            prefix[begin] = tids
        if self._n_terms >= 2**31 or self.tokens.size >= 2**32 - 1:
            raise VectorizerError(
                "too many distinct terms (more than 2**31); use a smaller ngram_range"
            )
        # carry the last tokens of the last text's last run (none after a gap)
        carry_from = max(int(indptr[-2]), n_tok - (self._max_n - 1), int(bounds[-2]) if
                         starts is not None and n_tok else 0)  # fmt: skip
        if starts is not None and ended_gap:
            carry_from = n_tok
        self._carry = ids[carry_from:]
        self._carry_starts = run_start[carry_from:]
        row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        return sp.coo_matrix(
            (np.ones(len(row), dtype=np.int32), (row, col)), shape=(n_rows, self.n_terms)
        ).tocsr()

    def counts(self) -> sp.csr_matrix:
        """Counts of all texts added so far (texts x provisional term ids), int32."""
        indptr = np.zeros(self.n_documents + 1, dtype=np.int64)
        if self._row_nnz:
            np.cumsum(np.concatenate(self._row_nnz), out=indptr[1:])
        indices = np.concatenate(self._indices) if self._indices else np.zeros(0, np.int32)
        data = np.concatenate(self._data) if self._data else np.zeros(0, np.int32)
        if indptr[-1] < 2**31:
            indptr = indptr.astype(np.int32)
        return sp.csr_matrix(
            (data, indices, indptr), shape=(self.n_documents, self.n_terms), copy=False
        )

    def strings(self, term_ids: np.ndarray) -> list[str]:
        """The term (token or space-joined n-gram) of each provisional term id."""
        term_ids = np.asarray(term_ids, dtype=np.int64)
        if self._terms is None:
            return self.tokens.strings(term_ids)
        keys = np.concatenate(self._term_keys) if self._term_keys else np.zeros(0, np.uint64)
        self._term_keys = [keys]
        memo: dict[int, str] = {}
        # Resolve level by level: the prefix of an n-gram is an (n-1)-gram.
        needed = [term_ids]
        frontier = term_ids
        for _ in range(self._max_n - 1):
            prefix = (keys[frontier] >> np.uint64(32)).astype(np.int64) - 1
            frontier = np.unique(prefix[prefix >= 0])
            if not len(frontier):
                break
            needed.append(frontier)
        for level in reversed(needed):
            level = np.unique(level)
            k = keys[level]
            prefix = ((k >> np.uint64(32)).astype(np.int64) - 1).tolist()
            last = self.tokens.strings((k & np.uint64(0xFFFFFFFF)).astype(np.int64) - 1)
            for tid, pre, tok in zip(level.tolist(), prefix, last, strict=True):
                memo[tid] = tok if pre < 0 else memo[pre] + " " + tok
        return [memo[t] for t in term_ids.tolist()]

    def may_collide(self) -> bool:
        """Whether two term ids can have the same string (tokens containing spaces)."""
        return self._terms is not None and self.tokens.has_space


def merge_equal_terms(
    counts: sp.csr_matrix, counter: TermCounter
) -> tuple[sp.csr_matrix, list[str] | None]:
    """Merge columns whose terms are the same string.

    Only possible with a custom token pattern that matches spaces and n-grams
    ("a b"+"c" and "a"+"b c"); scikit-learn counts these as one term.  Returns the
    counts and the term of each new column (None: nothing to merge).
    """
    if not counter.may_collide():
        return counts, None
    seen = np.flatnonzero(np.diff(counts.tocsc().indptr))
    terms = counter.strings(seen)
    canonical: dict[str, int] = {}
    new_col = np.full(counts.shape[1], -1, dtype=np.int64)
    for tid, term in zip(seen.tolist(), terms, strict=True):
        new_col[tid] = canonical.setdefault(term, len(canonical))
    merged = sp.csr_matrix(
        (counts.data, new_col[counts.indices], counts.indptr),
        shape=(counts.shape[0], len(canonical)),
    )
    merged.sum_duplicates()
    return merged, list(canonical)


def select_columns(
    counts: sp.csr_matrix, column: np.ndarray, n_columns: int, merge: bool = False
) -> sp.csr_matrix:
    """Renumber columns by ``column`` (old id -> new id, -1 = drop); with ``merge``, sum
    the columns that get the same new id."""
    new = column[counts.indices]
    keep = new >= 0
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    indptr = kept_before[counts.indptr]
    index_dtype = np.int32 if indptr[-1] < 2**31 else np.int64
    out = sp.csr_matrix(
        (counts.data[keep], new[keep].astype(index_dtype), indptr.astype(index_dtype)),
        shape=(counts.shape[0], n_columns),
    )
    if merge:
        out.sum_duplicates()
    else:
        out.has_sorted_indices = False
        out.sort_indices()
    return out
