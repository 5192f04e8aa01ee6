"""Streamed fits (two or more passes, bounded memory) and model updates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from topicnmf.cli import cli
from topicnmf.config import NMFConfig, VectorizerConfig
from topicnmf.corpus import Document
from topicnmf.errors import CorpusError, ParameterError
from topicnmf.model import TopicModel, fit
from topicnmf.quality import compare_topics
from topicnmf.stream import (
    FrequencyTable,
    count_frequencies,
    fit_stream,
    update,
    vectorizer_from_table,
)
from topicnmf.vectorize import Vectorizer


def planted(n: int, k: int = 4, seed: int = 0, words: int = 60) -> tuple[list[Document], list]:
    """Documents from k planted topics over disjoint word sets plus shared noise words."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{t}x{i:02d}" for t in range(k) for i in range(words)]
    noise = [f"common{i}" for i in range(20)]
    docs, labels = [], []
    for d in range(n):
        t = int(rng.integers(k))
        zipf = 1.0 / np.arange(1, words + 1)
        own = rng.choice(words, size=int(rng.integers(20, 60)), p=zipf / zipf.sum())
        tokens = [vocab[t * words + i] for i in own] + list(rng.choice(noise, size=8))
        rng.shuffle(tokens)
        docs.append(Document(f"d{d}", " ".join(tokens)))
        labels.append(t)
    return docs, labels


def compare_models(a: TopicModel, b: TopicModel):
    return compare_topics(a.H, a.vocabulary, b.H, b.vocabulary)


def nmi(a, b) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return normalized_mutual_info_score(a, b)


VEC = VectorizerConfig(max_line_df=None, min_df=2, max_df=0.9)


def test_streamed_fit_agrees_with_the_in_memory_fit():
    docs, labels = planted(800)
    config = NMFConfig(n_components=4)
    streamed = fit_stream(docs, VEC, config, batch_size=100, passes=3).model
    memory = fit(docs, VEC, config).model
    assert streamed.vocabulary == memory.vocabulary
    np.testing.assert_allclose(streamed.vectorizer.idf, memory.vectorizer.idf)
    texts = [d.text for d in docs]
    a = streamed.transform(texts).argmax(axis=1)
    b = memory.transform(texts).argmax(axis=1)
    assert nmi(labels, a) > 0.95 and abs(nmi(labels, a) - nmi(labels, b)) < 0.02
    matched = compare_models(memory, streamed)
    assert min(p.similarity for p in matched.pairs) > 0.95
    assert streamed.stats is not None and streamed.stats.n_documents == 800
    assert streamed.topic_gram is not None and streamed.topic_gram.shape == (4, 4)


def test_passes_and_batch_size_change_the_fit():
    docs, _ = planted(300)
    config = NMFConfig(n_components=4)
    one = fit_stream(docs, VEC, config, batch_size=60, passes=1).model
    two = fit_stream(docs, VEC, config, batch_size=60, passes=2).model
    other = fit_stream(docs, VEC, config, batch_size=90, passes=1).model
    assert not np.array_equal(one.H, two.H) and not np.array_equal(one.H, other.H)
    assert one.stats.n_iter == 1 and two.stats.n_iter == 2


def test_the_frequency_table_equals_the_vectorizer_when_within_budget():
    docs, _ = planted(200)
    texts = [d.text for d in docs]
    for cfg in (
        VEC,
        VectorizerConfig(max_line_df=None, max_features=50),
        VectorizerConfig(max_line_df=None, min_df=0.05),
    ):
        table = count_frequencies(cfg, texts)
        assert table.pruned_floor == 0
        streamed = vectorizer_from_table(cfg, table)
        memory = Vectorizer(cfg)
        memory.fit_transform(texts)
        assert streamed.vocabulary == memory.vocabulary
        np.testing.assert_array_equal(streamed.document_frequency, memory.document_frequency)


def test_the_frequency_table_stays_within_its_budget():
    # 2000 distinct one-off terms and ten common ones; room for 1000 terms
    texts = [f"rare{i} common{i % 10} common{(i + 1) % 10}" for i in range(2000)]
    table = count_frequencies(VectorizerConfig(max_line_df=None), texts, max_bytes=1000 * 120)
    assert len(table) <= 1000 and table.pruned_floor >= 1
    terms, df, _ = table.arrays()
    counts = dict(zip(terms, df.tolist(), strict=True))
    # common terms are counted exactly; a pruned term's count is low by at most the floor
    assert all(counts[f"common{j}"] == 400 for j in range(10))
    unbounded = count_frequencies(VectorizerConfig(max_line_df=None), texts)
    assert len(unbounded) == 2010 and unbounded.pruned_floor == 0


def test_a_one_shot_iterator_is_refused():
    docs, _ = planted(50)
    with pytest.raises(ParameterError) as err:
        fit_stream(iter(docs), VEC, NMFConfig(n_components=2))
    assert err.value.param == "documents"


class Shrinking:
    """A corpus that loses documents after its first passes."""

    def __init__(self, docs):
        self.docs, self.passes = docs, 0

    def __iter__(self):
        self.passes += 1
        return iter(self.docs if self.passes <= 2 else self.docs[:-10])


def test_a_corpus_that_changes_between_passes_is_an_error():
    docs, _ = planted(200)
    with pytest.raises(CorpusError, match="changed between passes"):
        fit_stream(Shrinking(docs), VEC, NMFConfig(n_components=2), batch_size=50, passes=2)


def test_kl_loss_is_refused():
    docs, _ = planted(50)
    with pytest.raises(ParameterError) as err:
        fit_stream(docs, VEC, NMFConfig(n_components=2, loss="kl", solver="mu"), passes=1)
    assert err.value.param == "loss"


@pytest.mark.filterwarnings(
    "ignore:the updated model does not keep:topicnmf.errors.TopicNMFWarning"
)
def test_update_then_compare(tmp_path):
    docs, labels = planted(600)
    config = NMFConfig(n_components=4)
    parent = fit(docs[:400], VEC, config).model
    parent.save(tmp_path / "old.npz")
    parent = TopicModel.load(tmp_path / "old.npz")
    out = update(parent, docs[400:], batch_size=100)
    out.model.save(tmp_path / "new.npz")
    child = TopicModel.load(tmp_path / "new.npz")
    assert child.lineage == {
        "parent": parent.fingerprint,
        "documents_added": 200,
        "vocabulary": "fixed",
        "terms_added": 0,
        "training_documents": 600,
    }
    assert child.vocabulary == parent.vocabulary
    assert child.fingerprint != parent.fingerprint
    drift = compare_models(parent, child)
    assert min(p.similarity for p in drift.pairs) > 0.9  # the same topics, moved a little
    assert not np.array_equal(child.H, parent.H)
    W = child.transform([d.text for d in docs])
    assert nmi(labels, W.argmax(axis=1)) > 0.9
    result = CliRunner().invoke(
        cli, ["compare", str(tmp_path / "old.npz"), str(tmp_path / "new.npz"), "--format", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) >= 5


@pytest.mark.filterwarnings(
    "ignore:the updated model does not keep:topicnmf.errors.TopicNMFWarning"
)
def test_update_can_grow_the_vocabulary():
    docs, _ = planted(400)
    parent = fit(docs, VEC, NMFConfig(n_components=4)).model
    new = [Document(f"n{i}", "violin cello viola " + docs[i].text) for i in range(50)]
    fixed = update(parent, new).model
    grown = update(parent, new, vocabulary="grow")
    assert "violin" not in fixed.vocabulary
    assert grown.terms_added == 3 and "violin" in grown.model.vocabulary
    vec = grown.model.vectorizer
    assert vec.n_documents == 450
    j = vec.vocabulary.index("violin")
    assert vec.document_frequency[j] == 50
    assert grown.model.H[:, j].max() > 0  # joined with zero weight, then learned
    assert grown.model.lineage["terms_added"] == 3


def test_update_rejects_an_unknown_vocabulary_mode():
    docs, _ = planted(100)
    parent = fit(docs, VEC, NMFConfig(n_components=2)).model
    with pytest.raises(ParameterError) as err:
        update(parent, docs, vocabulary="shrink")
    assert err.value.param == "vocabulary" and tuple(err.value.choices) == ("fixed", "grow")


def test_frequency_table_budget_is_checked():
    with pytest.raises(ParameterError):
        FrequencyTable(0)


def test_fit_stream_refuses_options_that_need_w(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(d.text for d in planted(100)[0]) + "\n")
    result = CliRunner().invoke(
        cli, ["fit", str(corpus), "-k", "2", "--stream", "--save-doc-topics", "-m",
              str(tmp_path / "m.npz")],
    )  # fmt: skip
    assert result.exit_code == 2 and "--stream" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_fit_stream_reads_standard_input_twice(tmp_path):
    text = "\n".join(d.text for d in planted(300)[0]) + "\n"
    result = CliRunner().invoke(
        cli, ["fit", "-", "-k", "3", "--stream", "-m", str(tmp_path / "m.npz"), "--format",
              "csv", "--min-df", "2"], input=text,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert TopicModel.load(tmp_path / "m.npz").stats.n_documents == 300


def test_the_model_file_checks_gram_and_lineage(tmp_path):
    import json

    from topicnmf.errors import ModelFileError
    from topicnmf.modelfile import model_arrays, write_npz

    docs, _ = planted(100)
    model = fit(docs, VEC, NMFConfig(n_components=2)).model
    arrays = model_arrays(model)
    bad_gram = dict(arrays, topic_gram=np.array([[1.0, 2.0], [0.0, 1.0]]))
    meta = json.loads(str(arrays["meta"]))
    meta["lineage"] = {"parent": "x", "documents_added": -1, "vocabulary": "fixed",
                       "terms_added": 0, "training_documents": 1}  # fmt: skip
    bad_lineage = dict(arrays, meta=np.array(json.dumps(meta)))
    for name, bad in (("gram", bad_gram), ("lineage", bad_lineage)):
        path = tmp_path / f"{name}.npz"
        with open(path, "wb") as fh:
            write_npz(fh, bad)
        with pytest.raises(ModelFileError, match="topic_gram|lineage"):
            TopicModel.load(path)


def test_progress_names_the_pass_and_the_rate():
    from topicnmf.cli.update import progress_hook

    seen: list[str] = []
    hook = progress_hook(lambda description: seen.append(description), 5)
    hook(1, 4, 1000, 250.0)
    hook(3, 4, 2000, 1234.0)
    assert seen == [
        "Pass 1/4 (counting terms): 1,000 documents, 250 documents/s",
        "Pass 3/4 (5 topics): 2,000 documents, 1,234 documents/s",
    ]


def test_fit_stream_summary_gives_the_rate(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(d.text for d in planted(200)[0]) + "\n")
    result = CliRunner().invoke(
        cli, ["fit", str(corpus), "-k", "3", "--stream", "--passes", "2", "-m",
              str(tmp_path / "m.npz"), "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Streamed 200 documents in 3 passes" in result.stderr
    assert "documents/s" in result.stderr


def test_rules_that_need_every_text_are_refused_or_off_when_streaming(tmp_path):
    """Boilerplate lines and phrases need the whole corpus: --stream refuses them when asked
    for and records the default boilerplate rule as off, never as applied."""
    texts = [f"apple banana cherry line {i % 7}" for i in range(60)]
    with pytest.raises(ParameterError) as err:
        fit_stream([], VectorizerConfig(), NMFConfig(n_components=2))
    assert err.value.param == "max_line_df"
    with pytest.raises(ParameterError) as err:
        fit_stream([], VectorizerConfig(max_line_df=None, phrases=True), NMFConfig(n_components=2))
    assert err.value.param == "phrases"
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(texts) + "\n")
    for extra in (["--phrases"], ["--max-line-df", "0.1"]):
        args = ["fit", str(corpus), "-k", "2", "--stream", "-m", str(tmp_path / "m.npz"), *extra]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and extra[0] in result.output
        assert not (tmp_path / "m.npz").exists()


def test_update_keeps_topic_ids_labels_and_counts_shares_over_all_documents():
    """An update must not renumber or rename its parent's topics, and its shares are of all
    documents seen; what only described the parent's training documents is dropped with a
    warning."""
    from topicnmf.errors import TopicNMFWarning

    docs, _ = planted(400)
    parent = fit(docs, VEC, NMFConfig(n_components=4), save_doc_topics=True).model
    parent.labels = ["a", "", "c", ""]
    # new documents all about the parent's last topic: by themselves they would put it first
    last = parent.H[3].argsort()[::-1][:5]
    words = " ".join(parent.vocabulary[j] for j in last)
    new = [Document(f"n{i}", words) for i in range(40)]
    with pytest.warns(TopicNMFWarning, match="stored training weights"):
        child = update(parent, new).model
    assert child.labels == ["a", "", "c", ""]
    sims = [float(np.dot(parent.H[t], child.H[t]) / np.linalg.norm(parent.H[t])
                  / np.linalg.norm(child.H[t])) for t in range(4)]  # fmt: skip
    assert min(sims) > 0.8  # the same topic under the same id
    expected = (400 * parent.topic_share[3] + 40 * 1.0) / 440
    assert child.topic_share[3] == pytest.approx(expected, abs=0.05)
    assert child.topic_share[3] < 0.5  # the parent's documents still count


@pytest.mark.filterwarnings(
    "ignore:the updated model does not keep:topicnmf.errors.TopicNMFWarning"
)
def test_grow_keeps_the_parents_phrases():
    texts = [f"space shuttle launch orbit crew {w}" for w in ("alpha", "beta", "gamma") * 20]
    texts += [f"bread flour oven yeast dough {w}" for w in ("one", "two", "three") * 20]
    docs = [Document(str(i), t) for i, t in enumerate(texts)]
    vec = VectorizerConfig(max_line_df=None, phrases=True, phrase_min_count=5)
    parent = fit(docs, vec, NMFConfig(n_components=2)).model
    assert len(parent.vectorizer.phrases)
    grown = update(parent, docs[:30], vocabulary="grow")
    assert len(grown.model.vectorizer.phrases) == len(parent.vectorizer.phrases)
    assert grown.terms_added == 0  # the parts of known phrases are not new terms


@pytest.mark.filterwarnings(
    "ignore:the updated model does not keep:topicnmf.errors.TopicNMFWarning"
)
def test_info_shows_the_lineage_of_an_updated_model(tmp_path):
    docs, _ = planted(200)
    parent = fit(docs, VEC, NMFConfig(n_components=2)).model
    parent.save(tmp_path / "p.npz")
    update(parent, docs[:20]).model.save(tmp_path / "c.npz")
    runner = CliRunner()
    child = runner.invoke(cli, ["info", str(tmp_path / "c.npz"), "--format", "json"])
    lineage = json.loads(child.stdout)["lineage"]
    assert lineage["parent"] == parent.fingerprint and lineage["documents_added"] == 20
    table = runner.invoke(cli, ["info", str(tmp_path / "c.npz"), "--format", "table"]).stdout
    assert "lineage.parent" in table
    plain = runner.invoke(cli, ["info", str(tmp_path / "p.npz"), "--format", "json"]).stdout
    assert json.loads(plain)["lineage"] is None


def test_seed_topics_and_windows_are_a_usage_error(tmp_path):
    seeds = tmp_path / "s.txt"
    seeds.write_text("A: apple\n")
    data = tmp_path / "d.csv"
    data.write_text("id,text,date\n" + "".join(f"{i},apple pear {i},2021-0{i % 9 + 1}-01\n"
                                               for i in range(30)))  # fmt: skip
    args = ["fit", str(data), "-k", "2", "-m", str(tmp_path / "m.npz"), "--seed-topics",
            str(seeds), "--time-column", "date", "--windows", "2"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "--windows" in result.stderr


def test_online_passes_shuffle_within_a_bounded_window():
    """A corpus sorted by source must not reach the online fit one source at a time: each
    window of SHUFFLE_BATCHES batches is shuffled (seeded), nothing is lost or repeated."""
    from topicnmf.stream import SHUFFLE_BATCHES, _Pass

    docs = [Document(str(i), f"text {i}") for i in range(10 * SHUFFLE_BATCHES + 3)]
    plain = [d.id for _, b in _Pass(docs, 10).batches() for d in b]
    assert plain == [d.id for d in docs]
    runs = [
        [d.id for _, b in _Pass(docs, 10).batches(shuffle_seed=s) for d in b] for s in (0, 0, 1)
    ]
    assert runs[0] == runs[1] != runs[2] and sorted(runs[0]) == sorted(plain)
    assert runs[0] != plain
    window = 10 * SHUFFLE_BATCHES  # no document leaves its window
    assert set(runs[0][:window]) == set(plain[:window])
