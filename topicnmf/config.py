"""Settings of the two stages: :class:`VectorizerConfig` (TF-IDF) and :class:`NMFConfig`.

They live apart from the code that uses them so that reading and checking settings costs
no NumPy or SciPy import: the command line parses and validates its options, and starts
reading the corpus, before the numerical modules are loaded. ``topicnmf.vectorize`` and
``topicnmf.nmf`` re-export them.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from topicnmf.errors import ParameterError, TopicNMFWarning
from topicnmf.fileio import read_small_file
from topicnmf.regexcheck import exponential_backtracking

__all__ = [
    "DEFAULT_MAX_LINE_DF",
    "DEFAULT_STOP_WORDS",
    "DEFAULT_TOKEN_PATTERN",
    "DTYPES",
    "ENGLISH_CONTRACTIONS",
    "ENGLISH_STOP_WORDS",
    "INITS",
    "LANGUAGES",
    "LOSSES",
    "NMFConfig",
    "SKLEARN_RULES",
    "SOLVERS",
    "STOP_WORD_LISTS",
    "SVDS",
    "TOKENIZERS",
    "VectorizerConfig",
    "resolve_stop_words",
    "stop_words_for",
]

# scikit-learn's default token_pattern: runs of two or more of Python's word characters.
# The tool's own default is the word rule (token_pattern=None, see VectorizerConfig);
# this pattern is what `VectorizerConfig.sklearn_compatible()` uses.
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"

# The English stop-word list of scikit-learn (318 words, unchanged from 0.x to 1.9),
# written out here so that the default of a saved model can never change with a
# library upgrade.  Kept sorted; tests check it still equals scikit-learn's.
_ENGLISH_STOP_WORDS_TEXT = """
a about above across after afterwards again against all almost alone along already
also although always am among amongst amoungst amount an and another any anyhow anyone
anything anyway anywhere are around as at back be became because become becomes becoming
been before beforehand behind being below beside besides between beyond bill both bottom
but by call can cannot cant co con could couldnt cry de describe detail do done down due
during each eg eight either eleven else elsewhere empty enough etc even ever every everyone
everything everywhere except few fifteen fifty fill find fire first five for former
formerly forty found four from front full further get give go had has hasnt have he hence
her here hereafter hereby herein hereupon hers herself him himself his how however hundred
i ie if in inc indeed interest into is it its itself keep last latter latterly least less
ltd made many may me meanwhile might mill mine more moreover most mostly move much must my
myself name namely neither never nevertheless next nine no nobody none noone nor not
nothing now nowhere of off often on once one only onto or other others otherwise our ours
ourselves out over own part per perhaps please put rather re same see seem seemed seeming
seems serious several she should show side since sincere six sixty so some somehow someone
something sometime sometimes somewhere still such system take ten than that the their them
themselves then thence there thereafter thereby therefore therein thereupon these they
thick thin third this those though three through throughout thru thus to together too top
toward towards twelve twenty two un under until up upon us very via was we well were what
whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever
whether which while whither who whoever whole whom whose why will with within without
would yet you your yours yourself yourselves
"""
ENGLISH_STOP_WORDS: tuple[str, ...] = tuple(sorted(set(_ENGLISH_STOP_WORDS_TEXT.split())))

# English contractions, for the word rule (which keeps a word's inner apostrophes): the
# "n't" forms as whole words, and the clitics that the word rule strips from the end of a
# word when they are stop words ("we've" -> "we", "government's" -> "government"). The full
# forms are listed too, so the list reads as what it removes. Never matched by
# scikit-learn's pattern, which cannot produce an apostrophe.
_ENGLISH_CONTRACTIONS_TEXT = """
's 'd 'll 'm 're 've
ain't aren't can't couldn't daren't didn't doesn't don't hadn't hasn't haven't isn't
mightn't mustn't needn't oughtn't shan't shouldn't wasn't weren't won't wouldn't
i'm i've i'd i'll you're you've you'd you'll he's he'd he'll she's she'd she'll it's
it'd it'll we're we've we'd we'll they're they've they'd they'll that's that'll that'd
there's there'll there'd here's what's what'll who's who'll who'd where's when's why's
how's let's could've would've should've might've must've y'all
"""
ENGLISH_CONTRACTIONS: tuple[str, ...] = tuple(sorted(set(_ENGLISH_CONTRACTIONS_TEXT.split())))

# The words of spaCy's English stop list (MIT license, see topicnmf/stopwords/NOTICE) that
# scikit-learn's lacks, its contractions aside: verbs and adverbs of conversation that
# otherwise lead topics of their own on forum text ("just", "really", "does", "did").
_SPACY_ENGLISH_EXTRA = (
    "ca", "did", "does", "doing", "just", "make", "quite", "really", "regarding", "say",
    "unless", "used", "using", "various",
)  # fmt: skip

# MALLET's English stop list (Apache License 2.0; topicnmf/stopwords/english-mallet.txt, see
# its NOTICE) adds the words of conversation and correspondence that lead vague topics of
# their own on forum and mail text ("know", "like", "think", "want", "thanks", "hi") and
# that split real topics between them. Its three pieces of addresses are left out: the
# address rule removes addresses whole (keep_addresses=False), and "com" is also a port.
_MALLET_LEFT_OUT = ("com", "edu", "uucp")

# Named stop-word lists. English is scikit-learn's list with the words spaCy's English list
# and MALLET's add to it, and the contractions above; the others are spaCy's lists (MIT
# license), shipped in topicnmf/stopwords/ (see its NOTICE).
# Chinese, Japanese and Korean have none: their tokens are character pairs.
# "english-small" is the English list without MALLET's words (the default of earlier
# versions): for n-grams and phrases that hold one of them ("new york", "second amendment").
STOP_WORD_LISTS: tuple[str, ...] = (
    "english", "english-small", "danish", "dutch", "finnish", "french", "german", "italian",
    "norwegian", "polish", "portuguese", "russian", "spanish", "swedish",
)  # fmt: skip
_CJK_LANGUAGES = ("chinese", "japanese", "korean")
LANGUAGES: tuple[str, ...] = (
    tuple(name for name in STOP_WORD_LISTS if name != "english-small") + _CJK_LANGUAGES
)
"""Values of :meth:`VectorizerConfig.for_language`."""

TOKENIZERS: tuple[str, ...] = ("regex", "char-bigram", "jieba")
"""Values of ``VectorizerConfig.tokenizer``."""

# Lines repeated verbatim in more than this share of the documents are boilerplate (see
# VectorizerConfig.max_line_df).
DEFAULT_MAX_LINE_DF = 0.005


def _words_of(text: str) -> tuple[str, ...]:
    words = set()
    for line in text.splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.add(word)
    return tuple(sorted(words))


# The token rules (beside its pattern and stop list) under which scikit-learn's
# TfidfVectorizer works: VectorizerConfig.sklearn_compatible(), and model files written
# before the rules existed.
SKLEARN_RULES: dict[str, Any] = {
    "keep_numbers": True,
    "keep_addresses": True,
    "adjacent_ngrams": False,
    "max_line_df": None,
    "phrases": False,
    "tokenizer": "regex",
}


@functools.cache
def stop_words_for(language: str) -> tuple[str, ...]:
    """A bundled stop-word list (see :data:`STOP_WORD_LISTS`: a language of
    :data:`LANGUAGES`, or ``english-small``), sorted.

    Raises
    ------
    ParameterError
        With ``param="stop_words"`` and ``choices``, for an unknown language.
    """
    name = language.strip().lower()
    if name in ("english", "english-small"):
        words = set(ENGLISH_STOP_WORDS) | set(ENGLISH_CONTRACTIONS) | set(_SPACY_ENGLISH_EXTRA)
        if name == "english":
            words |= set(_bundled("english-mallet")) - set(_MALLET_LEFT_OUT)
        return tuple(sorted(words))
    if name in _CJK_LANGUAGES:
        return ()
    if name not in STOP_WORD_LISTS:
        raise ParameterError(
            f"no stop-word list for {language!r}; the lists are: {', '.join(STOP_WORD_LISTS)}",
            param="stop_words",
            value=language,
            choices=STOP_WORD_LISTS,
        )
    return _bundled(name)


def _bundled(name: str) -> tuple[str, ...]:
    """The words of the list ``topicnmf/stopwords/<name>.txt``."""
    from importlib import resources

    text = (resources.files("topicnmf") / "stopwords" / f"{name}.txt").read_text("utf-8")
    return _words_of(text)


DEFAULT_STOP_WORDS: tuple[str, ...] = stop_words_for("english")
"""The default stop words: scikit-learn's English list, the 14 words spaCy's English list
adds to it, the words MALLET's English list adds (but ``com``, ``edu``, ``uucp``), and
:data:`ENGLISH_CONTRACTIONS`."""

_NORMS = ("l1", "l2", None)

LOSSES = ("frobenius", "kl")
SOLVERS = ("cd", "mu", "anls")
INITS = ("nndsvd", "nndsvda", "nndsvdar", "random", "kmeans")
SVDS = ("exact", "randomized")
DTYPES = ("float32", "float64")


# ----------------------------------------------------------------------------- TF-IDF


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def _is_int(value: object) -> bool:
    # numbers.Integral covers NumPy's integer scalars too; bool (and numpy.bool_, which
    # is not Integral) are not counts
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_float(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, Integral)


def _is_real(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_bool(value: object) -> bool:
    if isinstance(value, bool):
        return True
    # a NumPy bool can only exist once NumPy is loaded; this module does not load it
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.bool_)


@dataclass(frozen=True)
class VectorizerConfig:
    """Settings of the TF-IDF stage; the defaults are the tool's defaults.

    The weighting settings (``min_df`` to ``smooth_idf``) mean what they mean in
    scikit-learn's ``TfidfVectorizer``. The token rules are the tool's own by default and
    scikit-learn's with :meth:`sklearn_compatible`, which gives exactly the matrix of a
    ``TfidfVectorizer`` with the same weighting settings.

    Parameters
    ----------
    lowercase : bool
        Lowercase texts (``str.lower``) before tokenizing.
    token_pattern : str or None
        None (the default) is the word rule: a token is a run of letters, marks and digits
        of any script (Unicode categories L, M and N; not ``_``), texts in Unicode form NFC,
        with the apostrophes inside a word kept (``’`` is read as ``'``), so that
        ``don't`` stays one word; a part before the first apostrophe (``l'``) or from the
        last one (``'s``) is removed when it is a stop word, then tokens of one character
        are dropped. A string is a regular expression for a token (Python's ``re``, as
        scikit-learn's ``token_pattern``; with one capturing group the group is the token).
        A pattern whose matching time can grow exponentially with the length of a text is
        refused: one where a repeated part (``*``, ``+``, ``{m,n}`` with n > 1) can match
        the same text in more than one way, because it can match empty text (``(a*)*``),
        holds alternatives that begin alike (``(a|ab)+``), holds repetitions that compete
        for the same characters (``(\\w+\\w+)+``), or because successive repetitions can
        divide a text differently (``(a+)+``, ``(\\w+\\s?)+``). Delimited repetitions
        (``\\w+(?:-\\w+)*``), possessive quantifiers and atomic groups are fine. The check
        (``topicnmf.regexcheck``) is structural and errs on the side of refusing; a pattern
        it accepts can still be slow on very long runs of characters (``a*a*b`` takes time
        quadratic in a run of ``a``), and such work can be interrupted.
    stop_words : tuple of str
        Tokens removed before n-grams are formed.  Stored explicitly (sorted, without
        duplicates) so that a saved model keeps its list whatever library is installed.
        With the word rule (and the CJK tokenizers) they are compared in the form tokens
        take (NFC, ``'``, lowercased when ``lowercase``).
    ngram_range : tuple of (int, int)
        Smallest and largest n of the word n-grams used as terms.
    min_df, max_df : int or float
        Keep terms whose document frequency is at least ``min_df`` and at most
        ``max_df``: an int is a number of documents, a float in [0, 1] a proportion.
    max_features : int or None
        Keep only the most frequent terms (by total count; ties as in scikit-learn).
    sublinear_tf : bool
        Use ``1 + log(tf)`` instead of the raw count.
    norm : {"l2", "l1", None}
        Row normalisation.
    use_idf, smooth_idf : bool
        Weight by idf; add one to every document frequency (as if one extra document
        held every term) so no idf is infinite.
    keep_numbers : bool
        Keep tokens made only of digits (Unicode category N: ``2010``, ``00``, ``½``).
        False drops them (``mp3``, ``x11`` are kept either way).
    keep_addresses : bool
        Keep the tokens inside e-mail addresses and web addresses (``jones@cs.example.edu``,
        ``http://example.org/a.html``, ``www.example.org``; see
        :mod:`topicnmf.vectorize.addresses`). False drops them: their pieces (``edu``,
        ``com``, ``http``, user and host names) are not words.
    adjacent_ngrams : bool
        True: an n-gram (and a phrase) is made of tokens that stand next to each other in
        the text, so one never spans a removed stop word, number or short token. False:
        n-grams are formed after removal, as scikit-learn does ("bank of america" gives
        "bank america").
    max_line_df : int, float or None
        Boilerplate: a line (stripped of surrounding whitespace) repeated verbatim in more
        than this many documents (int) or this share of them (float in (0, 1]) is removed
        before tokenizing, wherever it occurs: signatures, disclaimers, license headers.
        Only documents of two or more non-blank lines are counted and cleaned (a document
        that is one line is never boilerplate), and a line must be in at least two of
        them. The removed lines are kept with the fitted vectorizer, so that new documents
        lose the same lines. None keeps every line.
    phrases : bool
        Detect collocations in a first pass and join each into one token with ``_``
        (``space_shuttle``), as gensim's ``Phrases`` does with its NPMI scoring: adjacent
        tokens a, b (neither removed) with ``count(a b) >= phrase_min_count`` and
        ``NPMI(a, b) = log(P(a b) / (P(a) P(b))) / -log P(a b) >= phrase_threshold``,
        probabilities over all kept tokens. Pairs are joined left to right.
    phrase_min_count : int
        Least number of occurrences of a phrase.
    phrase_threshold : float
        Least NPMI of a phrase, in [-1, 1].
    tokenizer : {"regex", "char-bigram", "jieba"}
        "regex": tokens by the word rule or ``token_pattern``. "char-bigram": the word
        rule, with runs of Chinese, Japanese or Korean characters (Han, kana, Hangul) cut
        into overlapping pairs of characters (a run of one character is one token), which
        needs no dictionary. "jieba": Chinese words found by the jieba segmenter (an
        optional package), then the word rule's filters.
    """

    lowercase: bool = True
    token_pattern: str | None = None
    stop_words: tuple[str, ...] = field(default=DEFAULT_STOP_WORDS)
    ngram_range: tuple[int, int] = (1, 1)
    min_df: float | int = 2
    max_df: float | int = 0.95
    max_features: int | None = None
    sublinear_tf: bool = False
    norm: str | None = "l2"
    use_idf: bool = True
    smooth_idf: bool = True
    keep_numbers: bool = False
    keep_addresses: bool = False
    adjacent_ngrams: bool = True
    max_line_df: float | int | None = DEFAULT_MAX_LINE_DF
    phrases: bool = False
    phrase_min_count: int = 5
    phrase_threshold: float = 0.5
    tokenizer: str = "regex"

    @classmethod
    def sklearn_compatible(cls, **changes: Any) -> VectorizerConfig:
        """scikit-learn's token rules: its pattern and English list, numbers and addresses
        kept, n-grams formed after stop-word removal, no boilerplate removal, no phrases.

        With the weighting settings of a ``TfidfVectorizer`` (``changes``), the vectorizer
        gives exactly its vocabulary, idf and matrix.
        """
        base: dict[str, Any] = {
            "token_pattern": DEFAULT_TOKEN_PATTERN,
            "stop_words": ENGLISH_STOP_WORDS,
            **SKLEARN_RULES,
        }
        return cls(**{**base, **changes})

    @classmethod
    def for_language(cls, language: str, **changes: Any) -> VectorizerConfig:
        """The defaults for a language of :data:`LANGUAGES`: its stop-word list and, for
        Chinese, Japanese and Korean, the ``char-bigram`` tokenizer."""
        name = language.strip().lower() if isinstance(language, str) else language
        if name not in LANGUAGES:
            raise ParameterError(
                f"unknown language {language!r}; use one of: {', '.join(LANGUAGES)}",
                param="language",
                value=language,
                choices=LANGUAGES,
            )
        base: dict[str, Any] = {"stop_words": stop_words_for(name)}
        if name in _CJK_LANGUAGES:
            base["tokenizer"] = "char-bigram"
        return cls(**{**base, **changes})

    @property
    def word_rule(self) -> bool:
        """Whether tokens follow the word rule (normalized text, apostrophes, clitics)."""
        return self.token_pattern is None

    def __post_init__(self) -> None:
        # Normalise the containers so that equal settings compare (and serialise) equal:
        # a list of stop words and the same words as a sorted tuple are one config.
        stop_words = self.stop_words
        if stop_words is None:
            stop_words = ()
        if isinstance(stop_words, str):
            raise ParameterError(
                f"stop_words must be a sequence of words, not the string {stop_words!r}; "
                "use resolve_stop_words() for 'english', 'none' or a file",
                param="stop_words",
            )
        try:
            words = tuple(sorted(set(stop_words)))
        except TypeError as exc:
            raise ParameterError(f"stop_words must be strings: {exc}", param="stop_words") from None
        object.__setattr__(self, "stop_words", words)
        if isinstance(self.ngram_range, list):
            object.__setattr__(self, "ngram_range", tuple(self.ngram_range))
        for name in ("max_features", "phrase_min_count"):
            if _is_int(getattr(self, name)):
                object.__setattr__(self, name, int(getattr(self, name)))
        if _is_real(self.phrase_threshold):
            object.__setattr__(self, "phrase_threshold", float(self.phrase_threshold))
        for name in ("min_df", "max_df", "max_line_df"):
            value = getattr(self, name)
            if _is_int(value):
                object.__setattr__(self, name, int(value))
            elif _is_float(value):
                object.__setattr__(self, name, float(value))
        self.validate()

    def validate(self) -> None:
        """Check every setting; raise ``ParameterError`` naming the offending value."""
        for name in ("lowercase", "sublinear_tf", "use_idf", "smooth_idf", "keep_numbers",
                     "keep_addresses", "adjacent_ngrams", "phrases"):  # fmt: skip
            value = getattr(self, name)
            if not _is_bool(value):
                raise ParameterError(f"{name} must be True or False, got {value!r}", param=name)
        if self.tokenizer not in TOKENIZERS:
            raise ParameterError(
                f"tokenizer must be one of {', '.join(TOKENIZERS)}; got {self.tokenizer!r}",
                param="tokenizer",
                value=self.tokenizer,
                choices=TOKENIZERS,
            )
        if self.token_pattern is not None:
            _check_token_pattern(self.token_pattern)
            if self.tokenizer != "regex":
                raise ParameterError(
                    f"a token_pattern applies to the 'regex' tokenizer, not to "
                    f"{self.tokenizer!r}; leave token_pattern unset",
                    param="token_pattern",
                    value=self.token_pattern,
                )
        for word in self.stop_words:
            if not isinstance(word, str):
                raise ParameterError(
                    f"stop_words must be strings, got {word!r}", param="stop_words"
                )
        ngram = self.ngram_range
        if (
            not isinstance(ngram, tuple)
            or len(ngram) != 2
            or not all(_is_int(n) for n in ngram)
            or not 1 <= ngram[0] <= ngram[1]
        ):
            raise ParameterError(
                f"ngram_range must be two integers 1 <= min_n <= max_n, got {ngram!r}",
                param="ngram_range",
            )
        if ngram[1] > 64:
            raise ParameterError(
                f"ngram_range {ngram!r}: max_n above 64 is not supported", param="ngram_range"
            )
        _check_df("min_df", self.min_df)
        _check_df("max_df", self.max_df)
        if type(self.min_df) is type(self.max_df) and self.min_df > self.max_df:
            raise ParameterError(
                f"min_df={self.min_df!r} is larger than max_df={self.max_df!r}: "
                "no term could be kept",
                param="min_df",
            )
        if self.max_features is not None and not (
            _is_int(self.max_features) and self.max_features >= 1
        ):
            raise ParameterError(
                f"max_features must be a positive integer or None, got {self.max_features!r}",
                param="max_features",
            )
        if self.norm not in _NORMS:
            raise ParameterError(
                f"norm must be 'l2', 'l1' or None, got {self.norm!r}", param="norm"
            )
        self._validate_lines_and_phrases()

    def _validate_lines_and_phrases(self) -> None:
        if self.max_line_df is not None:
            _check_df("max_line_df", self.max_line_df)
            if _is_float(self.max_line_df) and self.max_line_df == 0.0:
                raise ParameterError(
                    "max_line_df=0.0 would remove every line; give a share above 0, or None "
                    "to keep every line",
                    param="max_line_df",
                    value=0.0,
                )
        count = self.phrase_min_count
        if not (_is_int(count) and count >= 1):
            raise ParameterError(
                f"phrase_min_count must be an integer >= 1, got {count!r}",
                param="phrase_min_count",
                value=count,
            )
        threshold = self.phrase_threshold
        if not (_is_real(threshold) and -1.0 <= threshold <= 1.0):
            raise ParameterError(
                f"phrase_threshold is an NPMI and must be in [-1, 1], got {threshold!r}",
                param="phrase_threshold",
                value=threshold,
            )


def _check_token_pattern(pattern: object) -> None:
    if not isinstance(pattern, str):
        raise ParameterError(
            f"token_pattern must be a string or None, got {pattern!r}", param="token_pattern"
        )
    if pattern == "":
        raise ParameterError(
            "token_pattern is empty; give a regular expression, or None for the word rule",
            param="token_pattern",
            value=pattern,
        )
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ParameterError(
            f"token_pattern {pattern!r} is not a valid regular expression: {exc}",
            param="token_pattern",
            value=pattern,
        ) from None
    if compiled.groups > 1:
        raise ParameterError(
            f"token_pattern {pattern!r} has {compiled.groups} capturing groups; use at most "
            "one (the group is the token) or (?:...) groups",
            param="token_pattern",
            value=pattern,
        )
    reason = None if pattern == DEFAULT_TOKEN_PATTERN else exponential_backtracking(pattern)
    if reason is not None:
        raise ParameterError(
            f"token_pattern {pattern!r} can take exponential time on some texts: {reason}; "
            "give each repetition a delimiter or make it possessive",
            param="token_pattern",
            value=pattern,
        )


def _check_df(name: str, value: object) -> None:
    if _is_int(value):
        if value < 1:  # type: ignore[operator]
            raise ParameterError(
                f"{name}={value!r}: a count of documents must be at least 1 "
                "(or give a proportion as a float in [0, 1])",
                param=name,
            )
    elif _is_float(value):
        if not 0.0 <= value <= 1.0:  # type: ignore[operator]
            raise ParameterError(
                f"{name}={value!r}: a proportion must be in [0, 1] "
                "(or give a count of documents as an integer)",
                param=name,
            )
    else:
        raise ParameterError(
            f"{name} must be an integer (documents) or a float (proportion), got {value!r}",
            param=name,
        )


def resolve_stop_words(
    spec: str | Path | Iterable[str] | None, default: str = "english"
) -> tuple[str, ...]:
    """Turn a stop-word setting into a sorted tuple of words.

    Parameters
    ----------
    spec : str, Path, iterable of str or None
        Comma-separated parts, whose words are put together: a list name of
        :data:`STOP_WORD_LISTS` (``"english"``, ``"french"``, ...), ``"none"``, or a path
        to a UTF-8 file with one word per line (blank lines and lines starting with ``#``
        are ignored; at most 10 MB, see :func:`topicnmf.fileio.read_small_file`); a path
        that exists as a whole is a file even if it holds a comma. ``"none"`` alone, ""
        or None: no stop words. Files alone replace the ``default`` list, with a
        :class:`~topicnmf.errors.TopicNMFWarning` saying so (``"english,words.txt"``
        adds to it). Or the words themselves, as an iterable.
    default : str
        The list that files alone replace (named in the warning).

    Returns
    -------
    tuple of str
        Sorted, without duplicates.

    Raises
    ------
    ParameterError
        With ``param="stop_words"`` and ``path``, when a file is missing, is not a
        regular file (a folder, a device, a FIFO), is too large, cannot be read or is
        not UTF-8 text.
    """
    if spec is None:
        return ()
    if isinstance(spec, Path):
        return _only_files([spec], default)
    if isinstance(spec, str):
        if os.path.exists(spec) and spec.strip().lower() not in STOP_WORD_LISTS:
            return _only_files([Path(spec)], default)
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        if len(parts) > 1 and any(p.lower() == "none" for p in parts):
            raise ParameterError(
                f"stop words {spec!r}: 'none' means no stop words and cannot be combined "
                "with lists or files",
                param="stop_words",
                value=spec,
            )
        lists = [p for p in parts if p.lower() in STOP_WORD_LISTS]
        files = [Path(p) for p in parts if p.lower() not in STOP_WORD_LISTS and p.lower() != "none"]
        for path in files:
            _check_list_or_file(path)
        if files and len(lists) + len(files) == len(parts):
            return _only_files(files, default) if not lists else _union(lists, files)
        return _union(lists, files)
    words = set()
    for word in spec:
        if not isinstance(word, str):
            raise ParameterError(f"stop words must be strings, got {word!r}", param="stop_words")
        words.add(word)
    return tuple(sorted(words))


def _check_list_or_file(path: Path) -> None:
    """A missing bare name (no folder, no extension) was meant as a list: say which exist."""
    name = str(path)
    if not path.exists() and os.sep not in name and "." not in name:
        raise ParameterError(
            f"no stop-word list or file named {name!r}; the lists are: "
            f"{', '.join(STOP_WORD_LISTS)}, or give a file of one word a line",
            param="stop_words",
            value=name,
            choices=STOP_WORD_LISTS,
        )


def _union(lists: list[str], files: list[Path]) -> tuple[str, ...]:
    words: set[str] = set()
    for name in lists:
        words.update(stop_words_for(name))
    for path in files:
        words.update(_read_stop_words(path))
    return tuple(sorted(words))


def _only_files(files: list[Path], default: str) -> tuple[str, ...]:
    words = _union([], files)
    shown = ", ".join(repr(str(f)) for f in files)
    warnings.warn(
        f"stop words from {shown} replace the {default} list; to add them to it, name "
        f"both: '{default},{files[0]}'",
        TopicNMFWarning,
        stacklevel=3,
    )
    return words


def _read_stop_words(path: Path) -> tuple[str, ...]:
    data = read_small_file(path, what="stop-words file", param="stop_words", error=ParameterError)
    try:
        # utf-8-sig: a byte-order mark written by some editors must not join the first word
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"stop-words file {str(path)!r} is not UTF-8 text ({exc.reason} at byte "
            f"{exc.start}); save it as UTF-8",
            param="stop_words",
            path=path,
        ) from None
    return _words_of(text)


# -------------------------------------------------------------------------------- NMF

_NMF_CHOICES = (
    ("loss", LOSSES),
    ("solver", SOLVERS),
    ("init", INITS),
    ("svd", SVDS),
    ("dtype", DTYPES),
)


@dataclass(frozen=True)
class NMFConfig:
    """Settings of one NMF fit (and of ``transform`` with the fitted H).

    Parameters
    ----------
    n_components : int
        Number of topics k, at least 1 and at most min(n_samples, n_features).
    loss : {"frobenius", "kl"}
        Half the squared Frobenius norm of V - WH, or the generalised KL divergence D(V||WH).
    solver : {"cd", "mu", "anls"}
        Coordinate descent (HALS for Frobenius; Newton coordinate descent for KL, which
        needs numba), multiplicative updates (both losses, numpy only), or alternating
        non-negative least squares solved exactly by block principal pivoting (Frobenius
        only).
    init : {"nndsvd", "nndsvda", "nndsvdar", "random", "kmeans"}
        Initialization. The first four have scikit-learn's definitions (with
        ``svd="randomized"`` the same seed gives scikit-learn's very start); "kmeans" takes
        the centroids of a spherical k-means of the documents (k-means++ start from
        ``seed``) as H.
    max_iter : int
        Maximum number of outer iterations (one update of W and one of H).
    tol : float
        Stop when the loss's average decrease over the last 5 iterations is at most ``tol``
        times its total decrease since the initialization (see ``topicnmf.nmf``). 0 runs
        until ``max_iter`` unless the loss stops decreasing altogether.
    seed : int
        Seed of the random inits, of the k-means++ start, of the randomised SVD and of the
        Lanczos start vector of the exact one (which converges to the same SVD whatever the seed).
    alpha_W, alpha_H : float, float or "same"
        Penalty strengths, scaled by n_features (W) and n_samples (H) as in scikit-learn.
    l1_ratio : float
        Share of L1 in the penalty, in [0, 1].
    dtype : {"float32", "float64"}
        Precision of the computation and of the returned factors.
    svd : {"exact", "randomized"}
        How the NNDSVD inits compute the truncated SVD of V. "exact": Lanczos iteration
        (ARPACK) to working precision, so the start, and with it the topics, do not depend
        on the order of the documents or on the seed. "randomized": scikit-learn's
        ``randomized_svd`` with its defaults and random draws, which gives exactly
        scikit-learn's start but one that moves with the document order.
    """

    n_components: int
    loss: str = "frobenius"
    solver: str = "cd"
    init: str = "nndsvda"
    max_iter: int = 200
    tol: float = 1e-5
    seed: int = 0
    alpha_W: float = 0.0
    alpha_H: float | str = "same"
    l1_ratio: float = 0.0
    dtype: str = "float32"
    svd: str = "exact"

    def __post_init__(self) -> None:
        # Plain Python numbers, so that equal settings compare equal and serialize to JSON
        # (a NumPy integer is accepted but not stored as one); bools are left for validate
        # to refuse.
        for name in ("n_components", "max_iter", "seed"):
            value = getattr(self, name)
            if _is_int(value):
                object.__setattr__(self, name, int(value))
        for name in ("tol", "alpha_W", "alpha_H", "l1_ratio"):
            value = getattr(self, name)
            if _is_real(value):
                object.__setattr__(self, name, float(value))
        self.validate()

    def validate(self, shape: tuple[int, int] | None = None) -> None:
        """Check every setting; with ``shape``, also check k against the matrix shape.

        Construction already checks every setting; call this with the shape of the matrix
        to check that k fits it.

        Raises
        ------
        ParameterError
            Naming the setting and its offending value.
        """
        k = self.n_components
        if not _is_int(k) or k < 1:
            raise ParameterError(
                f"n_components must be an integer >= 1, got {k!r}.", param="n_components"
            )
        for name, choices in _NMF_CHOICES:
            value = getattr(self, name)
            if value not in choices:
                raise ParameterError(
                    f"{name} must be one of {', '.join(choices)}; got {value!r}.",
                    param=name,
                    value=value,
                    choices=choices,
                )
        if self.solver == "anls" and self.loss != "frobenius":
            raise ParameterError(
                f"solver 'anls' minimizes the frobenius loss only, got loss {self.loss!r}; "
                "use solver 'cd' or 'mu' for it.",
                param="solver",
                value=self.solver,
            )
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise ParameterError(
                f"max_iter must be an integer >= 1, got {self.max_iter!r}.", param="max_iter"
            )
        if not _is_real(self.tol) or not math.isfinite(self.tol) or self.tol < 0:
            raise ParameterError(
                f"tol must be a finite number >= 0, got {self.tol!r}.", param="tol"
            )
        if not _is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise ParameterError(
                f"seed must be an integer in [0, 2**32 - 1], got {self.seed!r}.", param="seed"
            )
        for name in ("alpha_W", "alpha_H"):
            value = getattr(self, name)
            if name == "alpha_H" and value == "same":
                continue
            if not _is_real(value) or not math.isfinite(value) or value < 0:
                extra = " or 'same'" if name == "alpha_H" else ""
                raise ParameterError(
                    f"{name} must be a finite number >= 0{extra}, got {value!r}.", param=name
                )
        if not _is_real(self.l1_ratio) or not 0 <= self.l1_ratio <= 1:
            raise ParameterError(
                f"l1_ratio must be a number in [0, 1], got {self.l1_ratio!r}.", param="l1_ratio"
            )
        if shape is not None:
            n_samples, n_features = shape
            if k > min(n_samples, n_features):
                raise ParameterError(
                    f"n_components={k} is larger than min(n_samples, n_features) = "
                    f"min({n_samples}, {n_features}); use at most {min(n_samples, n_features)}.",
                    param="n_components",
                )

    def penalties(self, n_samples: int, n_features: int) -> tuple[float, float, float, float]:
        """Return (l1_W, l2_W, l1_H, l2_H) scaled as scikit-learn >= 1.2 does."""
        alpha_W = float(self.alpha_W)
        alpha_H = alpha_W if self.alpha_H == "same" else float(self.alpha_H)
        r = float(self.l1_ratio)
        return (
            alpha_W * r * n_features,
            alpha_W * (1.0 - r) * n_features,
            alpha_H * r * n_samples,
            alpha_H * (1.0 - r) * n_samples,
        )
