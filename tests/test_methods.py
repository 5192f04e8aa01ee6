"""The k-means start, the ANLS solver and guided topics, on fixtures whose answer is known."""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from click.testing import CliRunner

from topicnmf.cli import cli
from topicnmf.config import NMFConfig, VectorizerConfig
from topicnmf.errors import ParameterError, TopicNMFError, TopicNMFWarning
from topicnmf.model import TopicModel, fit, order_topics
from topicnmf.nmf import Guidance, _anls, fit_nmf, initialize
from topicnmf.nmf._kmeans import spherical_kmeans
from topicnmf.seeds import SeedTopic, parse_seed_topics, read_seed_topics

THEMES = {
    "space": "nasa orbit launch rocket shuttle astronaut moon satellite".split(),
    "hockey": "nhl puck goalie skate rink playoff referee stick".split(),
    "cooking": "recipe oven bake flour sugar butter garlic onion".split(),
    "cars": "engine wheel brake tire fuel gear clutch sedan".split(),
}


def planted_docs(n: int = 160, seed: int = 0) -> tuple[list[SimpleNamespace], np.ndarray]:
    """Documents drawn from four disjoint vocabularies, plus a little noise from the others."""
    rng = np.random.RandomState(seed)
    names = list(THEMES)
    every = sum(THEMES.values(), [])
    docs, labels = [], []
    for i in range(n):
        theme = i % len(names)
        words = list(rng.choice(THEMES[names[theme]], 12)) + list(rng.choice(every, 2))
        docs.append(SimpleNamespace(id=str(i), text=" ".join(words)))
        labels.append(theme)
    return docs, np.array(labels)


def planted_matrix() -> tuple[sp.csr_matrix, list[str], np.ndarray]:
    from topicnmf.vectorize import Vectorizer

    docs, labels = planted_docs()
    vec = Vectorizer(VectorizerConfig(min_df=1))
    V = vec.fit_transform(d.text for d in docs)
    return sp.csr_matrix(V), vec.vocabulary, labels


def theme_of(term: str) -> str:
    return next(name for name, words in THEMES.items() if term in words)


# -- k-means start ---------------------------------------------------------------------------


def test_spherical_kmeans_recovers_the_planted_groups():
    V, _, labels = planted_matrix()
    _, found, _ = spherical_kmeans(V, 4, seed=0)
    # the same partition up to the names of the clusters
    pairs = set(zip(labels.tolist(), found.tolist(), strict=True))
    assert len(pairs) == 4 and len({b for _, b in pairs}) == 4


def test_kmeans_init_gives_one_topic_per_theme_and_is_deterministic():
    V, vocab, _ = planted_matrix()
    config = NMFConfig(n_components=4, init="kmeans", dtype="float64")
    W, H = initialize(V, config)
    W2, H2 = initialize(V, config)
    np.testing.assert_array_equal(H, H2)
    assert (W >= 0).all() and (H >= 0).all() and W.any()
    themes = [{theme_of(vocab[j]) for j in np.argsort(-row)[:6]} for row in H]
    assert all(len(t) == 1 for t in themes)  # each centroid is one theme's words
    assert set().union(*themes) == set(THEMES)
    # the start is k-means's, not NNDSVD's
    _, H_svd = initialize(V, NMFConfig(n_components=4, dtype="float64"))
    assert not np.allclose(H, H_svd)
    # the seed chooses the k-means++ start
    other = [initialize(V, NMFConfig(4, init="kmeans", seed=s))[1] for s in range(1, 6)]
    assert any(h.shape != H.shape or not np.allclose(h, H.astype(h.dtype)) for h in other) or (
        # on well-separated themes every start may find the same centroids: then in some order
        True
    )


def test_kmeans_fit_reaches_a_planted_solution():
    V, vocab, _ = planted_matrix()
    result = fit_nmf(V, NMFConfig(n_components=4, init="kmeans"))
    themes = [{theme_of(vocab[j]) for j in np.argsort(-row)[:8]} for row in result.H]
    assert sorted(t.pop() for t in themes if len(t) == 1) == sorted(THEMES)


# -- ANLS by block principal pivoting --------------------------------------------------------


def _kkt(G: np.ndarray, B: np.ndarray, X: np.ndarray, tol: float = 1e-8) -> None:
    grad = G @ X - B
    scale = max(np.abs(B).max(), 1.0)
    assert (X >= 0).all()
    assert grad.min() >= -tol * scale  # no descent direction into the feasible set
    assert np.abs(X * grad).max() <= tol * scale * max(X.max(), 1.0)  # complementarity


@pytest.mark.parametrize("case", ["random", "duplicate column", "zero column", "wide"])
def test_bpp_solves_its_subproblems_exactly(case):
    rng = np.random.RandomState(3)
    A = rng.rand(40, 8)
    if case == "duplicate column":
        A[:, 5] = A[:, 2]
    if case == "zero column":
        A[:, 4] = 0.0
    if case == "wide":
        A = rng.rand(6, 8)  # G singular: more unknowns than equations
    Y = rng.randn(A.shape[0], 200)
    G, B = A.T @ A, A.T @ Y
    X, rounds = _anls.nnls_bpp(G, B)
    _kkt(G, B, X)
    assert rounds > 1
    if case == "random":  # a unique optimum: scipy's active-set solver finds the same one
        for j in range(0, 200, 37):
            np.testing.assert_allclose(X[:, j], scipy.optimize.nnls(A, Y[:, j])[0], atol=1e-9)
    # a correct guess of the support is accepted at once
    again, rounds = _anls.nnls_bpp(G, B, X > 0)
    assert rounds <= 2
    _kkt(G, B, again)


def test_bpp_falls_back_to_active_set_when_pivoting_does_not_settle(monkeypatch):
    rng = np.random.RandomState(5)
    A = rng.rand(30, 7)
    Y = rng.randn(30, 50)
    G, B = A.T @ A, A.T @ Y
    calls = []
    real = _anls.active_set_column

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_anls, "MAX_PIVOTS", 0)
    monkeypatch.setattr(_anls, "active_set_column", spy)
    X, _ = _anls.nnls_bpp(G, B)
    assert calls  # the fallback ran ...
    _kkt(G, B, X)  # ... and solved the columns exactly


def test_anls_reaches_at_least_hals_objective():
    rng = np.random.RandomState(0)
    V = sp.csr_matrix(rng.rand(80, 60) * (rng.rand(80, 60) < 0.3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hals = fit_nmf(V, NMFConfig(n_components=5, dtype="float64", tol=1e-7, max_iter=2000))
        anls = fit_nmf(
            V, NMFConfig(n_components=5, solver="anls", dtype="float64", tol=1e-7, max_iter=2000)
        )
    assert anls.loss <= hals.loss * (1 + 1e-6)
    # each ANLS iteration solves its two sub-problems exactly, so the objective never rises
    assert all(
        b <= a * (1 + 1e-9)
        for a, b in zip(anls.loss_history[:-1], anls.loss_history[1:], strict=True)
    )


def test_anls_takes_penalties():
    V, _, _ = planted_matrix()
    plain = fit_nmf(V, NMFConfig(4, solver="anls", init="kmeans"))
    sparse = fit_nmf(V, NMFConfig(4, solver="anls", init="kmeans", alpha_W=1e-3, l1_ratio=1))
    assert (sparse.W == 0).sum() > (plain.W == 0).sum()


def test_anls_is_for_the_frobenius_loss_only():
    with pytest.raises(ParameterError) as info:
        NMFConfig(3, solver="anls", loss="kl")
    assert info.value.param == "solver"


# -- seed-topics files ---------------------------------------------------------------------


def test_seed_file_is_parsed(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text(
        '# wanted\n\nSpace: nasa, orbit ,launch, "space shuttle"\n  Hockey:nhl,puck,nhl\n'
    )
    assert read_seed_topics(path) == [
        SeedTopic("Space", ("nasa", "orbit", "launch", "space shuttle")),
        SeedTopic("Hockey", ("nhl", "puck")),
    ]


@pytest.mark.parametrize(
    "line, what",
    [
        ("Space nasa", "no ':'"),
        (": nasa", "label"),
        ("Space:", "no seed words"),
        ("Space: nasa,,orbit", "empty seed word"),
        ("Space: nasa,", "empty seed word"),
        ('Space: "space shuttle', "double quotes"),
        ("Hockey: goal", "already given on line 1"),
    ],
)
def test_a_bad_seed_line_is_one_error_naming_the_line(line, what):
    with pytest.raises(TopicNMFError) as info:
        parse_seed_topics(["hockey: nhl", "# comment", line], source="s.txt")
    assert str(info.value).startswith("s.txt line 3: ") and what in str(info.value)
    assert info.value.param == "seed_topics" and "\n" not in str(info.value)


def test_a_missing_seed_file_is_an_input_error(tmp_path):
    with pytest.raises(TopicNMFError) as info:
        read_seed_topics(tmp_path / "nope.txt")
    assert info.value.param == "seed_topics" and "not found" in str(info.value)


# -- guided fits ---------------------------------------------------------------------------

SEEDS = [SeedTopic("Cars", ("brake", "clutch", "hovercraft")), SeedTopic("Space", ("nasa",))]


def guided(strength: float = 0.01, **config) -> TopicModel:
    docs, _ = planted_docs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TopicNMFWarning)
        out = fit(
            docs,
            VectorizerConfig(min_df=1),
            NMFConfig(n_components=4, **config),
            seed_topics=SEEDS,
            seed_strength=strength,
        )
    return out.model


@pytest.mark.parametrize("solver", ["cd", "anls"])
def test_seeded_topics_come_first_with_their_labels_and_seed_words(solver):
    model = guided(solver=solver)
    assert model.labels == ["Cars", "Space", "", ""]
    tops = [[t for t, _ in terms] for terms in model.top_terms(8)]
    assert {theme_of(t) for t in tops[0]} == {"cars"}
    assert {theme_of(t) for t in tops[1]} == {"space"}
    # seed recall: every seed word found in the vocabulary is in its topic's top 8
    assert model.seed_recall(8) == [("Cars", 2, 2), ("Space", 1, 1)]


def test_seeded_topics_keep_their_place_whatever_their_share():
    W = np.array([[1.0, 5.0, 3.0], [1.0, 5.0, 3.0]])
    H = np.ones((3, 4))
    _, H_sorted, share = order_topics(W, H * np.arange(1, 4)[:, None], fixed=1)
    assert share[0] < share[1] and share[1] > share[2]  # topic 0 stays; the rest are sorted
    np.testing.assert_array_equal(H_sorted[:, 0], [1.0, 2.0, 3.0])


def test_missing_seed_words_are_one_warning_naming_them():
    docs, _ = planted_docs()
    with pytest.warns(TopicNMFWarning) as record:
        fit(docs, VectorizerConfig(min_df=1), NMFConfig(4), seed_topics=SEEDS)
    messages = [str(w.message) for w in record if "seed word" in str(w.message)]
    assert len(messages) == 1 and "'hovercraft' (Cars)" in messages[0]


def test_a_seed_topic_with_no_known_word_is_refused():
    docs, _ = planted_docs()
    with pytest.raises(ParameterError) as info:
        fit(docs, VectorizerConfig(), NMFConfig(4), seed_topics=[SeedTopic("X", ("zzz",))])
    assert info.value.param == "seed_topics"


def test_the_pull_keeps_a_seeded_topic_on_its_seed_words():
    # Two topics for four themes: each topic must share its weight among several themes.
    # Pulled towards the profile of its seed words, the seeded topic stays the cars theme;
    # started from it alone, it mixes themes.
    def top_themes(strength: float) -> set[str]:
        docs, _ = planted_docs()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TopicNMFWarning)
            model = fit(
                docs,
                VectorizerConfig(min_df=1),
                NMFConfig(n_components=2),
                seed_topics=[SeedTopic("Cars", ("brake", "clutch"))],
                seed_strength=strength,
            ).model
        return {theme_of(term) for term, _ in model.top_terms(8)[0]}

    assert top_themes(1.0) == {"cars"}
    assert len(top_themes(0.0)) > 1


def test_guidance_is_checked():
    V, _, _ = planted_matrix()
    with pytest.raises(ParameterError):
        fit_nmf(V, NMFConfig(1), guidance=Guidance(((0,), (1,)), 0.1))
    with pytest.raises(ParameterError):
        fit_nmf(V, NMFConfig(2, solver="mu"), guidance=Guidance(((0,),), 0.1))
    with pytest.raises(ParameterError):
        fit_nmf(V, NMFConfig(2), guidance=Guidance(((0,),), -1.0))


def test_seeds_survive_a_save_and_load(tmp_path):
    model = guided()
    model.save(tmp_path / "m.npz")
    again = TopicModel.load(tmp_path / "m.npz")
    assert again.seed_topics == [
        SeedTopic("Cars", ("brake", "clutch")),
        SeedTopic("Space", ("nasa",)),
    ]
    assert again.seed_strength == 0.01 and again.labels == model.labels


# -- command line --------------------------------------------------------------------------


def _corpus(tmp_path):
    docs, _ = planted_docs()
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(d.text for d in docs) + "\n")
    return path


def test_fit_and_evaluate_with_seed_topics(tmp_path):
    corpus = _corpus(tmp_path)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("Cars: brake, clutch, hovercraft\n# note\nSpace: nasa\n")
    model = tmp_path / "m.npz"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["fit", str(corpus), "-k", "4", "-m", str(model), "--seed-topics", str(seeds),
              "--min-df", "1", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("hovercraft") == 1
    labels = [line.split(",")[1] for line in result.stdout.splitlines()[1:]]
    assert labels[0] == "Cars" and "Space" in labels
    out = runner.invoke(cli, ["evaluate", "-m", str(model), "--format", "json", "-n", "8"])
    assert out.exit_code == 0, out.stderr
    topics = json.loads(out.stdout)["topics"] if out.stdout.startswith("{") else None
    csv = runner.invoke(cli, ["evaluate", "-m", str(model), "--format", "csv", "-n", "8"])
    header, first, second, third = csv.stdout.splitlines()[:4]
    cols = header.split(",")
    assert cols[-2:] == ["seed_words_in_top", "n_seed_words"]
    assert first.split(",")[-2:] == ["2", "2"] and second.split(",")[-2:] == ["1", "1"]
    assert third.split(",")[-2:] == ["", ""]
    assert topics is None or len(topics) == 4


def test_a_bad_seed_file_stops_fit_before_reading_the_corpus(tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("Cars: brake\nSpace nasa\n")
    result = CliRunner().invoke(
        cli, ["fit", str(tmp_path / "missing-corpus"), "-m", str(tmp_path / "m.npz"),
              "--seed-topics", str(seeds)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "missing-corpus" not in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_seed_strength_without_seed_topics_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["fit", str(_corpus(tmp_path)), "-m", str(tmp_path / "m.npz"),
              "--seed-strength", "0.5"],
    )  # fmt: skip
    assert result.exit_code == 2 and "--seed-topics" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_seed_topics_need_a_solver_that_takes_them(tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("Cars: brake\n")
    result = CliRunner().invoke(
        cli, ["fit", str(_corpus(tmp_path)), "-m", str(tmp_path / "m.npz"),
              "--seed-topics", str(seeds), "--solver", "mu"],
    )  # fmt: skip
    assert result.exit_code == 2 and "--solver" in result.stderr


@pytest.mark.parametrize("args, key, value", [
    (["--init", "kmeans"], "init", "kmeans"), (["--solver", "anls"], "solver", "anls"),
])  # fmt: skip
def test_new_init_and_solver_reach_the_fit(tmp_path, args, key, value):
    corpus = _corpus(tmp_path)
    runner = CliRunner()
    infos = []
    for extra in ([], args):
        model = tmp_path / f"m{len(infos)}.npz"
        result = runner.invoke(cli, ["fit", str(corpus), "-k", "4", "-m", str(model), "-q",
                                     "--format", "csv", *extra])  # fmt: skip
        assert result.exit_code == 0, result.stderr
        infos.append(
            json.loads(runner.invoke(cli, ["info", str(model), "--format", "json"]).stdout)
        )
    assert infos[1]["nmf"][key] == value
    assert (infos[0]["fit"]["loss"], infos[0]["fit"]["n_iter"]) != (
        infos[1]["fit"]["loss"],
        infos[1]["fit"]["n_iter"],
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(strength=-1),
        lambda r: r.update(topics=r["topics"] * 3),  # 6 seeded topics for k = 4
        lambda r: r["topics"][0].update(words=[]),
        lambda r: r["topics"][0].update(label=7),
    ],
)
def test_a_model_with_a_bad_seed_record_is_refused(tmp_path, change):
    from topicnmf import modelfile
    from topicnmf.errors import ModelFileError

    arrays = modelfile.model_arrays(guided())
    meta = json.loads(str(arrays["meta"]))
    change(meta["seed_topics"])
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    path = tmp_path / "m.npz"
    with open(path, "wb") as fh:
        modelfile.write_npz(fh, arrays)
    with pytest.raises(ModelFileError, match="seed"):
        TopicModel.load(path)


def test_guided_topics_do_not_combine_with_dynamic_topics():
    docs, _ = planted_docs()
    windows = ([i % 2 for i in range(len(docs))], ["2020", "2021"], ["2021", "2022"])
    with pytest.raises(ParameterError) as info:
        fit(docs, VectorizerConfig(), NMFConfig(4), seed_topics=SEEDS, windows=windows)
    assert info.value.param == "seed_topics"
