"""Tests of the TF-IDF stage: equality with scikit-learn, settings, errors, saving."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
import tracemalloc
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SK_STOP_WORDS
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.helpers import NEWS_ARCHIVE as ARCHIVE
from tests.helpers import requires_newsgroups
from topicnmf.config import DEFAULT_STOP_WORDS, ENGLISH_CONTRACTIONS
from topicnmf.errors import ModelFileError, ParameterError, TopicNMFWarning, VectorizerError
from topicnmf.regexcheck import exponential_backtracking
from topicnmf.vectorize import (
    DEFAULT_TOKEN_PATTERN,
    ENGLISH_STOP_WORDS,
    Vectorizer,
    VectorizerConfig,
    counting,
    resolve_stop_words,
    tokenizer,
)

# scikit-learn's token rules: the equality tests run in this mode
SK = VectorizerConfig.sklearn_compatible

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A quick brown dog outpaces a quick red fox!",
    "Dogs and foxes: the eternal rivalry of quick animals.",
    "Lazy afternoons; the dog sleeps, the fox plots.",
    "Red foxes are quick, brown dogs are lazy -- or so they say.",
    "Nothing about animals here: only numbers 42 and 2024 and x_y_z.",
    "",
    "THE LAZY DOG and the Lazy Fox share a quick_brown snack at 10:30.",
    "über café naïve Straße İstanbul ΣΟΦΟΣ σοφός ² ³ ½ ٣ 東京 タワー",
    "supercalifragilisticexpialidocious antidisestablishmentarianism dog fox",
    "abcdefgh abcdefghi abcdefghijklmnop abcdefghijklmnopq aaaaaaaa aaaaaaaa",
    "the fox the dog the fox the dog brown brown brown",
]
OTHER = [
    "a completely new text about a quick fox",
    "",
    "zebra yak xylophone",  # nothing known
    "the the the and of",  # only stop words
    "brown dog brown dog lazy café ΣΟΦΟΣ",
]


def sklearn_for(cfg: VectorizerConfig) -> TfidfVectorizer:
    return TfidfVectorizer(
        lowercase=cfg.lowercase,
        token_pattern=cfg.token_pattern,
        stop_words=list(cfg.stop_words) or None,
        ngram_range=cfg.ngram_range,
        min_df=cfg.min_df,
        max_df=cfg.max_df,
        max_features=cfg.max_features,
        sublinear_tf=cfg.sublinear_tf,
        norm=cfg.norm,
        use_idf=cfg.use_idf,
        smooth_idf=cfg.smooth_idf,
    )


def assert_matches_sklearn(cfg: VectorizerConfig, fit_texts: list[str], new_texts: list[str]):
    """Fit both on fit_texts, transform new_texts; vocabulary, idf and values must agree."""
    sk = sklearn_for(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stop-word consistency warnings
        expected = sp.csr_matrix(sk.fit_transform(fit_texts))
    ours = Vectorizer(cfg)
    got = ours.fit_transform(fit_texts)
    assert ours.vocabulary == list(sk.get_feature_names_out())
    if cfg.use_idf:
        np.testing.assert_array_equal(ours.idf, sk.idf_)
    assert_same_matrix(got, expected)
    assert_same_matrix(ours.transform(new_texts), sp.csr_matrix(sk.transform(new_texts)))
    assert ours.n_documents == len(fit_texts)
    return ours, got


def assert_same_matrix(got: sp.csr_matrix, expected: sp.csr_matrix) -> None:
    assert isinstance(got, sp.csr_matrix)
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    assert got.has_sorted_indices
    assert (got != 0).sum() == got.nnz  # no explicit zeros
    np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)
    assert got.nnz == expected.count_nonzero()


# ------------------------------------------------------------------------ config


def test_stop_words_are_sklearns_list_written_out() -> None:
    assert ENGLISH_STOP_WORDS == tuple(sorted(SK_STOP_WORDS))
    assert SK().stop_words == ENGLISH_STOP_WORDS
    # the default list adds English contractions (none of which scikit-learn's pattern
    # can produce), the 14 words spaCy's English list adds, and MALLET's list but three
    # pieces of addresses
    added = set(VectorizerConfig().stop_words) - set(ENGLISH_STOP_WORDS)
    assert set(ENGLISH_CONTRACTIONS) <= added
    assert all("'" in w for w in ENGLISH_CONTRACTIONS)
    spacy = set(
        "ca did does doing just make quite really regarding say unless used using various".split()
    )
    from importlib import resources

    listed = resources.files("topicnmf") / "stopwords" / "english-mallet.txt"
    mallet = set(listed.read_text("utf-8").split())
    assert len(mallet) == 523 and {"know", "like", "think", "thanks", "hi"} <= mallet
    assert added - set(ENGLISH_CONTRACTIONS) == (spacy | mallet) - set(ENGLISH_STOP_WORDS) - {
        "com", "edu", "uucp"
    }  # fmt: skip
    assert not {"com", "edu", "uucp"} & set(VectorizerConfig().stop_words)


def test_defaults() -> None:
    cfg = VectorizerConfig()
    assert cfg.lowercase is True
    assert cfg.token_pattern is None  # the word rule
    assert cfg.stop_words == DEFAULT_STOP_WORDS
    assert (cfg.ngram_range, cfg.min_df, cfg.max_df, cfg.max_features) == ((1, 1), 2, 0.95, None)
    assert (cfg.sublinear_tf, cfg.norm, cfg.use_idf, cfg.smooth_idf) == (False, "l2", True, True)
    assert (cfg.keep_numbers, cfg.adjacent_ngrams, cfg.max_line_df) == (False, True, 0.005)
    assert (cfg.phrases, cfg.phrase_min_count, cfg.phrase_threshold) == (False, 5, 0.5)
    assert cfg.tokenizer == "regex"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.min_df = 3  # type: ignore[misc]
    sk = SK()
    assert sk.token_pattern == DEFAULT_TOKEN_PATTERN == r"(?u)\b\w\w+\b"
    assert (sk.keep_numbers, sk.adjacent_ngrams, sk.max_line_df, sk.phrases) == (
        True, False, None, False
    )  # fmt: skip


def test_config_normalises_containers() -> None:
    cfg = VectorizerConfig(stop_words=["b", "a", "b"], ngram_range=[1, 2])  # type: ignore[arg-type]
    assert cfg.stop_words == ("a", "b")
    assert cfg.ngram_range == (1, 2)
    assert cfg == VectorizerConfig(stop_words=("a", "b"), ngram_range=(1, 2))
    assert VectorizerConfig(stop_words=None).stop_words == ()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"min_df": 0}, "min_df=0"),
        ({"min_df": 1.5}, "min_df=1.5"),
        ({"max_df": -0.1}, "max_df=-0.1"),
        ({"min_df": "2"}, "'2'"),
        ({"min_df": True}, "True"),
        ({"min_df": 5, "max_df": 3}, "min_df=5 is larger than max_df=3"),
        ({"min_df": 0.6, "max_df": 0.5}, "min_df=0.6"),
        ({"ngram_range": (2, 1)}, "(2, 1)"),
        ({"ngram_range": (0, 1)}, "(0, 1)"),
        ({"ngram_range": (1,)}, "(1,)"),
        ({"norm": "l3"}, "'l3'"),
        ({"norm": "none"}, "'none'"),
        ({"token_pattern": "(unclosed"}, "not a valid regular expression"),
        ({"token_pattern": r"(a)(b)"}, "2 capturing groups"),
        ({"max_features": 0}, "max_features"),
        ({"max_features": 2.5}, "2.5"),
        ({"lowercase": "yes"}, "'yes'"),
        ({"stop_words": "english"}, "resolve_stop_words"),
        ({"stop_words": ("a", 3)}, "strings"),
    ],
)
def test_invalid_settings_raise_parameter_error(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        VectorizerConfig(**kwargs)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_validate_is_public() -> None:
    VectorizerConfig().validate()


def test_resolve_stop_words(tmp_path: Path) -> None:
    assert resolve_stop_words("english") == DEFAULT_STOP_WORDS
    assert resolve_stop_words("English") == DEFAULT_STOP_WORDS
    assert resolve_stop_words("none") == ()
    assert resolve_stop_words(None) == ()
    assert resolve_stop_words(["b", "a", "b"]) == ("a", "b")
    path = tmp_path / "stop.txt"
    path.write_text("# my list\nfoo\n\n  bar  \nfoo\n#baz\nçà\n", encoding="utf-8")
    with pytest.warns(TopicNMFWarning, match="replace the english list"):
        assert resolve_stop_words(str(path)) == ("bar", "foo", "çà")
    with pytest.warns(TopicNMFWarning):
        assert resolve_stop_words(path) == ("bar", "foo", "çà")


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (rather than hang) if the block takes longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bad_stop_word_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Stop-word files that must be refused, with a word of the expected message."""
    fifo = tmp_path / "words.fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # 11 MB of real words: only the size is wrong
        fh.write(b"word\n" * (11 * 1024 * 1024 // 5))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9\n".encode("latin-1"))
    folder = tmp_path / "folder"
    folder.mkdir()
    return {
        "missing": (tmp_path / "missing.txt", "not found"),
        "a folder": (folder, "is a folder"),
        "/dev/zero": (Path("/dev/zero"), "not a regular file"),
        "a FIFO": (fifo, "not a regular file"),
        "11 MB": (big, "more than the 10,485,760 allowed"),
        "not UTF-8": (latin1, "not UTF-8"),
    }


def test_resolve_stop_words_errors(tmp_path: Path) -> None:
    for name, (path, needle) in bad_stop_word_files(tmp_path).items():
        # a device or a FIFO fails at once: no endless read, no wait for a writer
        with deadline(5), pytest.raises(ParameterError) as info:
            resolve_stop_words(str(path))
        assert needle in str(info.value), name
        assert info.value.param == "stop_words", name
        assert info.value.path == str(path), name
        assert "\n" not in str(info.value)


def test_stop_word_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffthe\nof\n".encode())
    with pytest.warns(TopicNMFWarning):
        assert resolve_stop_words(path) == ("of", "the")


@pytest.mark.parametrize("name", ["/dev/zero", "a FIFO", "11 MB", "missing"])
def test_cli_refuses_a_bad_stop_word_file_as_a_usage_error(
    name: str, tmp_path: Path, theme_dir: Path
) -> None:
    from click.testing import CliRunner

    from topicnmf.cli import cli

    path, needle = bad_stop_word_files(tmp_path)[name]
    model = tmp_path / "m.npz"
    with deadline(20):
        result = CliRunner().invoke(
            cli, ["fit", str(theme_dir), "-k", "2", "-m", str(model), "--stop-words", str(path)]
        )
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "--stop-words" in result.stderr and needle in result.stderr
    assert "Traceback" not in result.stderr
    assert not model.exists()


# ------------------------------------------------------------- token pattern safety

EXPONENTIAL = [
    r"(a+)+$",  # nested quantifiers
    r"(a*)*$",  # a repeated part that can match nothing
    r"(a|aa)+$",  # branches that begin alike
    r"(?:(?:a|a)c)+",  # the same, inside a longer repeated part
    r"(\w+\s?)+$",  # the classic
    r"(x+x+)+y",  # repetitions that compete inside the repeated part
    r"(?:-\w+\w+-)+",
    r"(.*a){12}",
    r"\w+(?:[._-]\w+)*@",  # '_' is both a separator and a word character
    r"(?=(a+)+$)\w+",  # inside a lookahead too
    r"(?i)(?:A\w+)+",
]
DELIMITED = [
    DEFAULT_TOKEN_PATTERN,
    r"\b\w+(?:[-']\w+)*\b",
    r"(?u)\b\w\w+(?:'\w+)?\b",
    r"(?:\d+\.)+\d+",
    r"(?:ab|ac)+",  # the parser factors the common prefix out
    r"(?>a+)+$",  # atomic
    r"(?:a++)+",  # possessive
    r"\w+(?:[.-]\w+)*@\w+(?:\.\w+)+",
    r"(?x) (?:[A-Z]\.)+ | \w+(?:-\w+)* | \$?\d+(?:\.\d+)?%? | \.\.\.",
    r"a*a*a*b",  # slow on long runs of a (polynomial), but not exponential
    r"[^\W\d_]{2,}",
    r"\S+",
]


@pytest.mark.parametrize("pattern", EXPONENTIAL)
def test_patterns_that_can_backtrack_exponentially_are_refused(pattern: str) -> None:
    with pytest.raises(ParameterError) as info:
        VectorizerConfig(token_pattern=pattern)
    assert info.value.param == "token_pattern"
    assert info.value.value == pattern
    assert "exponential time" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("pattern", DELIMITED)
def test_patterns_whose_repetitions_are_delimited_are_accepted(pattern: str) -> None:
    assert VectorizerConfig(token_pattern=pattern).token_pattern == pattern


def _patterns() -> st.SearchStrategy[str]:
    atoms = st.sampled_from(["a", "b", "-", "[ab]", "[a-]", ".", r"\w", r"\s", "a?"])
    quantifiers = st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "*+", "+?"])
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map("".join),
            st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
            st.tuples(inner, quantifiers).map(lambda t: f"(?:{t[0]}){t[1]}"),
        ),
        max_leaves=8,
    ).map(lambda p: f"(?:{p})+$")


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_patterns())
def test_accepted_patterns_do_not_backtrack_exponentially(pattern: str) -> None:
    # Texts of 40 characters that end in a character the pattern cannot match: an
    # exponential pattern takes about 2**40 steps on one of them, a polynomial one
    # a few thousand.
    if exponential_backtracking(pattern) is not None:
        return
    compiled = re.compile(pattern)
    with deadline(2):
        for unit in ("a", "ab", "a-", "aab", "a a", "ba", "a-b"):
            text = (unit * 40)[:40] + "!"
            compiled.findall(text)
            compiled.fullmatch(text)


def test_cli_refuses_an_exponential_pattern_before_reading(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from topicnmf.cli import cli

    missing = tmp_path / "no-such-corpus"
    result = CliRunner().invoke(cli, ["fit", str(missing), "--token-pattern", "(a+)+$"])
    # a usage error about the option, not a complaint about the corpus it never read
    assert result.exit_code == 2, result.stderr
    assert "--token-pattern" in result.stderr and "exponential" in result.stderr
    assert "no-such-corpus" not in result.stderr


def _default_sigint() -> None:
    # a shell starts background jobs with SIGINT ignored and children inherit that;
    # give the child the default so the test means the same however pytest was started
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_a_slow_token_pattern_within_a_second(
    sig: int, code: int, tmp_path: Path
) -> None:
    # 'a*a*a*b' is accepted (its backtracking is polynomial, not exponential) but on
    # lines of 20,000 'a' it would run for days: the regex engine must stay
    # interruptible, which it is only while it runs in the main thread.
    corpus = tmp_path / "docs.txt"
    corpus.write_text(("a" * 20_000 + "\n") * 4)
    env = {k: v for k, v in os.environ.items() if k != "TOPICNMF_DEBUG"}
    args = ["fit", corpus, "-k", "1", "--min-df", "1", "--token-pattern", "a*a*a*b", "-m",
            tmp_path / "m.npz"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "topicnmf", *map(str, args)],
        preexec_fn=_default_sigint,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # starting Python and reading four lines take well under 1.5 s of CPU: past
        # that, the pattern is being matched
        limit = time.monotonic() + 60
        while _cpu_seconds(proc.pid) < 1.5:
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < limit, "the run never got busy"
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert elapsed < 1.0, f"took {elapsed:.2f} s to stop"
    assert "Traceback" not in err.decode()
    assert not (tmp_path / "m.npz").exists()


def test_capitalised_stop_words_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="topicnmf"):
        Vectorizer(SK(stop_words=("The", "a"), min_df=1)).fit_transform(CORPUS)
    assert "capitals" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="topicnmf"):
        cfg = SK(stop_words=("The", "a"), lowercase=False, min_df=1)
        Vectorizer(cfg).fit_transform(CORPUS)
    assert caplog.text == ""
    # the word rule reads stop words as it reads text (lowercased): "The" matches
    with caplog.at_level("WARNING", logger="topicnmf"):
        vec = Vectorizer(VectorizerConfig(stop_words=("The", "a"), min_df=1))
        vec.fit_transform(CORPUS)
    assert caplog.text == "" and "the" not in vec.vocabulary


# ------------------------------------------------------------- sklearn equality

CONFIGS = {
    "default": {},
    "min_df=1": {"min_df": 1},
    "bigrams": {"min_df": 1, "ngram_range": (1, 2)},
    "bi+trigrams only": {"min_df": 1, "ngram_range": (2, 3)},
    "1-3grams, min_df 2": {"ngram_range": (1, 3)},
    "max_features ties": {"min_df": 1, "max_features": 7},
    "max_features bigrams": {"min_df": 1, "ngram_range": (1, 2), "max_features": 11},
    "sublinear": {"min_df": 1, "sublinear_tf": True},
    "l1": {"min_df": 1, "norm": "l1"},
    "no norm": {"min_df": 1, "norm": None},
    "no idf": {"min_df": 1, "use_idf": False},
    "no smoothing": {"min_df": 1, "smooth_idf": False},
    "df as ints": {"min_df": 2, "max_df": 4},
    "df as floats": {"min_df": 0.2, "max_df": 0.5},
    "df mixed": {"min_df": 0.1, "max_df": 5},
    "max_df 1.0": {"min_df": 1, "max_df": 1.0},
    "no stop words": {"min_df": 1, "stop_words": ()},
    "own stop words": {"min_df": 1, "stop_words": ("fox", "dog", "quick")},
    "case kept": {"min_df": 1, "lowercase": False, "stop_words": ()},
    "single letters": {"min_df": 1, "token_pattern": r"(?u)\b\w+\b"},
    "plain \\w\\w+": {"min_df": 1, "token_pattern": r"\w\w+"},
    "letters only": {"min_df": 1, "token_pattern": r"(?u)\b[^\W\d_]{3,}\b"},
    "capturing group": {"min_df": 1, "token_pattern": r"(\w+)[.!:]"},
    "empty group matches": {"min_df": 1, "token_pattern": r"x(\d*)", "stop_words": ()},
    "non-space runs": {"min_df": 1, "token_pattern": r"\S+", "ngram_range": (1, 2)},
    "tokens with spaces": {
        "min_df": 1,
        "token_pattern": r"[a-z]+ [a-z]+|[a-z]+",
        "ngram_range": (1, 3),
        "stop_words": (),
    },
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_sklearn(name: str) -> None:
    assert_matches_sklearn(SK(**CONFIGS[name]), CORPUS, OTHER)


def test_max_features_tie_breaking_matches_sklearn() -> None:
    # 60 terms, all with the same total count: which ones survive is decided only by
    # scikit-learn's tie-breaking, which must be reproduced exactly
    rng = np.random.default_rng(3)
    words = [f"w{i:02d}" for i in range(60)]
    texts = [" ".join(rng.permutation(words)[:30]) for _ in range(8)]
    texts.append(" ".join(words) * 0)
    for limit in (1, 5, 17, 33, 59):
        assert_matches_sklearn(SK(min_df=1, max_df=1.0, max_features=limit), texts, texts[:3])


def test_unicode_and_mixed_chunks_match_sklearn() -> None:
    texts = [
        "ASCII only text with WORDS and numbers 123",
        "Ünïcödé wörds ánd ÀSCII mixed, İstanbul İİ ΣΑΣ ΟΔΟΣ. σας",
        "ﬁne ligatures ﬀ and ß straße STRASSE",
        "Ⅻ roman ⅫⅫ numerals and ①② circled, x²y³",
        "emoji 🙂🙂 not words but 🙂word🙂 is, 𝔘𝔫𝔦 𝟙𝟚 are",
        "tabs\tand\nnewlines\r\nand\x00nul\x00bytes",
        "under_score __dunder__ _x_ 9_9",
        "surrogate \udcff in the middle of wo\udcffrd",
    ] * 3
    for cfg in (
        SK(min_df=1),
        SK(min_df=1, lowercase=False),
        SK(min_df=1, token_pattern=r"\b\w+\b", ngram_range=(1, 2)),
    ):
        assert_matches_sklearn(cfg, texts, texts[::-1])


@pytest.mark.parametrize("mode", ["default", "sklearn"])
def test_result_does_not_depend_on_chunking(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make = VectorizerConfig if mode == "default" else SK
    cfg = make(min_df=1, ngram_range=(1, 2))
    texts = CORPUS * 5
    reference = Vectorizer(cfg).fit_transform(texts)
    monkeypatch.setattr(counting, "CHUNK_CHARS", 40)
    vec = Vectorizer(cfg)
    got = vec.fit_transform(iter(texts))
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(got, name), getattr(reference, name))
    again = vec.transform(iter(texts))
    np.testing.assert_allclose(again.toarray(), reference.toarray(), rtol=1e-6)


LONG_TEXTS = [
    # long texts with spaces, a text without whitespace (cut after a non-word character),
    # one long run of word characters (never cut), mixed scripts and the Greek final sigma
    " ".join(f"w{i % 37} Word{i % 11}, x{i % 5}y" for i in range(120)),
    "short text about w1 and Word2",
    "-".join(f"tok{i % 23}" for i in range(90)),
    "a" * 300,
    " ".join(["ΟΔΟΣ σας ΣΑΣ İstanbul café naïve 東京タワー"] * 20),
    "",
    "\n".join(f"line {i} w{i % 7} end." for i in range(60)),
]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"ngram_range": (1, 3)},
        {"lowercase": False, "ngram_range": (2, 2)},
        {"token_pattern": r"(?u)\b\w[\w']+\b", "ngram_range": (1, 2)},
        {"token_pattern": r"\S+"},  # matches across what the run tokenizer would cut
        {"token_pattern": r"(\w)\w+"},  # one group: the group is the token
        {"stop_words": ("w1", "x0y", "word2", "tok5")},
    ],
)
def test_long_texts_are_read_in_pieces_and_match_sklearn(
    kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # pieces of 64 characters and batches of 3 matches: every long text is cut many times
    monkeypatch.setattr(tokenizer, "PIECE_CHARS", 64)
    monkeypatch.setattr(tokenizer.RegexTokenizer, "batch_tokens", 3)
    cfg = SK(min_df=1, max_df=1.0, **kwargs)
    ours, _ = assert_matches_sklearn(cfg, LONG_TEXTS, LONG_TEXTS[::-1] + OTHER)
    # the pieces really were many
    pieces = list(tokenizer.make_tokenizer(cfg).tokenize([LONG_TEXTS[0]]))
    assert len(pieces) > 10 and all(p.continues for p in pieces[1:])
    assert not pieces[0].continues


def test_a_long_text_needs_memory_for_a_piece_not_for_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 4 million characters of words as one text, read in pieces of 16 K characters: the
    # vectorizer's allocations stay far below the size of the text (before pieces, the
    # temporaries took about ten bytes per character)
    monkeypatch.setattr(tokenizer, "PIECE_CHARS", 1 << 14)
    words = [f"w{i}" for i in range(500)]
    rng = np.random.default_rng(0)
    text = " ".join(words[i] for i in rng.integers(0, len(words), size=800_000))
    tracemalloc.start()
    try:
        V = Vectorizer(SK(min_df=1, max_df=1.0)).fit_transform([text])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert V.shape == (1, 500)
    assert peak < len(text) / 4, f"peak {peak:,} bytes for {len(text):,} characters"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        alphabet=st.sampled_from(
            list("abcAB xyz_09.,-'\n\t") + ["é", "İ", "Σ", "²", "\x00", "ǅ", "𝔘", "🙂", "ÿ"]
        ),
        max_size=60,
    )
)
def test_numpy_tokenizer_equals_regex(text: str) -> None:
    for pattern, min_len in tokenizer.RUN_PATTERNS.items():
        for lowercase in (True, False):
            docs = [text, text[::-1], "", text + " q"]
            toks = tokenizer.tokenize_runs(docs, lowercase, min_len)
            found = re.compile(pattern).findall
            expected = [t for d in docs for t in found(d.lower() if lowercase else d)]
            strings = iter(toks.strs)
            packed = tokenizer.unpack(toks.key1, toks.key2)
            got = [p if k else next(strings) for k, p in zip(toks.key1, packed, strict=True)]
            assert got == expected
            lengths = [len(found(d.lower() if lowercase else d)) for d in docs]
            assert np.diff(toks.indptr).tolist() == lengths


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "cd", "eé", "xy", "z.", "Q", "cd,"]), max_size=8).map(
            " ".join
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([(1, 1), (1, 2), (2, 2)]),
    st.sampled_from([None, 1, 3]),
)
def test_random_corpora_match_sklearn(
    texts: list[str], ngram_range: tuple[int, int], max_features: int | None
) -> None:
    cfg = SK(
        min_df=1,
        max_df=1.0,
        ngram_range=ngram_range,
        max_features=max_features,
        token_pattern=r"(?u)\b\w+\b",
        stop_words=("b",),
    )
    sk = sklearn_for(cfg)
    try:
        expected = sk.fit_transform(texts)
    except ValueError:
        with pytest.raises(VectorizerError):
            Vectorizer(cfg).fit_transform(texts)
        return
    vec = Vectorizer(cfg)
    assert_same_matrix(vec.fit_transform(texts), sp.csr_matrix(expected))
    assert vec.vocabulary == list(sk.get_feature_names_out())


@requires_newsgroups
def test_matches_sklearn_on_20newsgroups() -> None:
    texts = []
    with tarfile.open(ARCHIVE, "r:gz") as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                texts.append(handle.read().decode("latin-1"))
                if len(texts) == 400:
                    break
    ours, _ = assert_matches_sklearn(SK(), texts[:300], texts[300:])
    assert len(ours.vocabulary) > 1000
    bigrams = SK(ngram_range=(1, 2), max_features=2000, sublinear_tf=True)
    assert_matches_sklearn(bigrams, texts[:150], texts[300:])


# ---------------------------------------------------------------------- transform


def test_transform_of_unknown_and_empty_texts_gives_zero_rows() -> None:
    vec = Vectorizer(VectorizerConfig(min_df=1))
    vec.fit_transform(CORPUS)
    X = vec.transform(["", "zzz qqq", "the and of", "fox"])
    assert X.shape == (4, len(vec.vocabulary))
    assert X.dtype == np.float32
    assert np.diff(X.indptr).tolist() == [0, 0, 0, 1]
    assert X[3, vec.vocabulary.index("fox")] == pytest.approx(1.0)
    assert vec.transform([]).shape == (0, len(vec.vocabulary))


def test_count_and_binary_doc_term() -> None:
    vec = Vectorizer(VectorizerConfig(min_df=1, ngram_range=(1, 2)))
    vec.fit_transform(CORPUS)
    texts = ["fox fox dog", "brown dog brown dog", ""]
    counts = vec.count_transform(texts)
    col = vec.vocabulary.index
    assert counts.dtype == np.int32
    assert counts[0, col("fox")] == 2
    assert counts[1, col("brown dog")] == 2
    assert counts[1, col("dog brown")] == 1
    binary = vec.binary_doc_term(texts)
    assert binary.dtype == bool
    np.testing.assert_array_equal(binary.toarray(), counts.toarray() > 0)
    # the fitted matrix has the same sparsity pattern as the incidence of its texts
    V = vec.fit_transform(CORPUS)
    np.testing.assert_array_equal(vec.binary_doc_term(CORPUS).toarray(), V.toarray() > 0)


def test_transform_before_fit_raises() -> None:
    with pytest.raises(VectorizerError, match="not fitted"):
        Vectorizer(VectorizerConfig()).transform(["text"])


def test_input_must_be_texts() -> None:
    vec = Vectorizer(VectorizerConfig(min_df=1))
    with pytest.raises(TypeError, match="single string"):
        vec.fit_transform("one text")
    with pytest.raises(TypeError, match="bytes"):
        vec.fit_transform(["ok", b"bytes"])  # type: ignore[list-item]


def test_fit_is_deterministic_and_streams() -> None:
    cfg = VectorizerConfig(min_df=1)
    a = Vectorizer(cfg).fit_transform(CORPUS)
    b = Vectorizer(cfg).fit_transform(t for t in CORPUS)
    assert (a != b).nnz == 0


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("texts", "kwargs", "needle", "param"),
    [
        ([], {}, "corpus is empty", None),
        (["", "  ", "!!"], {}, "no tokens found", "token_pattern"),
        (["the and of", "a an the"], {}, "every token is a stop word", "stop_words"),
        (
            ["no digits here", "none"],
            {"token_pattern": r"\d{5}", "min_df": 1},
            "no tokens found",
            "token_pattern",
        ),
        (
            ["alpha beta", "gamma delta", "epsilon zeta"],
            {"min_df": 2},
            "all 6 terms occur in fewer than 2 documents (min_df=2)",
            "min_df",
        ),
        (
            ["alpha beta", "alpha beta"],
            {"max_df": 0.5, "min_df": 1},
            "all 2 terms occur in more than 50% of the 2 documents (max_df=0.5)",
            "max_df",
        ),
        (
            ["alpha beta", "alpha beta"],
            {"max_df": 1, "min_df": 1},
            "more than 1 document (max_df=1)",
            "max_df",
        ),
        (
            ["alpha", "beta", "alpha beta"],
            {"min_df": 3, "max_df": 0.1},
            "is below min_df=3",
            "min_df",
        ),
        (
            ["alpha beta", "alpha gamma", "alpha delta"],
            {"min_df": 2, "max_df": 2},
            "of 4 terms, 3 occur in fewer than 2 documents (min_df=2) and 1 in more than 2",
            "min_df",
        ),
        (
            ["alpha", "beta"],
            {"ngram_range": (2, 2), "min_df": 1},
            "2 consecutive tokens",
            "ngram_range",
        ),
        (
            ["alpha beta", "beta"],
            {},
            "for 2 documents, max_df=0.95 (= 1.9 documents) is below",
            "min_df",
        ),
    ],
)
def test_empty_vocabulary_says_why(
    texts: list[str], kwargs: dict[str, Any], needle: str, param: str | None
) -> None:
    with pytest.raises(VectorizerError) as info:
        Vectorizer(VectorizerConfig(**kwargs)).fit_transform(texts)
    assert needle in str(info.value)
    # the setting to change travels as a field; the words are the library's, never an option
    assert info.value.param == param
    assert "\n" not in str(info.value)
    assert "--" not in str(info.value)


# ------------------------------------------------------------------ serialisation


def savez_roundtrip(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return {key: loaded[key] for key in loaded.files}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"min_df": 1, "max_df": 7, "max_features": 9, "norm": None, "ngram_range": (1, 2)},
        {"min_df": 0.1, "max_df": 1.0, "norm": "l1", "use_idf": False, "lowercase": False},
        {"min_df": 1, "stop_words": (), "token_pattern": r"(\w+)[.!:]", "sublinear_tf": True},
        {"min_df": 1, "smooth_idf": False, "stop_words": ("ünï", "x y")},
    ],
)
def test_to_arrays_roundtrip(kwargs: dict[str, Any]) -> None:
    cfg = VectorizerConfig(**kwargs)
    vec = Vectorizer(cfg)
    vec.fit_transform(CORPUS)
    arrays = vec.to_arrays()
    for value in arrays.values():
        assert value.dtype.kind in "biufU", value.dtype
    restored = Vectorizer.from_arrays(savez_roundtrip(arrays))
    assert restored.config == cfg
    assert type(restored.config.min_df) is type(cfg.min_df)
    assert type(restored.config.max_df) is type(cfg.max_df)
    assert restored.vocabulary == vec.vocabulary
    np.testing.assert_array_equal(restored.idf, vec.idf)
    np.testing.assert_array_equal(restored.document_frequency, vec.document_frequency)
    assert restored.n_documents == vec.n_documents
    assert (restored.transform(OTHER) != vec.transform(OTHER)).nnz == 0
    # a second round trip gives the same arrays
    again = restored.to_arrays()
    assert arrays.keys() == again.keys()
    for key in arrays:
        np.testing.assert_array_equal(arrays[key], again[key])
        assert arrays[key].dtype == again[key].dtype


@settings(max_examples=30, deadline=None)
@given(
    min_df=st.one_of(st.integers(1, 3), st.floats(0.0, 0.3)),
    max_df=st.one_of(st.integers(8, 20), st.floats(0.7, 1.0)),
    max_features=st.one_of(st.none(), st.integers(1, 50)),
    norm=st.sampled_from(["l1", "l2", None]),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    stop_words=st.lists(st.text(min_size=1, max_size=5).filter(lambda s: s[-1] != "\x00")),
)
def test_config_roundtrip_property(
    min_df: Any, max_df: Any, max_features: Any, norm: Any, flags: Any, stop_words: list[str]
) -> None:
    lowercase, sublinear_tf, use_idf, smooth_idf = flags
    cfg = VectorizerConfig(
        lowercase=lowercase,
        stop_words=tuple(stop_words),
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        norm=norm,
        use_idf=use_idf,
        smooth_idf=smooth_idf,
    )
    vec = Vectorizer(cfg)
    vec.fit_transform(CORPUS)
    restored = Vectorizer.from_arrays(savez_roundtrip(vec.to_arrays()))
    assert restored.config == cfg
    assert restored.vocabulary == vec.vocabulary


@pytest.fixture(scope="module")
def fitted_arrays() -> dict[str, np.ndarray]:
    vec = Vectorizer(VectorizerConfig(min_df=1))
    vec.fit_transform(CORPUS)
    return vec.to_arrays()


def _vocab(arrays: dict[str, np.ndarray]) -> list[str]:
    from topicnmf.packing import unpack_strings

    return unpack_strings(arrays["vocabulary_utf8"], arrays["vocabulary_offsets"])


def _packed(terms: list[str]) -> dict[str, np.ndarray]:
    from topicnmf.packing import pack_strings

    data, offsets = pack_strings(terms)
    return {"vocabulary_utf8": data, "vocabulary_offsets": offsets}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda a: a.pop("idf"), "'idf' is missing"),
        (lambda a: a.pop("norm"), "'norm' is missing"),
        (lambda a: a.update(vocabulary_utf8=np.arange(3.0)), "expected bytes"),
        (lambda a: a.update(vocabulary_offsets=a["vocabulary_offsets"] + 1), "vocabulary"),
        (lambda a: a.update(idf=a["idf"][:-1]), "disagree"),
        (lambda a: a.update(idf=a["idf"] * 2), "do not match"),
        (lambda a: a.update(_packed(_vocab(a)[::-1])), "not sorted"),
        (lambda a: a.update(format_version=np.array(99)), "version 99"),
        (lambda a: a.update(norm=np.array("l3")), "invalid vectorizer settings"),
        (lambda a: a.update(min_df=np.array("2")), "'min_df'"),
        (lambda a: a.update(ngram_range=np.array([1, 2, 3])), "ngram_range"),
        (lambda a: a.update(lowercase=np.array([True, False])), "single value"),
        (lambda a: a.update(document_frequency=a["document_frequency"] + 100), "between 1 and"),
        (lambda a: a.update(stop_words=np.zeros((2, 2), dtype="U3")), "one-dimensional"),
    ],
)
def test_from_arrays_rejects_bad_input(
    fitted_arrays: dict[str, np.ndarray], change: Any, needle: str
) -> None:
    arrays = dict(fitted_arrays)
    change(arrays)
    with pytest.raises(ModelFileError) as info:
        Vectorizer.from_arrays(arrays)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_from_arrays_ignores_other_keys(fitted_arrays: dict[str, np.ndarray]) -> None:
    arrays = dict(fitted_arrays, H=np.zeros((2, 2)))
    assert Vectorizer.from_arrays(arrays).vocabulary == _vocab(fitted_arrays)
