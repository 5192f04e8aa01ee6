"""Options shared by several commands, their types, and the settings built from them.

Library errors name library parameters (``param="text_column"``); this module knows which
option sets each one (:data:`PARAM_OPTIONS`), so a bad value detected by the library is
reported like one click detected: exit 2 with the command's usage line
(:func:`usage_errors`), and an input problem gets advice naming the option
(:func:`with_advice`).
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

import click

from topicnmf.errors import ParameterError, TopicNMFError

DEFAULT_MODEL = "model.npz"

# library parameter -> the option that sets it
PARAM_OPTIONS: dict[str, str] = {
    "format": "--input-format",
    "glob": "--glob",
    "exclude": "--exclude",
    "text_column": "--text-column",
    "id_column": "--id-column",
    "encoding": "--encoding",
    "encoding_errors": "--encoding-errors",
    "data_home": "--data-home",
    "categories": "--categories",
    "remove": "--remove",
    "download": "--download",
    "csv_lenient": "--csv-lenient",
    "lowercase": "--lowercase",
    "token_pattern": "--token-pattern",
    "stop_words": "--stop-words",
    "ngram_range": "--ngram-range",
    "min_df": "--min-df",
    "max_df": "--max-df",
    "max_features": "--max-features",
    "sublinear_tf": "--sublinear-tf",
    "norm": "--norm",
    "use_idf": "--no-idf",
    "keep_numbers": "--keep-numbers",
    "keep_addresses": "--keep-addresses",
    "max_line_df": "--max-line-df",
    "phrase_min_count": "--phrase-min-count",
    "phrase_threshold": "--phrase-threshold",
    "tokenizer": "--tokenizer",
    "language": "--language",
    "n_components": "-k",
    "loss": "--loss",
    "solver": "--solver",
    "init": "--init",
    "svd": "--svd",
    "max_iter": "--max-iter",
    "tol": "--tol",
    "seed": "--seed",
    "alpha_W": "--alpha-w",
    "alpha_H": "--alpha-h",
    "l1_ratio": "--l1-ratio",
    "dtype": "--float64",
    "n_jobs": "--jobs",
    "model": "--model",
    "ks": "--k",
    "runs": "--runs",
    "sample_fraction": "--sample",
    "tolerance": "--tolerance",
    "threshold": "--threshold",
    "batch_size": "--batch-size",
    "top_n": "--top",
    "seed_topics": "--seed-topics",
    "seed_strength": "--seed-strength",
    "topics": "--topic",
    "min_weight": "--min-weight",
    "snippet_chars": "--snippet-chars",
    "labels": "TOPIC=LABEL",
    "time_column": "--time-column",
    "group_column": "--group-column",
    "label_column": "--label-column",
    "time_format": "--time-format",
    "bins": "--bins",
    "windows": "--windows",
    "passes": "--passes",
    "max_vocab_bytes": "--max-vocab-memory",
    "vocabulary": "--vocabulary",
}

# what to do about an input problem tied to a parameter (exit 1 errors)
_ADVICE: dict[str, str] = {
    "text_column": "use --text-column to choose the column that holds the text",
    "id_column": "use --id-column to choose the id column, or leave it out to number rows",
    "encoding": "give the file's encoding with --encoding, e.g. --encoding latin-1",
    "format": "give the format with --input-format",
    "glob": "use --glob to choose the files, e.g. --glob '*.md' (repeat it for several)",
    "exclude": "check the --exclude patterns",
    "data_home": "give the folder that holds 20news-bydate.tar.gz with --data-home or "
    "TOPICNMF_DATA_HOME",
    "download": "or add --download to fetch it",
    "csv_lenient": "fix the quotes, or read it leniently with --csv-lenient",
    "min_df": "lower --min-df or raise --max-df",
    "max_df": "lower --min-df or raise --max-df",
    "stop_words": "check --stop-words",
    "ngram_range": "lower the first number of --ngram-range",
    "token_pattern": "check --token-pattern",
    "keep_numbers": "add --keep-numbers to keep them",
    "keep_addresses": "add --keep-addresses to keep them",
    "max_line_df": "raise --max-line-df, or add --keep-boilerplate",
    "tokenizer": "choose another --tokenizer",
    "n_components": "choose a smaller -k",
    "top_n": "lower --top",
    "model": "fit one with 'topicnmf fit CORPUS -m PATH', or name another with -m "
    "(or TOPICNMF_MODEL)",
    "seed_topics": "check the --seed-topics file",
    "time_column": "use --time-column to choose the column that holds the dates, and "
    "--time-format for dates that are not ISO 8601 or years",
    "group_column": "use --group-column to choose the column that holds the groups",
    "label_column": "use --label-column to choose the column that holds the labels",
}


def command_options(command: click.Command | None) -> set[str] | None:
    """Every option string of a command (``--glob``, ``-k``), or None when unknown."""
    if command is None:
        return None
    return {opt for param in command.params for opt in getattr(param, "opts", ())}


def with_advice(exc: TopicNMFError, available: set[str] | None = None) -> str:
    """The error's message, with advice naming the option that fixes it (when known)."""
    message = str(exc)
    advice = _ADVICE.get(exc.param or "")
    option = PARAM_OPTIONS.get(exc.param or "")
    if advice and (available is None or option in available):
        return f"{message}; {advice}"
    return message


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """Report a bad setting found by the library as click would: exit 2 with the usage."""
    try:
        yield
    except ParameterError as exc:
        from topicnmf.cli.text import terminal_safe

        option = PARAM_OPTIONS.get(exc.param or "")
        raise click.BadParameter(terminal_safe(str(exc)), param_hint=option) from None


def model_path(model: str | None) -> str:
    return model or os.environ.get("TOPICNMF_MODEL") or DEFAULT_MODEL


# --------------------------------------------------------------------------- types


class FiniteFloat(click.ParamType):
    """A finite number (no nan, no inf) at least ``min``."""

    name = "FLOAT"

    def __init__(self, min: float | None = None, max: float | None = None) -> None:
        self.min = min
        self.max = max

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.min is not None and number < self.min:
            self.fail(f"{value!r} is less than {self.min:g}", param, ctx)
        if self.max is not None and number > self.max:
            self.fail(f"{value!r} is more than {self.max:g}", param, ctx)
        return number


class CountOrFraction(click.ParamType):
    """An integer document count (``2``, at least 1) or a proportion of documents (``0.95``)."""

    name = "COUNT|FRACTION"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.isdigit():
            count = int(text)
            if count < 1:
                self.fail(f"{value!r}: a count of documents must be at least 1", param, ctx)
            return count
        try:
            number = float(text)
        except ValueError:
            self.fail(
                f"{value!r} is neither a count (e.g. 2) nor a fraction (e.g. 0.95)", param, ctx
            )
        if not 0.0 <= number <= 1.0:  # also refuses nan
            self.fail(
                f"{value!r}: a fraction must be between 0 and 1 (or give a whole count)", param, ctx
            )
        return number


class NgramRange(click.ParamType):
    name = "MIN,MAX"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace("-", ",").replace(":", ",").split(",")
        try:
            lo, hi = (int(p) for p in parts) if len(parts) == 2 else (int(parts[0]),) * 2
        except ValueError:
            self.fail(f"{value!r} is not a range like 1,2", param, ctx)
        if lo < 1 or hi < lo:
            self.fail(f"{value!r}: need 1 <= MIN <= MAX, e.g. 1,2", param, ctx)
        return (lo, hi)


class AlphaH(click.ParamType):
    name = "FLOAT|same"

    def convert(self, value: Any, param: Any, ctx: Any) -> float | str:
        if value == "same" or isinstance(value, float):
            return value
        return FiniteFloat(min=0).convert(value, param, ctx)


class Encoding(click.ParamType):
    """A text encoding Python knows (checked before any file is read)."""

    name = "ENCODING"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            codec = codecs.lookup(str(value))
            "a".encode(codec.name)
        except (LookupError, TypeError):
            self.fail(
                f"unknown text encoding {value!r}; give a name such as utf-8, latin-1 or cp1252",
                param,
                ctx,
            )
        return str(value)


def _check_remove(ctx: Any, param: Any, value: str) -> str:
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    if [p.lower() for p in parts] in ([], ["none"]):
        return value
    bad = [p for p in parts if p not in ("headers", "footers", "quotes")]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not one of headers, footers, quotes, none")
    return value


def _apply(f: Callable[..., Any], opts: list[Callable[..., Any]]) -> Callable[..., Any]:
    for opt in reversed(opts):
        f = opt(f)
    return f


# --------------------------------------------------------------------------- shared


def quiet_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-q", "--quiet", is_flag=True, help="No progress, summaries or warnings on stderr."
    )(f)


def model_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-m",
        "--model",
        "model",
        type=click.Path(),
        help=f"Model file [default: $TOPICNMF_MODEL or {DEFAULT_MODEL}].",
    )(f)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--format and -o, shared by the commands that write a table."""
    return _apply(
        f,
        [
            click.option(
                "-o",
                "--output",
                type=click.Path(allow_dash=True),
                help="Write the table to this file (atomically) instead of stdout; its "
                "extension gives the format (.csv, .tsv, .json, .jsonl, optionally .gz).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["table", "csv", "tsv", "json", "jsonl"]),
                help="Output format [default: table on a terminal, else from -o's "
                "extension, else csv].",
            ),
        ],
    )


# the documents read and weighed at a time by the commands that stream a corpus
batch_size_option = click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=10_000_000),
    default=4096,
    show_default=True,
    help="Documents read and weighed at a time (bounds memory).",
)


def seed_option(help: str, default: int = 0) -> Callable[..., Any]:
    """``--seed``: a seed NumPy accepts, with what it seeds in ``help``."""
    return click.option(
        "--seed",
        type=click.IntRange(min=0, max=2**32 - 1),
        default=default,
        show_default=True,
        help=help,
    )


def limit_option(default: int) -> Callable[..., Any]:
    """``--limit``: rows of a terminal table."""
    return click.option(
        "--limit",
        type=click.IntRange(min=0),
        default=default,
        show_default=True,
        help="Rows shown in the terminal table (0: all); -o and the machine formats get every row.",
    )


def jobs_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--jobs",
        type=click.IntRange(min=1),
        help="CPU cores to use [default: all].",
    )(f)


def corpus_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options that say how to read CORPUS arguments."""
    return _apply(
        f,
        [
            click.option(
                "--input-format",
                type=click.Choice(["auto", "lines", "document", "csv", "tsv", "jsonl", "json"]),
                default="auto",
                show_default=True,
                help=(
                    "How to read files and stdin: lines (a document each), document (the "
                    "whole file is one), csv, tsv, jsonl, json (an array of strings or "
                    "objects); auto: by extension (stdin: lines)."
                ),
            ),
            click.option(
                "--glob",
                multiple=True,
                metavar="GLOB",
                help="Files of a directory to read; repeat for several patterns (--glob '*.txt' "
                "--glob '*.md'). A pattern with '/' matches the relative path [default: *.txt, "
                "or *.csv, *.tsv, *.jsonl, *.json by --input-format].",
            ),
            click.option(
                "--exclude",
                multiple=True,
                metavar="GLOB",
                help="Skip files and folders of a directory whose name (or relative path, when "
                "the pattern has '/') matches; repeatable (--exclude drafts --exclude '*.bak').",
            ),
            click.option(
                "--text-column",
                default="text",
                show_default=True,
                help="CSV/JSON field holding the text.",
            ),
            click.option(
                "--id-column",
                help="CSV/JSON field holding the document id [default: row or element number].",
            ),
            click.option(
                "--encoding",
                type=Encoding(),
                default="utf-8",
                show_default=True,
                help="Text encoding of the input files.",
            ),
            click.option(
                "--encoding-errors",
                type=click.Choice(["skip", "strict", "replace"]),
                default="skip",
                show_default=True,
                help="Text that does not decode: skip such a file of a directory (with a "
                "warning), stop with an error (strict), or replace the bad bytes.",
            ),
            click.option(
                "--csv-lenient",
                is_flag=True,
                help="Read CSV/TSV as the csv module does: extra fields ignored, and a stray "
                "quote may merge rows [default: strict, such rows are errors].",
            ),
            click.option(
                "--data-home",
                envvar="TOPICNMF_DATA_HOME",
                type=click.Path(file_okay=False),
                help="Folder holding 20news-bydate.tar.gz (env TOPICNMF_DATA_HOME).",
            ),
            click.option(
                "--download",
                is_flag=True,
                help="20 Newsgroups: download it (with scikit-learn) if it is not found.",
            ),
            click.option("--categories", help="20 Newsgroups: comma-separated newsgroups to keep."),
            click.option(
                "--remove",
                default="headers,footers,quotes",
                show_default=True,
                callback=_check_remove,
                help="20 Newsgroups: parts to strip (headers,footers,quotes or none).",
            ),
        ],
    )


CORPUS_KEYS = (
    "input_format",
    "glob",
    "exclude",
    "text_column",
    "id_column",
    "encoding",
    "encoding_errors",
    "csv_lenient",
    "data_home",
    "download",
    "categories",
    "remove",
)


def pop_corpus_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in CORPUS_KEYS if k in kwargs}


def load_corpus(
    sources: tuple[str, ...] | list[str],
    opts: dict[str, Any],
    metadata_columns: tuple[str, ...] = (),
) -> Any:
    """Open the corpus (checks paths and options; reads nothing yet)."""
    from topicnmf.corpus import load_corpus as _load

    remove_spec = (opts.get("remove") or "").strip()
    if remove_spec.lower() in ("", "none"):
        remove: tuple[str, ...] = ()
    else:
        remove = tuple(p.strip() for p in remove_spec.split(",") if p.strip())
    categories = None
    if opts.get("categories"):
        categories = [c.strip() for c in opts["categories"].split(",") if c.strip()]
    fmt = opts.get("input_format")
    with usage_errors():
        return _load(
            list(sources),
            format=None if fmt in (None, "auto") else fmt,
            glob=opts.get("glob") or None,
            exclude=opts.get("exclude") or (),
            text_column=opts.get("text_column") or "text",
            id_column=opts.get("id_column"),
            encoding=opts.get("encoding") or "utf-8",
            encoding_errors=opts.get("encoding_errors") or "skip",
            csv_lenient=bool(opts.get("csv_lenient")),
            data_home=opts.get("data_home"),
            download=bool(opts.get("download")),
            categories=categories,
            remove=remove,
            metadata_columns=metadata_columns,
        )


# --------------------------------------------------------------------------- fit settings


def vectorizer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from topicnmf.config import DEFAULT_MAX_LINE_DF, LANGUAGES, TOKENIZERS, VectorizerConfig

    d = VectorizerConfig()
    return _apply(
        f,
        [
            click.option(
                "--min-df",
                type=CountOrFraction(),
                default=d.min_df,
                show_default=True,
                help="Drop terms in fewer documents than this (count, or fraction of documents).",
            ),
            click.option(
                "--max-df",
                type=CountOrFraction(),
                default=d.max_df,
                show_default=True,
                help="Drop terms in more documents than this (count, or fraction of documents).",
            ),
            click.option(
                "--max-features",
                type=click.IntRange(min=1),
                help="Keep only the most frequent terms [default: all].",
            ),
            click.option(
                "--language",
                type=click.Choice(LANGUAGES, case_sensitive=False),
                help="Language of the texts: sets the stop-word list and, for chinese, "
                "japanese and korean, the char-bigram tokenizer [default: english].",
            ),
            click.option(
                "--stop-words",
                metavar="LIST|FILE[,...]|none",
                help="Stop words: a list (english, french, german, ...; english-small: the "
                "English list without MALLET's words, for n-grams such as 'new york'), a file "
                "of one word a line, or several joined by commas (english,extra.txt adds to "
                "the list); none alone for no stop words. A file alone replaces the list, with "
                "a warning [default: the --language's list].",
            ),
            click.option(
                "--ngram-range",
                type=NgramRange(),
                default=f"{d.ngram_range[0]},{d.ngram_range[1]}",
                show_default=True,
                help="Word n-gram lengths, e.g. 1,2 for words and word pairs (pairs of words "
                "that stand side by side: never across a stop word or a number).",
            ),
            click.option(
                "--lowercase/--no-lowercase",
                default=d.lowercase,
                show_default=True,
                help="Lower-case text before tokenizing.",
            ),
            click.option(
                "--tokenizer",
                type=click.Choice(TOKENIZERS),
                help="regex: words by the word rule or --token-pattern; char-bigram: also "
                "cuts Chinese, Japanese and Korean into pairs of characters; jieba: Chinese "
                "words by the jieba segmenter (pip install 'topicnmf[zh]') [default: regex, "
                "char-bigram for --language chinese/japanese/korean].",
            ),
            click.option(
                "--token-pattern",
                help="Regular expression that matches a token, as scikit-learn's "
                "token_pattern [default: the word rule: runs of letters, marks and digits "
                "of any script, apostrophes and underscores inside a word kept (don't, "
                "n_samples), one-character tokens dropped].",
            ),
            click.option(
                "--keep-numbers/--drop-numbers",
                default=None,
                help="Keep tokens made only of digits (2010, 00) [default: drop them; keep "
                "with --sklearn-compatible].",
            ),
            click.option(
                "--keep-addresses/--drop-addresses",
                default=None,
                help="Keep the words inside e-mail and web addresses (jones@cs.example.edu, "
                "http://..., www....) [default: drop them; keep with --sklearn-compatible].",
            ),
            click.option(
                "--max-line-df",
                type=CountOrFraction(),
                help="Boilerplate: remove lines repeated verbatim (signatures, disclaimers, "
                "license headers) in more than this fraction of documents (and in at least 10) "
                f"or this count; documents of one line are left alone [default: "
                f"{DEFAULT_MAX_LINE_DF}].",
            ),
            click.option(
                "--keep-boilerplate",
                is_flag=True,
                help="Keep every line (no boilerplate removal).",
            ),
            click.option(
                "--phrases",
                is_flag=True,
                help="Join collocations into one term (space_shuttle), found in a first pass "
                "by their NPMI, as gensim's Phrases does.",
            ),
            click.option(
                "--phrase-min-count",
                type=click.IntRange(min=1),
                default=d.phrase_min_count,
                show_default=True,
                help="--phrases: least number of occurrences of a phrase.",
            ),
            click.option(
                "--phrase-threshold",
                type=FiniteFloat(min=-1, max=1),
                default=d.phrase_threshold,
                show_default=True,
                help="--phrases: least NPMI of a phrase (-1 to 1).",
            ),
            click.option(
                "--sklearn-compatible",
                is_flag=True,
                help="scikit-learn's TfidfVectorizer token rules: its token pattern and "
                "English list, numbers and addresses kept, n-grams across removed words, "
                "every line kept "
                "(options given explicitly still apply).",
            ),
            click.option(
                "--sublinear-tf/--no-sublinear-tf",
                default=d.sublinear_tf,
                show_default=True,
                help="Use 1 + log(tf) instead of raw term counts.",
            ),
            click.option(
                "--norm",
                type=click.Choice(["l2", "l1", "none"]),
                default=d.norm or "none",
                show_default=True,
                help="Normalize each document's TF-IDF row.",
            ),
            click.option(
                "--no-idf",
                is_flag=True,
                help="Term frequencies only, no inverse document frequency.",
            ),
        ],
    )


def nmf_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from topicnmf.config import NMFConfig

    d = NMFConfig(n_components=10)
    return _apply(
        f,
        [
            click.option(
                "--loss",
                type=click.Choice(["frobenius", "kl"]),
                default=d.loss,
                show_default=True,
                help="Squared Frobenius norm, or generalized Kullback-Leibler divergence.",
            ),
            click.option(
                "--solver",
                type=click.Choice(["auto", "cd", "mu", "anls"]),
                default="auto",
                show_default=True,
                help="cd: coordinate descent (KL needs numba); mu: multiplicative; auto: cd "
                "if it can; anls: exact alternating least squares (Frobenius only), the lowest "
                "objective per iteration when accuracy matters more than time.",
            ),
            click.option(
                "--init",
                type=click.Choice(["nndsvd", "nndsvda", "nndsvdar", "random", "kmeans"]),
                default=d.init,
                show_default=True,
                help="Initialization (NNDSVD variants are deterministic); kmeans: spherical "
                "k-means centroids of the documents (depends on --seed), for corpora of "
                "distinct document groups.",
            ),
            click.option(
                "--svd",
                type=click.Choice(["exact", "randomized"]),
                default=d.svd,
                show_default=True,
                help="SVD of the NNDSVD inits: exact (topics do not depend on document "
                "order) or randomized (scikit-learn's start).",
            ),
            click.option(
                "--max-iter",
                type=click.IntRange(min=1, max=1_000_000),
                default=d.max_iter,
                show_default=True,
                help="Iteration limit (reaching it is a warning, not an error).",
            ),
            click.option(
                "--tol",
                type=FiniteFloat(min=0),
                default=d.tol,
                show_default=True,
                help="Stop when the loss decreases by less than this fraction.",
            ),
            seed_option(
                "Random seed (random and kmeans inits; the same seed, the same result).", d.seed
            ),
            click.option(
                "--alpha-w",
                type=FiniteFloat(min=0),
                default=d.alpha_W,
                show_default=True,
                help="Regularization strength on W (document-topic weights).",
            ),
            click.option(
                "--alpha-h",
                type=AlphaH(),
                default=str(d.alpha_H),
                show_default=True,
                help="Regularization strength on H (topic-term weights); 'same' as --alpha-w.",
            ),
            click.option(
                "--l1-ratio",
                type=FiniteFloat(0, 1),
                default=d.l1_ratio,
                show_default=True,
                help="Mix of L1 (1.0, sparse) and L2 (0.0) in the regularization.",
            ),
            click.option(
                "--float64", is_flag=True, help="Compute in double precision (default float32)."
            ),
        ],
    )


VECTORIZER_KEYS = (
    "lowercase",
    "token_pattern",
    "stop_words",
    "ngram_range",
    "min_df",
    "max_df",
    "max_features",
    "sublinear_tf",
    "norm",
    "no_idf",
    "language",
    "tokenizer",
    "keep_numbers",
    "keep_addresses",
    "max_line_df",
    "keep_boilerplate",
    "phrases",
    "phrase_min_count",
    "phrase_threshold",
    "sklearn_compatible",
)
NMF_KEYS = (
    "loss",
    "solver",
    "init",
    "svd",
    "max_iter",
    "tol",
    "seed",
    "alpha_w",
    "alpha_h",
    "l1_ratio",
    "float64",
)


def vectorizer_config(kw: dict[str, Any]) -> Any:
    """The VectorizerConfig of the options (a bad value: exit 2, before any work).

    ``--sklearn-compatible`` and ``--language`` choose the defaults of the token rules;
    the options given explicitly win over both.
    """
    from topicnmf.config import (
        DEFAULT_MAX_LINE_DF,
        DEFAULT_TOKEN_PATTERN,
        ENGLISH_STOP_WORDS,
        VectorizerConfig,
        resolve_stop_words,
        stop_words_for,
    )
    from topicnmf.vectorize.words import check_tokenizer

    compat = bool(kw.get("sklearn_compatible"))
    language = (kw.get("language") or "english").lower()
    if kw.get("keep_boilerplate") and kw.get("max_line_df") is not None:
        raise click.UsageError("--keep-boilerplate and --max-line-df contradict each other")
    phrase_defaults = VectorizerConfig()
    for key in ("phrase_min_count", "phrase_threshold"):
        if kw.get(key, getattr(phrase_defaults, key)) != getattr(phrase_defaults, key):
            if not kw.get("phrases"):
                option = PARAM_OPTIONS[key]
                raise click.UsageError(f"{option} applies to phrases: add --phrases")
    cjk = language in ("chinese", "japanese", "korean")
    tokenizer = kw.get("tokenizer") or ("char-bigram" if cjk else "regex")
    pattern = kw.get("token_pattern")
    if pattern is None and compat and tokenizer == "regex":
        pattern = DEFAULT_TOKEN_PATTERN
    keep_numbers = kw.get("keep_numbers")
    keep_addresses = kw.get("keep_addresses")
    max_line_df = kw.get("max_line_df")
    if max_line_df is None and not (compat or kw.get("keep_boilerplate")):
        max_line_df = DEFAULT_MAX_LINE_DF
    with usage_errors():
        spec = kw.get("stop_words")
        if spec is not None:
            stop_words = resolve_stop_words(spec, default=language)
        elif compat and language == "english":
            stop_words = ENGLISH_STOP_WORDS
        else:
            stop_words = stop_words_for(language)
        config = VectorizerConfig(
            lowercase=kw["lowercase"],
            token_pattern=pattern,
            stop_words=stop_words,
            ngram_range=kw["ngram_range"],
            min_df=kw["min_df"],
            max_df=kw["max_df"],
            max_features=kw["max_features"],
            sublinear_tf=kw["sublinear_tf"],
            norm=None if kw["norm"] == "none" else kw["norm"],
            use_idf=not kw["no_idf"],
            keep_numbers=compat if keep_numbers is None else keep_numbers,
            keep_addresses=compat if keep_addresses is None else keep_addresses,
            adjacent_ngrams=not compat,
            max_line_df=max_line_df,
            phrases=bool(kw.get("phrases")),
            phrase_min_count=kw.get("phrase_min_count", 5),
            phrase_threshold=kw.get("phrase_threshold", 0.5),
            tokenizer=tokenizer,
        )
    check_tokenizer(config)  # a missing optional package: exit 1 before any reading
    return config


def nmf_config(k: int, kw: dict[str, Any]) -> Any:
    """The NMFConfig of the options (a bad value: exit 2, before any work)."""
    from topicnmf.config import NMFConfig

    solver = kw["solver"]
    if solver == "auto":
        # coordinate descent is the fast solver for both losses; for KL it is compiled with
        # numba, and without numba the multiplicative updates are what there is
        import importlib.util

        has_numba = importlib.util.find_spec("numba") is not None
        solver = "cd" if kw["loss"] == "frobenius" or has_numba else "mu"
    with usage_errors():
        config = NMFConfig(
            n_components=k,
            loss=kw["loss"],
            solver=solver,
            init=kw["init"],
            svd=kw["svd"],
            max_iter=kw["max_iter"],
            tol=kw["tol"],
            seed=kw["seed"],
            alpha_W=kw["alpha_w"],
            alpha_H=kw["alpha_h"],
            l1_ratio=kw["l1_ratio"],
            dtype="float64" if kw["float64"] else "float32",
        )
        config.validate()
    return config


# ------------------------------------------------------------------ backend (issue 13)

PARAM_OPTIONS.update(
    {
        "backend": "--backend",
        "workers": "--workers",
        "scheduler": "--scheduler",
        "partitions": "--partitions",
    }
)
_ADVICE["backend"] = "or run without --backend dask"
_ADVICE["scheduler"] = (
    "start one with 'dask scheduler', check --scheduler (tcp://HOST:8786), or leave it out "
    "to start a cluster on this machine"
)
BACKEND_KEYS = ("backend", "workers", "scheduler", "partitions")


_BACKEND_OPTIONS = [
    click.option(
        "--backend",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="Where to compute: this process, or a Dask cluster (pip install 'topicnmf[dask]').",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="With --backend dask: worker processes of a cluster started on this machine "
        "[default: the CPUs].",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --backend dask: use the running cluster of this scheduler "
        "(tcp://HOST:8786) instead of starting one.",
    ),
    click.option(
        "--partitions",
        type=click.IntRange(min=1),
        help="With --backend dask: split the documents into this many partitions "
        "[default: one per worker].",
    ),
]


def backend_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--backend and the Dask settings, shared by the commands that can run on Dask."""
    return _apply(f, _BACKEND_OPTIONS)


def pop_backend(kwargs: dict[str, Any]) -> Any:
    """The BackendConfig of the options (removed from ``kwargs``); a misuse is exit 2."""
    from topicnmf.backends import BackendConfig

    opts = {key: kwargs.pop(key) for key in BACKEND_KEYS}
    if opts["backend"] != "dask":
        given = [PARAM_OPTIONS[key] for key in BACKEND_KEYS[1:] if opts[key] is not None]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise click.UsageError(f"{', '.join(given)} {verb} only with --backend dask")
    with usage_errors():
        config = BackendConfig(
            opts["backend"], opts["workers"], opts["scheduler"] or None, opts["partitions"]
        )
    if config.kind == "dask":
        from topicnmf.backends.dask_backend import require

        require()  # a missing extra stops the command before any work (exit 1)
    return config
