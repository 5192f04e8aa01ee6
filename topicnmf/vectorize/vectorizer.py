"""The TF-IDF vectorizer: learn a vocabulary and idf weights, turn texts into a sparse matrix.

With :meth:`VectorizerConfig.sklearn_compatible` settings the matrix is the one
scikit-learn's ``TfidfVectorizer`` gives (same vocabulary, idf and values up to float32
rounding); the tool's defaults add its own token rules (see
:class:`~topicnmf.config.VectorizerConfig`). Either way it is computed by the engine of
this package (:mod:`~topicnmf.vectorize.tokenizer`, :mod:`~topicnmf.vectorize.words`,
:mod:`~topicnmf.vectorize.tables`, :mod:`~topicnmf.vectorize.counting`) so that it is
several times faster and reads its texts as a stream. The vocabulary is sorted like
scikit-learn's, so the output depends neither on the order in which terms were first met nor
on how the texts were cut into chunks.

Fitting reads the texts once, or more when a rule needs a first look at the whole corpus:
boilerplate lines (``max_line_df``: a pass counting lines, :mod:`~topicnmf.vectorize.lines`)
and phrases (``phrases``: a pass counting pairs of tokens,
:mod:`~topicnmf.vectorize.phrases`). Those passes keep counts, never the texts, so the
texts must be re-iterable (a list, a corpus); a one-shot iterator is read into a list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np
import scipy.sparse as sp

from topicnmf._text import count
from topicnmf.config import VectorizerConfig
from topicnmf.errors import ModelFileError, ParameterError, VectorizerError

from . import arrays
from .counting import (
    TermCounter,
    TokenTally,
    chunks,
    count_texts,
    select_columns,
    term_frequencies,
    term_strings,
)
from .lines import LineCounter, LineFilter
from .phrases import PairCounter, Phrases
from .tables import TokenRegistry, vocabulary_index
from .tokenizer import make_tokenizer
from .words import check_tokenizer, stop_words_as_read

# The rules whose removals fit counts, in the order they apply (Vectorizer.removed).
REMOVAL_RULES = (
    "boilerplate", "addresses", "numbers", "short", "stop_words", "min_df", "max_df",
    "max_features",
)  # fmt: skip

logger = logging.getLogger("topicnmf")


def _describe_df(name: str, value: float | int, n_documents: int) -> str:
    """``min_df``/``max_df`` as a number of documents, for messages."""
    if isinstance(value, int):
        return f"{count(value, 'document')} ({name}={value})"
    return f"{value * 100:.4g}% of the {count(n_documents, 'document')} ({name}={value!r})"


def _all_terms(n: int) -> str:
    """The subject of a sentence about every term: "all 6 terms occur", "the 1 term occurs"."""
    return "the 1 term occurs" if n == 1 else f"all {count(n, 'term')} occur"


def _show_df(name: str, value: float | int, documents: float) -> str:
    if isinstance(value, int):
        return f"{name}={value}"
    noun = "document" if documents == 1 else "documents"
    return f"{name}={value!r} (= {documents:g} {noun})"


class Vectorizer:
    """TF-IDF vectorizer equal to scikit-learn's ``TfidfVectorizer``, faster, streaming.

    Parameters
    ----------
    config : VectorizerConfig
        The settings. Tokenizing runs in the calling thread (a helper thread measured as
        no gain).

    Attributes
    ----------
    vocabulary : list of str
        Terms in column order (sorted).
    idf : ndarray of float64
        Idf weight of each term (all ones when ``use_idf`` is false).
    document_frequency : ndarray of int64
        Number of training texts containing each term.
    n_documents : int
        Number of training texts.
    boilerplate : list of str
        The boilerplate lines removed from every text (sorted), found at fit time.
    phrases : Phrases
        The phrases joined into one token, found at fit time.
    removed : dict of str to int
        How many tokens each rule removed at fit time (:data:`REMOVAL_RULES`): the tokens
        of boilerplate lines, number-only tokens, one-character tokens, stop words, and
        the occurrences of the terms dropped by ``min_df``, ``max_df`` and
        ``max_features`` (with n-grams, occurrences of n-grams). Empty for a model
        fitted by a topicnmf that did not count them.
    boilerplate_documents : int
        Training texts that lost at least one boilerplate line.
    """

    def __init__(self, config: VectorizerConfig | None = None) -> None:
        if config is None:
            config = VectorizerConfig()
        if not isinstance(config, VectorizerConfig):
            raise ParameterError(f"config must be a VectorizerConfig, got {config!r}")
        config.validate()
        self.config = config
        self.vocabulary: list[str] = []
        self.idf = np.zeros(0, dtype=np.float64)
        self.document_frequency = np.zeros(0, dtype=np.int64)
        self.n_documents = 0
        self.boilerplate: list[str] = []
        self.phrases = Phrases([], [])
        self.removed: dict[str, int] = {}
        self.boilerplate_documents = 0
        self._fitted = False
        self._columns: dict[str, int] | None = None
        self._index: tuple[TokenRegistry, np.ndarray] | None = None

    def __repr__(self) -> str:
        state = count(len(self.vocabulary), "term") if self._fitted else "not fitted"
        return f"Vectorizer({state}, config={self.config!r})"

    # ---------------------------------------------------------------- fitting

    def fit_transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Learn the vocabulary and idf from ``texts`` and return their TF-IDF matrix.

        Parameters
        ----------
        texts : iterable of str
            Read chunk by chunk: once, or once per first pass (boilerplate lines, phrases),
            in which case an iterator is first read into a list.

        Returns
        -------
        scipy.sparse.csr_matrix of float32, shape (n_texts, n_terms)

        Raises
        ------
        VectorizerError
            When no term is left, with ``param`` naming the setting that removed them
            (``min_df``, ``max_df``, ``stop_words``, ``token_pattern``, ``ngram_range``,
            ``keep_numbers``), or when the tokenizer cannot run (``tokenizer``).
        """
        cfg = self.config
        check_tokenizer(cfg)
        if cfg.lowercase and cfg.token_pattern is not None:
            upper = [w for w in cfg.stop_words if w != w.lower()]
            if upper:
                logger.warning(
                    "%s %s capitals (e.g. %r) and can never match lowercased text",
                    count(len(upper), "stop word"),
                    "contains" if len(upper) == 1 else "contain",
                    upper[0],
                )
        if (cfg.max_line_df is not None or cfg.phrases) and iter(texts) is texts:
            texts = list(texts)  # a one-shot iterator: the passes need the texts again
        hashes = self._boilerplate_hashes(texts)
        phrases = Phrases([], [])
        if cfg.phrases:
            phrases = self._detect_phrases(texts, LineFilter(hashes) if hashes else None)
        lines = LineFilter(hashes) if hashes else None
        counter = count_texts(cfg, texts, lines=lines, phrases=phrases)
        counts, merged_terms, df, totals = term_frequencies(counter)
        candidates = within_df_limits(cfg, counter, df)
        terms = term_strings(counter, merged_terms, candidates)
        order = sorted(range(len(terms)), key=terms.__getitem__)
        candidates = candidates[order]
        terms = [terms[i] for i in order]
        after_df = int(totals[candidates].sum())
        if cfg.max_features is not None and len(candidates) > cfg.max_features:
            picked = most_frequent(cfg, candidates, totals)
            candidates = candidates[picked]
            terms = [terms[i] for i in picked.tolist()]

        column = np.full(counts.shape[1], -1, dtype=np.int64)
        column[candidates] = np.arange(len(candidates))
        counts = select_columns(counts, column, len(candidates))

        self.vocabulary = terms
        self.document_frequency = df[candidates].astype(np.int64)
        self.n_documents = counter.n_documents
        self.idf = self._idf(self.document_frequency, self.n_documents)
        self.boilerplate = sorted(lines.found) if lines is not None else []
        self.boilerplate_documents = lines.n_documents if lines is not None else 0
        self.phrases = phrases
        self.removed = removal_counts(
            cfg, TokenTally.of(counter), df, totals, after_df, int(counts.data.sum())
        )
        self._columns = None
        self._index = None
        self._fitted = True
        return self._weight(counts)

    def _boilerplate_hashes(self, texts: Iterable[str]) -> frozenset[int]:
        """Pass 1 of boilerplate removal: the hashes of the lines to remove."""
        if self.config.max_line_df is None:
            return frozenset()
        line_counter = LineCounter()
        for chunk in chunks(texts):
            line_counter.add(chunk)
        return line_counter.frequent(self.config.max_line_df)

    def _detect_phrases(self, texts: Iterable[str], lines: LineFilter | None) -> Phrases:
        """Pass 2 of phrase detection: count tokens and pairs, choose the phrases."""
        cfg = self.config
        tokenizer = make_tokenizer(cfg)
        pairs = PairCounter(TokenRegistry(stop_words_as_read(cfg), packs=tokenizer.packs))
        for chunk in chunks(texts):
            if lines is not None:
                chunk, _ = lines.clean(chunk)
            for tokens in tokenizer.tokenize(chunk):
                pairs.add(tokens)
        return pairs.phrases(cfg.phrase_min_count, cfg.phrase_threshold)

    def _idf(self, df: np.ndarray, n_documents: int) -> np.ndarray:
        if not self.config.use_idf:
            return np.ones(len(df), dtype=np.float64)
        # Same operations in the same order as scikit-learn, so the same bits.
        smooth = self.config.smooth_idf
        denominator = df.astype(np.float64) + float(smooth)
        idf = np.full_like(denominator, fill_value=n_documents + int(smooth))
        with np.errstate(divide="ignore"):
            idf /= denominator
            np.log(idf, out=idf)
        idf += 1.0
        return idf

    # -------------------------------------------------------------- transform

    def _require_fitted(self) -> None:
        if not self._fitted:
            raise VectorizerError("the vectorizer is not fitted: call fit_transform first")

    def count_transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Raw term counts of ``texts`` under the fitted vocabulary.

        Parameters
        ----------
        texts : iterable of str

        Returns
        -------
        scipy.sparse.csr_matrix of int32, shape (n_texts, n_terms)
            Unknown terms are ignored; sorted indices, no explicit zeros.
        """
        self._require_fitted()
        lines = LineFilter(lines=self.boilerplate) if self.boilerplate else None
        if self.config.ngram_range[1] == 1:
            if self._index is None:
                packs = make_tokenizer(self.config).packs
                self._index = vocabulary_index(
                    stop_words_as_read(self.config), self.vocabulary, packs, self.phrases.parts
                )
            return count_texts(
                self.config, texts, fixed=self._index, lines=lines, phrases=self.phrases
            ).counts()
        # n-grams: count into provisional terms as fit does, then find their columns
        # by name.
        counter = count_texts(self.config, texts, lines=lines, phrases=self.phrases)
        counts = counter.counts()
        seen = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]))
        if self._columns is None:
            self._columns = {term: i for i, term in enumerate(self.vocabulary)}
        get = self._columns.get
        column = np.full(counts.shape[1], -1, dtype=np.int64)
        column[seen] = [get(t, -1) for t in counter.strings(seen)]
        # Several provisional terms can only share a column when tokens contain spaces;
        # select_columns sums such duplicates.
        return select_columns(counts, column, len(self.vocabulary), merge=counter.may_collide())

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """TF-IDF matrix of ``texts`` under the fitted vocabulary and idf.

        Parameters
        ----------
        texts : iterable of str
            Read once, chunk by chunk.

        Returns
        -------
        scipy.sparse.csr_matrix of float32, shape (n_texts, n_terms)
            Unknown terms are ignored: a text without a known term is an all-zero row.
        """
        return self._weight(self.count_transform(texts))

    def binary_doc_term(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Which vocabulary terms occur in which texts (for co-occurrence statistics).

        Returns
        -------
        scipy.sparse.csr_matrix of bool, shape (n_texts, n_terms)
        """
        counts = self.count_transform(texts)
        return sp.csr_matrix(
            (np.ones(len(counts.data), dtype=bool), counts.indices, counts.indptr),
            shape=counts.shape,
        )

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        cfg = self.config
        data = counts.data.astype(np.float64)
        if cfg.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        if cfg.use_idf:
            data *= self.idf[counts.indices]
        if cfg.norm is not None and len(data):
            rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
            # Summed in index order, as scikit-learn's normalize() does.
            if cfg.norm == "l2":
                norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
            else:
                norms = np.bincount(rows, weights=np.abs(data), minlength=counts.shape[0])
            norms[norms == 0.0] = 1.0
            data /= norms[rows]
        return sp.csr_matrix(
            (data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape
        )

    # ---------------------------------------------------------- serialization

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state and the configuration as plain arrays.

        Names: ``format_version``, ``vocabulary_utf8`` + ``vocabulary_offsets`` (the
        vocabulary, packed, in column order), ``idf`` (float64), ``document_frequency``
        (int64), ``n_documents``, and one array per config field: ``lowercase``,
        ``token_pattern``, ``stop_words``, ``ngram_range``, ``min_df``/``max_df`` (int64 =
        documents, float64 = proportion), ``max_features`` (-1 = None), ``sublinear_tf``,
        ``norm`` ("none" = None), ``use_idf``, ``smooth_idf``, ``keep_numbers``,
        ``adjacent_ngrams``, ``max_line_df`` (int64 -1 = None), ``phrases``,
        ``phrase_min_count``, ``phrase_threshold``, ``tokenizer``; ``token_pattern`` ""
        is None (the word rule). Then what the rules found and did: ``boilerplate_utf8`` +
        ``boilerplate_offsets`` (the boilerplate lines), ``boilerplate_documents``,
        ``phrase_first_*`` and ``phrase_second_*`` (the phrases' tokens, packed),
        ``removed_rules`` and ``removed_tokens`` (:attr:`removed`). A caller storing them
        beside other arrays adds its own prefix (``model.py`` uses ``vec_``). Files of
        format version 1 (before the token rules) hold none of the new arrays and read as
        scikit-learn's rules.

        Only numeric and fixed-width unicode arrays, so that ``np.savez`` followed by
        ``np.load(allow_pickle=False)`` restores them exactly.
        """
        self._require_fitted()
        return arrays.to_arrays(self)

    @classmethod
    def from_arrays(cls, stored: Mapping[str, np.ndarray]) -> Vectorizer:
        """Rebuild a fitted vectorizer from ``to_arrays()`` output (or a loaded .npz).

        Keys it does not know are ignored.

        Raises
        ------
        ModelFileError
            When an array is missing, has the wrong type or shape, or the arrays
            contradict each other.
        """
        config, state = arrays.from_arrays(stored)
        vectorizer = cls(config)
        vectorizer._set_state(**state)
        return vectorizer

    def _set_state(
        self,
        vocabulary: list[str],
        df: np.ndarray,
        n_documents: int,
        idf: np.ndarray,
        boilerplate: list[str] | None = None,
        phrases: Phrases | None = None,
        removed: dict[str, int] | None = None,
        boilerplate_documents: int = 0,
    ) -> None:
        """Install a fitted state read from arrays, checking the idf against the counts."""
        self.boilerplate = boilerplate or []
        self.phrases = phrases if phrases is not None else Phrases([], [])
        self.removed = removed or {}
        self.boilerplate_documents = boilerplate_documents
        expected = self._idf(df, n_documents)
        if not np.allclose(idf, expected, rtol=1e-12, atol=0.0):
            raise ModelFileError(
                "the model's idf values do not match its document frequencies; the file is corrupt"
            )
        self.vocabulary = vocabulary
        self.idf = idf
        self.document_frequency = df
        self.n_documents = n_documents
        self._fitted = True


def removal_counts(
    config: VectorizerConfig,
    tally: TokenTally,
    df: np.ndarray,
    totals: np.ndarray,
    after_df: int,
    kept: int,
) -> dict[str, int]:
    """:attr:`Vectorizer.removed`: the tokens each token rule removed, then the occurrences
    of the terms that min_df, max_df and max_features removed. ``df`` and ``totals``: every
    term counted (zeros allowed); ``after_df``: the occurrences of the terms within the
    df limits; ``kept``: of the terms kept."""
    low = config.min_df if isinstance(config.min_df, int) else config.min_df * tally.n_documents
    rare = int(totals[(df > 0) & (df < low)].sum())
    return {
        **tally.removals(),
        "min_df": rare,
        "max_df": int(totals.sum()) - rare - after_df,
        "max_features": after_df - kept,
    }


def check_tokens(cfg: VectorizerConfig, counter: TermCounter | TokenTally, n_seen: int) -> None:
    """Raise :class:`VectorizerError` naming the setting that left no term, when tokens,
    kept tokens or terms (``n_seen``) are missing; see ``Vectorizer.fit_transform``."""
    n_docs = counter.n_documents
    if n_docs == 0:
        raise VectorizerError("no documents to vectorize: the corpus is empty")
    dropped = counter.n_numbers + counter.n_short + counter.n_addresses
    if counter.n_tokens + dropped + counter.n_boilerplate == 0:
        what = (
            "no word of letters or digits"
            if cfg.token_pattern is None
            else f"token_pattern {cfg.token_pattern!r} matches nothing"
        )
        raise VectorizerError(
            f"no tokens found in {count(n_docs, 'document')}: "
            f"{'it is' if n_docs == 1 else 'they are'} empty or {what}",
            param="token_pattern",
        )
    if counter.n_tokens == 0 and dropped > 0:
        parts = []
        if counter.n_addresses:
            parts.append(f"{count(counter.n_addresses, 'token')} of e-mail and web addresses")
        if counter.n_numbers:
            parts.append(count(counter.n_numbers, "number"))
        if counter.n_short:
            parts.append(count(counter.n_short, "one-character token"))
        # the setting to change first: the rule that dropped the most
        _, param = max(
            (counter.n_addresses, "keep_addresses"),
            (counter.n_numbers, "keep_numbers"),
            (counter.n_short, "token_pattern"),
        )
        raise VectorizerError(
            f"no terms left: every token of the {count(n_docs, 'document')} was dropped "
            f"({', '.join(parts)})",
            param=param,
        )
    if counter.n_tokens == 0 and counter.n_boilerplate > 0:
        raise VectorizerError(
            f"no terms left: every line of the {count(n_docs, 'document')} was removed as "
            f"boilerplate (max_line_df={cfg.max_line_df!r})",
            param="max_line_df",
        )
    if counter.n_kept_tokens == 0:
        raise VectorizerError(
            f"no terms left: every token is a stop word ({count(n_docs, 'document')}, "
            f"{count(len(cfg.stop_words), 'stop word')})",
            param="stop_words",
        )
    if n_seen == 0:
        raise VectorizerError(
            f"no terms left: no document has {cfg.ngram_range[0]} consecutive tokens "
            f"for ngram_range={cfg.ngram_range!r}",
            param="ngram_range",
        )


def within_df_limits(
    config: VectorizerConfig, counts: TermCounter | TokenTally, df: np.ndarray
) -> np.ndarray:
    """Ids of the terms seen (``df > 0``) whose document frequency is within [min_df,
    max_df] of ``counts.n_documents``; a :class:`VectorizerError` naming the setting when
    there is none, as for every way of fitting (in memory, streamed, on Dask)."""
    n_docs = counts.n_documents
    seen = df > 0
    check_tokens(config, counts, int(seen.sum()))
    high = config.max_df if isinstance(config.max_df, int) else config.max_df * n_docs
    low = config.min_df if isinstance(config.min_df, int) else config.min_df * n_docs
    if high < low:
        raise VectorizerError(
            f"no term can be kept: for {count(n_docs, 'document')}, "
            f"{_show_df('max_df', config.max_df, high)} is below "
            f"{_show_df('min_df', config.min_df, low)}",
            param="min_df",
        )
    not_rare = seen & (df >= low)
    not_common = seen & (df <= high)
    keep = not_rare & not_common
    if not keep.any():
        _explain_empty(config, int(seen.sum()), not_rare, not_common, n_docs)
    return np.flatnonzero(keep)


def most_frequent(
    config: VectorizerConfig, candidates: np.ndarray, totals: np.ndarray
) -> np.ndarray:
    """Positions in ``candidates`` (term ids in the order of the terms' names) of the
    ``max_features`` most frequent. scikit-learn takes the first max_features of an
    (unstable, default-kind) argsort of the negated float64 totals: doing exactly that
    reproduces its choice among tied terms."""
    return np.sort((-totals[candidates]).argsort()[: config.max_features])


def _explain_empty(
    config: VectorizerConfig, n_seen: int, not_rare: np.ndarray, not_common: np.ndarray, n_docs: int
) -> None:
    min_text = _describe_df("min_df", config.min_df, n_docs)
    max_text = _describe_df("max_df", config.max_df, n_docs)
    if not not_rare.any():
        raise VectorizerError(
            f"no terms left: {_all_terms(n_seen)} in fewer than {min_text}",
            param="min_df",
        )
    if not not_common.any():
        raise VectorizerError(
            f"no terms left: {_all_terms(n_seen)} in more than {max_text}",
            param="max_df",
        )
    n_rare = n_seen - int(not_rare.sum())
    raise VectorizerError(
        f"no terms left: of {count(n_seen, 'term')}, {n_rare} "
        f"{'occurs' if n_rare == 1 else 'occur'} in fewer than {min_text} "
        f"and {n_seen - n_rare} in more than {max_text}",
        param="min_df",
    )
