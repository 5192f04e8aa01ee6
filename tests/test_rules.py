"""The token rules of the default vocabulary, each pinned on a small fixture: contractions,
numbers, boilerplate lines, phrases, adjacent n-grams, stop-word lists and their union,
languages, and the CJK tokenizers; what each rule removed (the vectorizer's counts, the
fit summary, ``info``); and models that keep their rules through a file.

scikit-learn's exact behaviour (``VectorizerConfig.sklearn_compatible``) is tested in
test_vectorize.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from topicnmf.config import (
    DEFAULT_STOP_WORDS,
    ENGLISH_CONTRACTIONS,
    ENGLISH_STOP_WORDS,
    LANGUAGES,
    STOP_WORD_LISTS,
    VectorizerConfig,
    resolve_stop_words,
    stop_words_for,
)
from topicnmf.errors import ParameterError, TopicNMFWarning, VectorizerError
from topicnmf.vectorize import Vectorizer

SK = VectorizerConfig.sklearn_compatible

SIGNATURE = "Jane Roe -- Acme Widgets -- call 555 0100"
SPACE = [
    "the space shuttle launch was delayed again",
    "rockets reach orbit after the launch window",
    "the space shuttle crew saw the moon from orbit",
    "don't expect the orbit of the station to decay",
    "we've tracked satellites since 2010 and the space shuttle since 1981",
]
COOKING = [
    "bake the bread in a hot oven for an hour",
    "olive oil and flour make a soft dough",
    "we've cooked with olive oil since 1999 (ask chef@kitchen.example.com)",
    "the recipe isn't hard: knead the dough, then bake the bread",
    "pour olive oil on the bread before it goes in the oven",
]


def rules_texts(n: int = 24) -> list[str]:
    """``n`` documents of two themes, three lines each, with contractions, numbers, an
    e-mail address and two phrases; every other one ends with the same two-line
    signature."""
    texts = []
    for i in range(n):
        theme = SPACE if i % 2 == 0 else COOKING
        lines = [theme[(i // 2 + j) % len(theme)] for j in range(3)]
        if i % 4 < 2:
            lines += ["--", SIGNATURE]
        texts.append("\n".join(lines) + "\n")
    return texts


def rules_corpus(root: Path) -> Path:
    """:func:`rules_texts` as a directory of text files (for the command line)."""
    folder = root / "rules"
    folder.mkdir(exist_ok=True)
    for i, text in enumerate(rules_texts()):
        (folder / f"doc{i:02d}.txt").write_text(text, encoding="utf-8")
    return folder


CHINESE = [
    "我们喜欢学习中文",
    "我们学习中文和日文",
    "他们喜欢学习日文",
    "学习中文很有意思",
]


def vocabulary(texts: list[str], config: VectorizerConfig) -> tuple[Vectorizer, list[str]]:
    vec = Vectorizer(config)
    vec.fit_transform(texts)
    return vec, vec.vocabulary


# -------------------------------------------------------------------------- contractions


def test_contractions_stay_whole_and_the_stop_list_removes_them() -> None:
    texts = ["I don't know why we've left", "they don't care; it isn't here", "it's the "
             "government's plan, and it doesn't work"]  # fmt: skip
    vec, vocab = vocabulary(texts, VectorizerConfig(min_df=1, max_df=1.0))
    # no fragment of a contraction, and the clitic 's of a word removed
    assert not {"don", "ve", "isn", "doesn", "ll", "t", "s"} & set(vocab)
    assert {"government", "plan", "left", "care"} <= set(vocab)
    assert "government's" not in vocab
    # without a stop list a contraction is one term, never pieces
    _, bare = vocabulary(texts, VectorizerConfig(min_df=1, max_df=1.0, stop_words=()))
    assert {"don't", "we've", "isn't", "doesn't", "government's"} <= set(bare)
    assert "don" not in bare
    # scikit-learn's pattern cuts them (its compatible mode keeps that)
    _, sk = vocabulary(texts, SK(min_df=1, max_df=1.0))
    assert {"don", "doesn", "isn"} <= set(sk)
    assert vec.removed["stop_words"] > 0


def test_typographic_apostrophes_read_as_plain_ones() -> None:
    _, vocab = vocabulary(
        ["we don\u2019t like it", "we don't like that"],
        VectorizerConfig(min_df=1, max_df=1.0, stop_words=()),
    )
    assert vocab.count("don't") == 1 and "don\u2019t" not in vocab


def test_a_stop_word_clitic_comes_off_a_french_word() -> None:
    texts = ["l'homme et l'enfant", "l'homme mange", "qu'il parle à l'enfant"]
    _, vocab = vocabulary(texts, VectorizerConfig.for_language("french", min_df=1, max_df=1.0))
    assert {"homme", "enfant"} <= set(vocab) and "l'homme" not in vocab


# ------------------------------------------------------------------------------- numbers


def test_numbers_are_dropped_unless_kept() -> None:
    texts = ["released in 2010 with 00 errors and mp3 support", "the x11 port of 2010 plays mp3"]
    vec, vocab = vocabulary(texts, VectorizerConfig(min_df=1, max_df=1.0))
    assert not {"2010", "00"} & set(vocab)
    assert {"mp3", "x11"} <= set(vocab)  # letters and digits together are words
    assert vec.removed["numbers"] == 3
    kept, vocab = vocabulary(texts, VectorizerConfig(min_df=1, max_df=1.0, keep_numbers=True))
    assert {"2010", "00"} <= set(vocab) and kept.removed["numbers"] == 0


# ----------------------------------------------------------------------------- addresses

ADDRESSED = [
    "Write to Jane.Roe+news@cs.example.edu about the launch (or <ops@nasa.example.gov>).",
    "Pictures at http://www.example.org/shuttle/launch_1.html and WWW.Example.com/orbit.",
    "the orbit report: ftp://ftp.example.net/pub/orbit.txt, the launch window today",
]


def test_addresses_are_dropped_whole_and_counted() -> None:
    vec, vocab = vocabulary(ADDRESSED, VectorizerConfig(min_df=1, max_df=1.0))
    pieces = {"jane", "roe", "news", "cs", "example", "edu", "ops", "nasa", "gov", "http",
              "www", "org", "html", "ftp", "net", "pub", "txt", "launch_1"}  # fmt: skip
    assert not pieces & set(vocab), sorted(pieces & set(vocab))
    # the words around them stay, "launch" and "orbit" from the sentences only
    assert {"write", "launch", "pictures", "orbit", "report", "window", "today"} <= set(vocab)
    # every piece of the five addresses: 6 + 4 + 7 + 4 + 7 word-rule tokens
    assert vec.removed["addresses"] == 28
    kept, vocab = vocabulary(ADDRESSED, VectorizerConfig(min_df=1, max_df=1.0,
                                                         keep_addresses=True))  # fmt: skip
    assert {"jane", "edu", "nasa", "http", "www", "html", "ftp"} <= set(vocab)
    assert kept.removed["addresses"] == 0
    # scikit-learn's rules keep them, as TfidfVectorizer does
    assert SK().keep_addresses and "edu" in vocabulary(ADDRESSED, SK(min_df=1))[1]


def test_new_documents_lose_their_addresses_too() -> None:
    vec, vocab = vocabulary(ADDRESSED, VectorizerConfig(min_df=1, max_df=1.0))
    X = vec.transform(["launch news from jones@launch.example.org", "launch news"])
    # "launch" is counted once in each: not from the address
    np.testing.assert_allclose(X[0].toarray(), X[1].toarray())


def test_what_is_not_an_address_stays() -> None:
    from topicnmf.vectorize.addresses import address_spans

    for text in ["a @ b", "@property decorates", "user@localhost", "matrix@vector",
                 "see x://y", "a.b.c dotted names", "mailto: nobody", "email me @ noon",
                 "y = A@B.T + b", "npm i lodash@4.17.21", "apples@1.50 each",
                 "10:30 at C:\\path, std::vector"]:  # fmt: skip
        assert len(address_spans(text)[0]) == 0, text
    text = ("mail jones@cs.example.edu. Then http://example.org/a, (www.example.com) "
            "(see http://x.org/wiki/A_(b))then [docs](http://x.org)and mailto:ann@x.org; "
            "docs.http://x.org/y?q=1&r=2#z.")  # fmt: skip
    found = [text[a:b] for a, b in zip(*address_spans(text), strict=True)]
    # a sentence's punctuation and a bracket opened before it are not part of an address
    assert found == ["jones@cs.example.edu", "http://example.org/a", "www.example.com",
                     "http://x.org/wiki/A_(b)", "http://x.org", "mailto:ann@x.org",
                     "http://x.org/y?q=1&r=2#z"]  # fmt: skip
    config = VectorizerConfig(min_df=1, max_df=1.0, stop_words=())
    _, vocab = vocabulary([text, "then and docs"], config)
    assert {"then", "and", "docs", "see", "mail"} <= set(vocab)
    assert not {"mailto", "ann", "wiki", "http", "org"} & set(vocab)


def test_addresses_in_text_without_spaces_end_where_the_text_begins() -> None:
    texts = ["请访问http://shop.com获取更多信息。我们的产品质量很好",
             "如有问题请联系客服邮箱support@shop.com我们会尽快回复"]  # fmt: skip
    config = VectorizerConfig(min_df=1, max_df=1.0, tokenizer="char-bigram")
    vec, vocab = vocabulary(texts, config)
    assert {"获取", "信息", "产品", "质量", "邮箱", "我们", "回复"} <= set(vocab)
    assert not {"http", "shop", "com", "support"} & set(vocab)
    assert vec.removed["addresses"] == 6
    keeping = VectorizerConfig(min_df=1, max_df=1.0, tokenizer="char-bigram", keep_addresses=True)
    _, kept = vocabulary(texts, keeping)
    assert set(kept) - set(vocab) == {"http", "shop", "com", "support"}


def test_ngrams_and_phrases_do_not_span_a_dropped_address() -> None:
    texts = ["space shuttle jones@example.org launch", "space shuttle launch"] * 3
    _, vocab = vocabulary(texts, VectorizerConfig(min_df=1, max_df=1.0, ngram_range=(2, 2)))
    assert "shuttle launch" in vocab  # from the second text
    cfg = VectorizerConfig(min_df=1, max_df=1.0, ngram_range=(2, 2))
    vec = Vectorizer(cfg)
    vec.fit_transform(texts)
    counts = vec.count_transform(["space shuttle jones@example.org launch"]).toarray()[0]
    assert counts[vec.vocabulary.index("shuttle launch")] == 0


def test_a_token_pattern_and_the_cjk_tokenizers_drop_addresses_too() -> None:
    pattern = VectorizerConfig(min_df=1, max_df=1.0, token_pattern=r"(?u)\b\w\w+\b")
    vec, vocab = vocabulary(ADDRESSED, pattern)
    assert not {"edu", "http", "www", "ftp"} & set(vocab) and vec.removed["addresses"] > 0
    assert {"launch", "orbit", "today"} <= set(vocab)
    # a token that overlaps an address is dropped whole, whatever its start
    glued = VectorizerConfig(min_df=1, max_df=1.0, token_pattern=r"\S+", stop_words=())
    _, vocab = vocabulary(["contact:jones@x.org here", "o'brien@x.org there"], glued)
    assert vocab == ["here", "there"]
    texts = ["学习中文 jones@cs.example.edu 很好", "学习日文 http://例子.cn/页 好"]
    config = VectorizerConfig(min_df=1, max_df=1.0, tokenizer="char-bigram")
    vec, vocab = vocabulary(texts, config)
    assert not {"jones", "cs", "example", "edu", "http"} & set(vocab)
    # an address is ASCII: the Chinese host name of the second is read as text
    assert {"学习", "中文", "日文", "例子"} <= set(vocab) and vec.removed["addresses"] == 5


def test_an_address_in_a_long_text_is_dropped() -> None:
    from topicnmf.vectorize.tokenizer import PIECE_CHARS

    filler = "orbit launch " * (PIECE_CHARS // 13 + 10)
    text = filler + " jones@cs.example.edu " + filler + " http://example.org/x " + filler
    # jones cs example edu + http example org x by the word rule; the pattern skips "x"
    for config, removed in ((VectorizerConfig(min_df=1, max_df=1.0), 8),
                            (VectorizerConfig(min_df=1, max_df=1.0,
                                              token_pattern=r"\b\w\w+\b"), 7)):  # fmt: skip
        vec, vocab = vocabulary([text, "orbit launch"], config)
        assert vocab == ["launch", "orbit"], config
        assert vec.removed["addresses"] == removed


def test_a_corpus_of_addresses_says_which_setting_removed_them() -> None:
    with pytest.raises(VectorizerError, match="address") as info:
        Vectorizer(VectorizerConfig(min_df=1)).fit_transform(["jones@example.org", "www.x.org"])
    assert info.value.param == "keep_addresses"


def test_a_file_from_before_the_address_rule_keeps_addresses() -> None:
    vec = Vectorizer(VectorizerConfig(keep_addresses=True))
    vec.fit_transform(rules_texts())
    arrays = vec.to_arrays()
    assert arrays["keep_addresses"] and int(arrays["format_version"]) == 3
    del arrays["keep_addresses"]
    arrays["format_version"] = np.array(2, dtype=np.int64)
    again = Vectorizer.from_arrays(arrays)
    assert again.config.keep_addresses is True and again.config == vec.config
    dropping = Vectorizer(VectorizerConfig())
    dropping.fit_transform(rules_texts())
    assert Vectorizer.from_arrays(dropping.to_arrays()).config.keep_addresses is False


def test_a_corpus_of_numbers_says_which_setting_removed_them() -> None:
    with pytest.raises(VectorizerError, match="every token") as info:
        Vectorizer(VectorizerConfig(min_df=1)).fit_transform(["1 2 33", "44 55"])
    assert info.value.param == "keep_numbers"


def test_one_character_tokens_are_dropped_and_counted() -> None:
    vec, vocab = vocabulary(
        ["a b c word", "x y word"], VectorizerConfig(min_df=1, max_df=1.0, stop_words=())
    )
    assert vocab == ["word"] and vec.removed["short"] == 5


# --------------------------------------------------------------------------- boilerplate


def test_lines_repeated_in_many_documents_are_removed() -> None:
    texts = rules_texts()
    vec, vocab = vocabulary(texts, VectorizerConfig())
    assert vec.boilerplate == ["--", SIGNATURE]
    assert vec.boilerplate_documents == 12
    assert not {"jane", "roe", "acme", "widgets"} & set(vocab)
    # the 7 tokens of the signature line (5 words, 2 numbers) in 12 documents
    assert vec.removed["boilerplate"] == 12 * 7
    # new documents lose the same lines
    counts = vec.count_transform([f"the oven is hot\n{SIGNATURE}\nbake bread"])
    assert counts.sum() == 4  # oven, hot, bake, bread
    kept, vocab = vocabulary(texts, VectorizerConfig(max_line_df=None))
    assert {"jane", "acme", "widgets"} <= set(vocab) and kept.boilerplate == []
    assert "boilerplate" not in kept.removed or kept.removed["boilerplate"] == 0


def test_a_share_of_documents_means_at_least_ten_and_one_line_documents_never_count() -> None:
    # in 12 of 24 documents: above the default share (0.005) and above 9 documents
    assert Vectorizer(VectorizerConfig()).fit_transform(rules_texts()) is not None
    # in 5 of 10 documents: half of them, but fewer than 10, so not boilerplate
    vec, _ = vocabulary(rules_texts(10), VectorizerConfig())
    assert vec.boilerplate == []
    # a count says exactly how many: in more than 4 documents
    vec, _ = vocabulary(rules_texts(10), VectorizerConfig(max_line_df=4))
    assert vec.boilerplate == ["--", SIGNATURE]
    # documents of one line (a .txt corpus of lines, short CSV fields) are never boilerplate
    lines = ["the same short line"] * 30 + ["another line here", "another line again"]
    vec, vocab = vocabulary(lines, VectorizerConfig(max_df=1.0))
    assert vec.boilerplate == [] and "short" in vocab


def test_a_one_shot_iterator_is_read_once_even_with_a_first_pass() -> None:
    from topicnmf import Document, NMFConfig, fit

    texts = rules_texts()
    expected = Vectorizer(VectorizerConfig()).fit_transform(texts)
    got = Vectorizer(VectorizerConfig()).fit_transform(iter(texts))
    assert (got != expected).nnz == 0
    docs = (Document(str(i), t) for i, t in enumerate(texts))
    out = fit(docs, VectorizerConfig(), NMFConfig(n_components=2))
    assert out.W.shape == (24, 2) and len(out.doc_ids) == 24
    assert out.model.vectorizer.boilerplate == ["--", SIGNATURE]


# ------------------------------------------------------------------------------- phrases


def test_phrases_join_collocations() -> None:
    texts = rules_texts()
    cfg = VectorizerConfig(phrases=True)
    vec, vocab = vocabulary(texts, cfg)
    assert {"space_shuttle", "olive_oil"} <= set(vec.phrases.tokens)
    assert {"space_shuttle", "olive_oil"} <= set(vocab)
    # "space" never stands alone here, so it is gone with the phrase
    assert "space" not in vocab and "shuttle" not in vocab
    _, plain = vocabulary(texts, VectorizerConfig())
    assert "space_shuttle" not in plain and {"space", "shuttle"} <= set(plain)
    # a new text is joined the same way; "space" alone is not a term
    column = vec.vocabulary.index("space_shuttle")
    counts = vec.count_transform(["a space shuttle and a shuttle"])
    assert counts[0, column] == 1 and counts.sum() == 1


def test_phrase_settings_choose_the_phrases() -> None:
    texts = rules_texts()
    found = set(vocabulary(texts, VectorizerConfig(phrases=True))[0].phrases.tokens)
    # space shuttle: 3 of the 5 space lines, in 3 of the 12 space documents each -> 22
    # times; olive oil: 3 of the 5 cooking lines -> fewer; a count above both keeps none
    few = vocabulary(texts, VectorizerConfig(phrases=True, phrase_min_count=1000))[0]
    assert len(few.phrases) == 0
    loose = vocabulary(texts, VectorizerConfig(phrases=True, phrase_min_count=2))[0]
    assert found < set(loose.phrases.tokens)
    strict = vocabulary(texts, VectorizerConfig(phrases=True, phrase_threshold=0.99))[0]
    assert set(strict.phrases.tokens) < found


def test_phrases_and_ngrams_never_span_a_removed_word() -> None:
    texts = ["bank of america", "bank of america", "bank 2010 america", "the bank america"]
    cfg = VectorizerConfig(min_df=1, max_df=1.0, ngram_range=(1, 2))
    _, vocab = vocabulary(texts, cfg)
    assert "bank america" in vocab  # only where they stand side by side (the last text)
    vec = Vectorizer(cfg)
    X = vec.fit_transform(texts)
    assert X[:, vec.vocabulary.index("bank america")].nnz == 1
    # scikit-learn forms n-grams after removal: every text has the pair
    sk = Vectorizer(SK(min_df=1, max_df=1.0, ngram_range=(1, 2)))
    assert sk.fit_transform(texts)[:, sk.vocabulary.index("bank america")].nnz == 3
    # and a phrase is never made across a stop word
    phrases = Vectorizer(VectorizerConfig(phrases=True, phrase_min_count=1, min_df=1,
                                          max_df=1.0))  # fmt: skip
    phrases.fit_transform(["bank america"] * 3 + ["bank of america"] + ["green rivers"] * 4)
    assert phrases.phrases.tokens == ["bank_america", "green_rivers"]
    counts = phrases.count_transform(["bank of america"])
    assert counts[0, phrases.vocabulary.index("bank_america")] == 0 and counts.sum() == 2


# -------------------------------------------------------------------------- stop words


def test_the_default_list_is_scikit_learns_with_additions() -> None:
    assert set(ENGLISH_STOP_WORDS) < set(DEFAULT_STOP_WORDS)
    assert {"don't", "we've", "'s", "just", "really"} <= set(DEFAULT_STOP_WORDS)
    assert stop_words_for("English") == DEFAULT_STOP_WORDS


def test_stop_word_lists_and_files_add_up(tmp_path: Path) -> None:
    extra = tmp_path / "extra.txt"
    extra.write_text("shuttle\norbit\n", encoding="utf-8")
    union = resolve_stop_words(f"english,{extra}")
    assert set(union) == set(DEFAULT_STOP_WORDS) | {"shuttle", "orbit"}
    assert resolve_stop_words(f"{extra},english") == union
    both = resolve_stop_words("english,french")
    assert set(both) == set(DEFAULT_STOP_WORDS) | set(stop_words_for("french"))
    assert resolve_stop_words("none") == ()
    # a file alone replaces the list, and says so
    with pytest.warns(TopicNMFWarning, match="replace"):
        assert resolve_stop_words(str(extra)) == ("orbit", "shuttle")
    # the union reaches the vocabulary
    _, vocab = vocabulary(rules_texts(), VectorizerConfig(stop_words=union))
    assert not {"shuttle", "orbit", "the"} & set(vocab) and "oven" in vocab


def test_an_unknown_list_names_the_lists(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as info:
        resolve_stop_words("english,klingon")
    assert info.value.param == "stop_words" and "french" in str(info.value)
    assert info.value.value == "klingon" and "french" in info.value.choices
    # something that looks like a path is a missing file
    with pytest.raises(ParameterError, match="not found"):
        resolve_stop_words(f"english,{tmp_path / 'words.txt'}")


@pytest.mark.parametrize("name", STOP_WORD_LISTS)
def test_every_bundled_list_loads(name: str) -> None:
    words = stop_words_for(name)
    assert len(words) > 100 and list(words) == sorted(set(words))
    assert all(w == w.strip() and w for w in words)


def test_languages_set_the_list_and_the_tokenizer() -> None:
    assert set(LANGUAGES) >= {"english", "french", "german", "chinese", "japanese", "korean"}
    french = VectorizerConfig.for_language("french")
    assert french.stop_words == stop_words_for("french") and french.tokenizer == "regex"
    chinese = VectorizerConfig.for_language("chinese")
    assert chinese.tokenizer == "char-bigram" and chinese.stop_words == ()
    with pytest.raises(ParameterError) as info:
        VectorizerConfig.for_language("klingon")
    assert info.value.param == "language" and "french" in info.value.choices


# --------------------------------------------------------------------------------- CJK


def test_char_bigrams_cut_chinese_into_pairs() -> None:
    cfg = VectorizerConfig(tokenizer="char-bigram", min_df=2, max_df=1.0)
    _, vocab = vocabulary(CHINESE, cfg)
    assert {"我们", "学习", "中文", "喜欢", "日文"} <= set(vocab)
    # the regex tokenizer reads a sentence as one word: nothing is in two documents
    with pytest.raises(VectorizerError):
        vocabulary(CHINESE, VectorizerConfig(min_df=2, max_df=1.0))
    # a lone character is a token; Latin words around CJK text follow the word rule
    _, vocab = vocabulary(["猫 cat 猫", "猫 cats 我们"], VectorizerConfig(
        tokenizer="char-bigram", min_df=1, max_df=1.0))  # fmt: skip
    assert {"猫", "cat", "cats", "我们"} == set(vocab)
    # Japanese kana and Korean Hangul too
    _, vocab = vocabulary(["日本語のテキスト", "한국어 텍스트"], VectorizerConfig(
        tokenizer="char-bigram", min_df=1, max_df=1.0))  # fmt: skip
    assert {"日本", "テキ", "한국", "텍스"} <= set(vocab)


@pytest.mark.skipif(importlib.util.find_spec("jieba") is None, reason="needs jieba")
def test_jieba_segments_chinese_into_words() -> None:
    _, vocab = vocabulary(CHINESE, VectorizerConfig(tokenizer="jieba", min_df=2, max_df=1.0))
    assert {"我们", "喜欢", "学习", "中文"} <= set(vocab)
    assert "们喜" not in vocab  # no pair across a word boundary


def test_a_missing_segmenter_is_a_vectorizer_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_jieba(name, *args, **kwargs):
        if name == "jieba":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jieba)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(VectorizerError, match="jieba") as info:
        Vectorizer(VectorizerConfig(tokenizer="jieba")).fit_transform(CHINESE)
    assert info.value.param == "tokenizer"


# ------------------------------------------------------------------- models keep their rules


def test_a_saved_vectorizer_keeps_what_its_rules_found() -> None:
    texts = rules_texts()
    vec = Vectorizer(VectorizerConfig(phrases=True, ngram_range=(1, 2)))
    X = vec.fit_transform(texts)
    again = Vectorizer.from_arrays(vec.to_arrays())
    assert again.config == vec.config
    assert again.boilerplate == vec.boilerplate and again.phrases.tokens == vec.phrases.tokens
    assert again.removed == vec.removed and again.boilerplate_documents == 12
    np.testing.assert_allclose(again.transform(texts).toarray(), X.toarray(), rtol=1e-6)


def test_a_file_from_before_the_rules_reads_with_scikit_learns_rules() -> None:
    from topicnmf.vectorize.arrays import RULE_ARRAYS

    texts = rules_texts()
    vec = Vectorizer(SK())
    X = vec.fit_transform(texts)
    old = {k: v for k, v in vec.to_arrays().items() if k not in RULE_ARRAYS}
    old["format_version"] = np.array(1, dtype=np.int64)
    again = Vectorizer.from_arrays(old)
    assert again.config == SK() and again.removed == {}
    np.testing.assert_allclose(again.transform(texts).toarray(), X.toarray(), rtol=1e-6)


# ----------------------------------------------------------------------- the command line


def _cli(*args):
    from topicnmf.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_fit_says_what_each_rule_removed_and_info_records_it(tmp_path: Path) -> None:
    corpus = rules_corpus(tmp_path)
    model = tmp_path / "m.npz"
    result = _cli("fit", corpus, "-k", 2, "-m", model, "--format", "csv", "--phrases")
    assert result.exit_code == 0, result.stderr
    summary = [line for line in result.stderr.splitlines() if line.startswith("Removed ")]
    assert len(summary) == 1, result.stderr
    vec = Vectorizer.from_arrays(
        {k[4:]: v for k, v in np.load(model).items() if k.startswith("vec_")}
    )
    removed = vec.removed
    line = summary[0]
    assert f"{removed['stop_words']:,} stop words" in line
    assert f"{removed['numbers']:,} numbers" in line
    assert f"{removed['boilerplate']:,} tokens of 2 boilerplate lines (in 12 documents)" in line
    assert f"joined {len(vec.phrases)} phrases" in line
    info = json.loads(_cli("info", model, "--format", "json").stdout)
    fitted = info["vectorizer_fit"]
    assert fitted["removed_tokens"] == removed
    assert fitted["boilerplate_lines"] == ["--", SIGNATURE]
    assert fitted["boilerplate_documents"] == 12
    assert "space_shuttle" in fitted["phrases"]
    rules = info["vectorizer"]
    assert (rules["keep_numbers"], rules["max_line_df"], rules["phrases"]) == (False, 0.005, True)
    assert (rules["tokenizer"], rules["token_pattern"], rules["adjacent_ngrams"]) == (
        "regex", None, True
    )  # fmt: skip
    table = _cli("info", model, "--format", "table").stdout
    assert "2 lines" in table and "space_shuttle" in table


def test_the_summary_counts_in_the_right_number(tmp_path: Path) -> None:
    from topicnmf.cli.fit import removal_summary
    from topicnmf.vectorize.phrases import Phrases

    class Fitted:
        removed = {"stop_words": 1, "numbers": 2, "short": 0, "boilerplate": 1, "min_df": 1}
        boilerplate = ["one line"]
        boilerplate_documents = 1
        phrases = Phrases(["space"], ["shuttle"])

    assert removal_summary(Fitted()) == (
        "Removed 1 stop word, 2 numbers, 1 token of 1 boilerplate line (in 1 document), "
        "1 occurrence of rare terms (--min-df); joined 1 phrase"
    )


def test_sklearn_compatible_fits_scikit_learns_vocabulary(tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = rules_corpus(tmp_path)
    model = tmp_path / "m.npz"
    result = _cli("fit", corpus, "-k", 2, "-m", model, "-q", "--sklearn-compatible")
    assert result.exit_code == 0, result.stderr
    info = json.loads(_cli("info", model, "--format", "json").stdout)
    texts = [p.read_text() for p in sorted(corpus.iterdir())]
    expected = TfidfVectorizer(min_df=2, max_df=0.95, stop_words="english").fit(texts)
    assert info["terms"] == len(expected.vocabulary_)
    assert info["vectorizer"]["stop_words"] == sorted(ENGLISH_STOP_WORDS)
    assert info["vectorizer_fit"]["boilerplate_lines"] == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--keep-boilerplate", "--max-line-df", "0.1"], "contradict"),
        (["--stop-words", "english,klingon"], "klingon"),
        (["--language", "klingon"], "klingon"),
        (["--tokenizer", "char-bigram", "--token-pattern", r"\w+"], "token-pattern"),
        (["--phrase-threshold", "2"], "phrase-threshold"),
        (["--phrase-min-count", "3"], "add --phrases"),
        (["--phrase-threshold", "0.3"], "add --phrases"),
    ],
)
def test_bad_rule_settings_are_usage_errors(tmp_path: Path, args: list[str], needle: str) -> None:
    result = _cli("fit", rules_corpus(tmp_path), "-k", 2, "-m", tmp_path / "m.npz", *args)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert needle in result.stderr and not (tmp_path / "m.npz").exists()


def test_a_stop_word_file_alone_warns_that_it_replaces_the_list(tmp_path: Path) -> None:
    words = tmp_path / "mine.txt"
    words.write_text("oven\n", encoding="utf-8")
    result = _cli("fit", rules_corpus(tmp_path), "-k", 2, "-m", tmp_path / "m.npz",
                  "--stop-words", words, "--format", "csv")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "english," in warnings[0], result.stderr
    union = _cli("fit", rules_corpus(tmp_path), "-k", 2, "-m", tmp_path / "m.npz",
                 "--stop-words", f"english,{words}", "--format", "csv")  # fmt: skip
    assert union.exit_code == 0 and "warning:" not in union.stderr


def test_a_model_file_from_before_the_rules_loads_and_assigns(tmp_path: Path) -> None:
    from topicnmf import Document, NMFConfig, fit
    from topicnmf.model import TopicModel
    from topicnmf.vectorize.arrays import RULE_ARRAYS

    texts = rules_texts()
    docs = [Document(str(i), t) for i, t in enumerate(texts)]
    new = tmp_path / "new.npz"
    fit(docs, SK(), NMFConfig(n_components=2)).model.save(new)
    # the members a model had before the token rules: no vec_ rule arrays, version 1
    with np.load(new) as stored:
        members = {k: stored[k] for k in stored.files if k[4:] not in RULE_ARRAYS}
    members["vec_format_version"] = np.array(1, dtype=np.int64)
    old = tmp_path / "old.npz"
    np.savez(old, **members)
    model = TopicModel.load(old)
    assert model.vectorizer.config == SK() and model.vectorizer.removed == {}
    result = _cli("assign", "-m", old, rules_corpus(tmp_path), "--format", "csv", "-q")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 + len(texts)
    info = json.loads(_cli("info", old, "--format", "json").stdout)
    assert info["vectorizer_fit"] == {
        "removed_tokens": {}, "boilerplate_documents": 0, "boilerplate_lines": [], "phrases": []
    }  # fmt: skip


def test_every_way_of_fitting_names_the_rule_that_left_no_term(tmp_path: Path) -> None:
    from topicnmf.backends.dask_backend import _count_part, global_vectorizer
    from topicnmf.stream import count_frequencies, vectorizer_from_table

    texts = ["jones@cs.example.edu", "(http://example.org/a.html) 2010"]
    config = VectorizerConfig(min_df=1)
    with pytest.raises(VectorizerError, match="e-mail and web addresses") as memory:
        Vectorizer(config).fit_transform(texts)
    with pytest.raises(VectorizerError, match="e-mail and web addresses") as stream:
        vectorizer_from_table(config, count_frequencies(config, texts))
    parts = [_count_part(texts[:1], config)["summary"], _count_part(texts[1:], config)["summary"]]
    with pytest.raises(VectorizerError, match="e-mail and web addresses") as dask:
        global_vectorizer(parts, config)
    # 10 tokens in addresses and a number: the addresses are what to keep first
    assert memory.value.param == stream.value.param == dask.value.param == "keep_addresses"
    folder = tmp_path / "addresses"
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"{i}.txt").write_text(text)
    for extra in ([], ["--stream"]):
        result = _cli("fit", folder, "-k", 1, "-m", tmp_path / "m.npz", "--min-df", 1, *extra)
        assert result.exit_code == 1 and "--keep-addresses" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_english_small_keeps_the_words_that_make_names_and_phrases() -> None:
    small = stop_words_for("english-small")
    assert set(small) < set(DEFAULT_STOP_WORDS)
    assert {"new", "second", "right", "know", "like", "thanks"} & set(small) == set()
    assert set(ENGLISH_STOP_WORDS) | set(ENGLISH_CONTRACTIONS) <= set(small)
    texts = ["new york subway map", "the new york subway map", "second amendment rights",
             "the second amendment rights"]  # fmt: skip
    _, default = vocabulary(texts, VectorizerConfig(min_df=2, ngram_range=(2, 2)))
    config = VectorizerConfig(
        min_df=2, ngram_range=(2, 2), stop_words=resolve_stop_words("english-small")
    )
    _, kept = vocabulary(texts, config)
    assert "subway map" in default and not {"new york", "second amendment"} & set(default)
    assert {"new york", "second amendment", "subway map"} <= set(kept)
    assert "english-small" not in LANGUAGES


def test_a_grown_update_of_a_model_with_boilerplate_lines_loads(tmp_path: Path) -> None:
    parent, grown = tmp_path / "parent.npz", tmp_path / "grown.npz"
    assert _cli("fit", rules_corpus(tmp_path), "-k", 2, "-m", parent, "-q").exit_code == 0
    new = tmp_path / "new"
    new.mkdir()
    for i, text in enumerate(rules_texts(8)):  # half of them with the signature
        (new / f"n{i}.txt").write_text(text.replace("orbit", "orbit telescopes"))
    result = _cli("update", "-m", parent, new, "-o", grown, "--vocabulary", "grow", "-q")
    assert result.exit_code == 0, result.stderr
    info = json.loads(_cli("info", grown, "--format", "json").stdout)
    lines = info["vectorizer_fit"]["boilerplate_lines"]
    assert len(lines) == 2 and info["vectorizer_fit"]["boilerplate_documents"] == 12 + 4
    assert "telescopes" in _cli("topics", grown, "--top", 50, "--format", "csv").stdout


def test_a_word_glued_to_an_address_keeps_its_part_outside() -> None:
    config = VectorizerConfig(min_df=1, max_df=1.0, stop_words=())
    texts = ["請訪問http://www.example.cn/page了解", "сайтhttp://x.org далее", "了解 сайт"]
    vec, vocab = vocabulary(texts, config)
    assert {"請訪問", "了解", "сайт", "далее"} <= set(vocab)
    assert not {"http", "www", "example", "cn", "page", "x", "org"} & set(vocab)
    assert not any("http" in term or "page" in term for term in vocab)
    # the words wholly inside (www example cn, x org); the cut-off "http" and "page" were
    # parts of words that are kept
    assert vec.removed["addresses"] == 5


def test_a_streamed_fit_counts_what_each_rule_removed(tmp_path: Path) -> None:
    corpus = rules_corpus(tmp_path)
    infos = {}
    for name, extra in (("memory", ["--keep-boilerplate"]), ("stream", ["--stream"])):
        model = tmp_path / f"{name}.npz"
        result = _cli("fit", corpus, "-k", 2, "-m", model, "-o", tmp_path / f"{name}.csv", *extra)
        assert result.exit_code == 0, result.stderr
        assert "Removed " in result.stderr and f"Wrote {model}" in result.stderr
        infos[name] = json.loads(_cli("info", model, "--format", "json").stdout)
    removed = {k: v["vectorizer_fit"]["removed_tokens"] for k, v in infos.items()}
    assert removed["stream"] == removed["memory"]
    assert removed["stream"]["addresses"] > 0 and removed["stream"]["stop_words"] > 0


def test_none_cannot_be_combined_with_a_list() -> None:
    with pytest.raises(ParameterError, match="cannot be combined"):
        resolve_stop_words("english,none")
    assert resolve_stop_words("none") == () and resolve_stop_words("NONE") == ()


def test_a_cut_word_leaves_no_apostrophe_or_piece() -> None:
    texts = ["write to o'brien@example.com about apples", "d'arcy.smith@example.com wrote",
             "l'http://example.fr/x ok", "xxdocumentationhttp://x.org word",
             "x" * 300 + "@example.com zz", "abc+svn://h.org/x yy"]  # fmt: skip
    vec, vocab = vocabulary(texts, VectorizerConfig(min_df=1, max_df=1.0, stop_words=()))
    # an apostrophe belongs to an e-mail local part; a word glued to http keeps its head;
    # another scheme takes its whole run; a long local part is one address
    assert vocab == ["about", "apples", "ok", "to", "word", "write", "wrote", "xxdocumentation",
                     "yy", "zz"]  # fmt: skip
    assert not any("'" in term for term in vocab)


def test_every_way_of_fitting_counts_the_same_removals() -> None:
    from topicnmf.backends.dask_backend import _count_part, global_vectorizer
    from topicnmf.stream import count_frequencies, vectorizer_from_table

    texts = rules_texts() + ["see jones@cs.example.edu in 2010", "x y z 42 shuttle zebra"]
    config = VectorizerConfig(max_line_df=None, min_df=2, max_df=0.4, max_features=8)
    memory = Vectorizer(config)
    memory.fit_transform(texts)
    stream = vectorizer_from_table(config, count_frequencies(config, texts))
    parts = [_count_part(texts[:9], config)["summary"], _count_part(texts[9:], config)["summary"]]
    dask = global_vectorizer(parts, config)
    assert stream.vocabulary == dask.vocabulary == memory.vocabulary
    assert stream.removed == dask.removed == memory.removed
    assert all(memory.removed[rule] > 0 for rule in
               ("addresses", "numbers", "short", "stop_words", "min_df", "max_df",
                "max_features"))  # fmt: skip


def test_every_way_of_fitting_explains_df_limits_that_leave_nothing_alike() -> None:
    from topicnmf.backends.dask_backend import _count_part, global_vectorizer
    from topicnmf.stream import count_frequencies, vectorizer_from_table

    texts = rules_texts()
    for config in (VectorizerConfig(min_df=100), VectorizerConfig(min_df=1, max_df=0.01)):
        errors = []
        for fit_one in (
            lambda c: Vectorizer(c).fit_transform(texts),
            lambda c: vectorizer_from_table(c, count_frequencies(c, texts)),
            lambda c: global_vectorizer([_count_part(texts, c)["summary"]], c),
        ):
            with pytest.raises(VectorizerError) as info:
                fit_one(config)
            errors.append((str(info.value), info.value.param))
        assert errors[0] == errors[1] == errors[2], errors
        assert errors[0][1] in ("min_df", "max_df") and "no term" in errors[0][0]
