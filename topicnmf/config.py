"""Settings of the two stages: :class:`VectorizerConfig` (TF-IDF) and :class:`NMFConfig`.

They live apart from the code that uses them so that reading and checking settings costs
no NumPy or SciPy import: the command line parses and validates its options, and starts
reading the corpus, before the numerical modules are loaded. ``topicnmf.vectorize`` and
``topicnmf.nmf`` re-export them.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

from topicnmf.errors import ParameterError
from topicnmf.fileio import read_small_file
from topicnmf.regexcheck import exponential_backtracking

__all__ = [
    "DEFAULT_TOKEN_PATTERN",
    "DTYPES",
    "ENGLISH_STOP_WORDS",
    "INITS",
    "LOSSES",
    "NMFConfig",
    "SOLVERS",
    "SVDS",
    "VectorizerConfig",
    "resolve_stop_words",
]

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

    The meaning of every field is that of scikit-learn's ``TfidfVectorizer``
    (``analyzer="word"``, no accent stripping, no custom preprocessor).

    Parameters
    ----------
    lowercase : bool
        Lowercase texts (``str.lower``) before tokenizing.
    token_pattern : str
        Regular expression for a token (Python's ``re``); with one capturing group the group
        is the token. A pattern whose matching time can grow exponentially with the length of
        a text is refused: one where a repeated part (``*``, ``+``, ``{m,n}`` with n > 1) can
        match the same text in more than one way, because it can match empty text
        (``(a*)*``), holds alternatives that begin alike (``(a|ab)+``), holds repetitions
        that compete for the same characters (``(\\w+\\w+)+``), or because successive
        repetitions can divide a text differently (``(a+)+``, ``(\\w+\\s?)+``). Delimited
        repetitions (``\\w+(?:-\\w+)*``), possessive quantifiers and atomic groups are
        fine. The check (``topicnmf.regexcheck``) is structural and errs on the side of
        refusing; a pattern it accepts can still be slow on very long runs of characters
        (``a*a*b`` takes time quadratic in a run of ``a``), and such work can be interrupted.
    stop_words : tuple of str
        Tokens removed before n-grams are formed.  Stored explicitly (sorted, without
        duplicates) so that a saved model keeps its list whatever library is installed.
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
    """

    lowercase: bool = True
    token_pattern: str = DEFAULT_TOKEN_PATTERN
    stop_words: tuple[str, ...] = field(default=ENGLISH_STOP_WORDS)
    ngram_range: tuple[int, int] = (1, 1)
    min_df: float | int = 2
    max_df: float | int = 0.95
    max_features: int | None = None
    sublinear_tf: bool = False
    norm: str | None = "l2"
    use_idf: bool = True
    smooth_idf: bool = True

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
        if _is_int(self.max_features):
            object.__setattr__(self, "max_features", int(self.max_features))
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if _is_int(value):
                object.__setattr__(self, name, int(value))
            elif _is_float(value):
                object.__setattr__(self, name, float(value))
        self.validate()

    def validate(self) -> None:
        """Check every setting; raise ``ParameterError`` naming the offending value."""
        for name in ("lowercase", "sublinear_tf", "use_idf", "smooth_idf"):
            value = getattr(self, name)
            if not _is_bool(value):
                raise ParameterError(f"{name} must be True or False, got {value!r}", param=name)
        _check_token_pattern(self.token_pattern)
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


def _check_token_pattern(pattern: object) -> None:
    if not isinstance(pattern, str):
        raise ParameterError(
            f"token_pattern must be a string, got {pattern!r}", param="token_pattern"
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


def resolve_stop_words(spec: str | Path | Iterable[str] | None) -> tuple[str, ...]:
    """Turn a stop-word setting into a sorted tuple of words.

    Parameters
    ----------
    spec : str, Path, iterable of str or None
        ``"english"`` (scikit-learn's list, as stored in this module), ``"none"`` or
        None (no stop words), a path to a UTF-8 file with one word per line (blank lines
        and lines starting with ``#`` are ignored; at most 10 MB, see
        :func:`topicnmf.fileio.read_small_file`), or the words themselves.

    Returns
    -------
    tuple of str
        Sorted, without duplicates.

    Raises
    ------
    ParameterError
        With ``param="stop_words"`` and ``path``, when the file is missing, is not a
        regular file (a folder, a device, a FIFO), is too large, cannot be read or is
        not UTF-8 text.
    """
    if spec is None:
        return ()
    if isinstance(spec, str) and spec.strip().lower() in ("english", "none", ""):
        return ENGLISH_STOP_WORDS if spec.strip().lower() == "english" else ()
    if isinstance(spec, (str, Path)):
        return _read_stop_words(Path(spec))
    words = set()
    for word in spec:
        if not isinstance(word, str):
            raise ParameterError(f"stop words must be strings, got {word!r}", param="stop_words")
        words.add(word)
    return tuple(sorted(words))


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
    words = set()
    for line in text.splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.add(word)
    return tuple(sorted(words))


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
