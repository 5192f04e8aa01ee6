"""Tests for topicnmf.quality: NPMI, diversity, errors, matching, stability, select-k."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import topicnmf.nmf as nmf
from topicnmf import quality
from topicnmf.errors import ParameterError
from topicnmf.quality import metrics

# ---------------------------------------------------------------------------------------------
# NPMI against hand-computed values
# ---------------------------------------------------------------------------------------------

# Five documents over the terms a, b, c, d, e (columns 0..4). Counts, not 0/1, to show that
# only presence matters. Document 5 has no term at all and still counts in D; e never occurs.
#            a  b  c  d  e
TINY = [
    [2, 1, 0, 0, 0],  # doc 1: a b
    [1, 1, 3, 0, 0],  # doc 2: a b c
    [1, 0, 1, 0, 0],  # doc 3: a c
    [0, 0, 0, 1, 0],  # doc 4: d
    [0, 0, 0, 0, 0],  # doc 5: (empty)
]
# D = 5; D(a) = 3, D(b) = 2, D(c) = 2, D(d) = 1, D(e) = 0
# D(a,b) = 2, D(a,c) = 2, D(b,c) = 1, every pair with d or e: 0
#
# NPMI(a,b) = log(P(a,b) / (P(a) P(b))) / -log P(a,b)
#           = log((2/5) / ((3/5)(2/5))) / -log(2/5) = log(5/3) / log(5/2)
#           = 0.5108256238 / 0.9162907319 = 0.5574929507
# NPMI(a,c) = the same counts                                       = 0.5574929507
# NPMI(b,c) = log((1/5) / ((2/5)(2/5))) / -log(1/5) = log(5/4) / log(5)
#           = 0.2231435513 / 1.6094379124 = 0.1386468839
# topic [a, b, c]: (0.5574929507 + 0.5574929507 + 0.1386468839) / 3 = 0.4178775951
# topic [a, d, e]: (a,d), (a,e), (d,e) never co-occur: (-1 - 1 - 1) / 3 = -1
# topic [b, a, d]: (0.5574929507 - 1 - 1) / 3 = -0.4808356831
NPMI_AB = 0.5574929507
NPMI_BC = 0.1386468839


@pytest.mark.parametrize("as_sparse", [True, False])
def test_npmi_matches_hand_computation(as_sparse):
    X = sp.csr_matrix(np.array(TINY)) if as_sparse else np.array(TINY)
    top = [[0, 1, 2], [0, 3, 4], [1, 0, 3]]
    scores = quality.topic_npmi(top, X)
    assert_allclose(scores, [0.4178775951, -1.0, -0.4808356831], atol=1e-9)
    assert_allclose(math.log(5 / 3) / math.log(5 / 2), NPMI_AB)
    assert_allclose(math.log(5 / 4) / math.log(5), NPMI_BC)


def test_npmi_pair_matrix_entries():
    M = quality.npmi_pair_matrix(sp.csr_matrix(np.array(TINY)), [0, 1, 2, 3, 4])
    assert_allclose(M[0, 1], NPMI_AB, atol=1e-9)
    assert_allclose(M[0, 2], NPMI_AB, atol=1e-9)
    assert_allclose(M[1, 2], NPMI_BC, atol=1e-9)
    assert_allclose(M, M.T)
    # Never together, and a term absent from the corpus: -1.
    assert M[0, 3] == -1.0 and M[2, 3] == -1.0
    assert np.all(M[4, :] == -1.0)


def test_npmi_always_together_is_one():
    # x and y occur only together (2 of 4 documents): log(2) / log(2) = 1.
    # u and v occur in every document: P(u,v) = 1, 0/0 in the formula, defined as 1.
    #              x  y  u  v
    X = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]])
    M = quality.npmi_pair_matrix(X, [0, 1, 2, 3])
    assert_allclose(M[0, 1], 1.0)
    assert M[2, 3] == 1.0
    # x with u: P(x,u) = P(x) = 1/2, P(u) = 1: log(1) / log(2) = 0.
    assert_allclose(M[0, 2], 0.0, atol=1e-12)


def test_npmi_bounds_on_random_corpus():
    rng = np.random.default_rng(0)
    X = sp.random(200, 30, density=0.2, random_state=rng, format="csr")
    top = quality.top_term_indices(rng.random((4, 30)), 8)
    scores = quality.topic_npmi(top, X)
    assert scores.shape == (4,)
    assert np.all(scores >= -1) and np.all(scores <= 1)


def test_npmi_rejects_bad_input():
    with pytest.raises(ParameterError):
        quality.topic_npmi([[0, 9]], np.array(TINY))
    with pytest.raises(ParameterError):
        quality.topic_npmi([[0]], np.array(TINY))
    with pytest.raises(ParameterError):
        quality.topic_npmi([[0, 1]], sp.csr_matrix((0, 5)))


def test_npmi_on_the_vectorizers_matrices():
    # The CLI tokenizes the reference corpus with the model's own vectorizer: its TF-IDF
    # matrix and its binary document-term matrix give the same NPMI.
    from topicnmf.vectorize import Vectorizer, VectorizerConfig

    train = ["apple banana", "apple banana cherry", "apple cherry", "date fig", "fig date"]
    held_out = ["apple banana", "banana cherry", "date", "apple fig", "cherry apple banana"]
    vec = Vectorizer(VectorizerConfig(min_df=1, max_df=1.0, stop_words=()))
    vec.fit_transform(train)
    col = {t: i for i, t in enumerate(vec.vocabulary)}
    top = [[col["apple"], col["banana"]], [col["date"], col["fig"]]]
    a = quality.topic_npmi(top, vec.transform(held_out))
    b = quality.topic_npmi(top, vec.binary_doc_term(held_out))
    assert_allclose(a, b)
    # apple & banana: D = 5, D(apple) = 3, D(banana) = 3, D(both) = 2:
    # log((2/5) / (3/5 * 3/5)) / -log(2/5) = log(10/9) / log(5/2); date & fig never together.
    assert_allclose(a, [math.log(10 / 9) / math.log(5 / 2), -1.0])


# ---------------------------------------------------------------------------------------------
# Top terms, diversity, reconstruction error, dominance
# ---------------------------------------------------------------------------------------------


def test_top_term_indices_order_and_ties():
    H = np.array([[0.1, 0.5, 0.5, 0.0], [3.0, 0.0, 1.0, 2.0]])
    assert quality.top_term_indices(H, 3).tolist() == [[1, 2, 0], [0, 3, 2]]
    with pytest.raises(ParameterError):
        quality.top_term_indices(H, 5)
    with pytest.raises(ParameterError):
        quality.top_term_indices(H, 1)


def test_topic_diversity():
    assert quality.topic_diversity([[0, 1, 2], [3, 4, 5]]) == 1.0
    # 6 slots, terms {0, 1, 2, 3}: 4 / 6.
    assert_allclose(quality.topic_diversity([[0, 1, 2], [2, 1, 3]]), 4 / 6)
    assert_allclose(quality.topic_diversity([[0, 1], [0, 1], [0, 1]]), 2 / 6)


@pytest.mark.parametrize("dense_limit", [1 << 22, 0])  # exact dense path and the expansion
def test_reconstruction_error(monkeypatch, dense_limit):
    monkeypatch.setattr(metrics, "_DENSE_RECONSTRUCTION_LIMIT", dense_limit)
    rng = np.random.default_rng(1)
    W = rng.random((12, 3))
    H = rng.random((3, 7))
    V = W @ H
    assert quality.relative_error(sp.csr_matrix(V), W, H) == pytest.approx(0, abs=1e-6)
    assert quality.relative_error(V, np.zeros_like(W), H) == pytest.approx(1.0)
    V2 = sp.random(12, 7, density=0.4, random_state=2, format="csr")
    expected = np.linalg.norm(V2.toarray() - W @ H) / np.linalg.norm(V2.toarray())
    assert quality.relative_error(V2, W, H) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ParameterError):
        quality.relative_error(V2, W[:5], H)
    with pytest.raises(ParameterError):
        quality.relative_error(sp.csr_matrix((12, 7)), W, H)


def test_dominance_counts():
    W = np.array(
        [
            [0.9, 0.1, 0.0],
            [0.0, 0.0, 0.0],  # no term: dominated by none
            [0.2, 0.7, 0.1],
            [0.3, 0.3, 0.0],  # tie: the lower topic
            [0.0, 0.0, 0.4],
            [0.5, 0.0, 0.0],
        ]
    )
    assert quality.dominant_topics(W).tolist() == [0, -1, 1, 0, 2, 0]
    counts, none = quality.dominance_counts(W)
    assert counts.tolist() == [3, 1, 1]
    assert none == 1


def test_evaluate_topics_with_corpus():
    X = sp.csr_matrix(np.array(TINY, dtype=float))
    H = np.array([[3, 2, 1, 0, 0], [1, 0, 0, 3, 2]], dtype=float)  # tops [a b c], [d e a]
    W = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 0]], dtype=float)
    ev = quality.evaluate_topics(H, X, W, vocabulary=list("abcde"), top_n=3)
    assert ev.topics[0].top_terms == ("a", "b", "c")
    assert ev.topics[1].top_terms == ("d", "e", "a")
    assert ev.topics[0].npmi == pytest.approx(0.4178775951)
    assert ev.topics[1].npmi == pytest.approx(-1.0)
    assert ev.npmi == pytest.approx((0.4178775951 - 1) / 2)
    assert ev.diversity == pytest.approx(5 / 6)
    assert [t.n_dominant for t in ev.topics] == [3, 1]
    assert ev.n_undominated == 1 and ev.n_documents == 5
    assert ev.relative_error == pytest.approx(quality.relative_error(X, W, H))
    json.dumps(ev.to_dict())


def test_evaluate_topics_without_corpus():
    H = np.array([[3, 2, 1, 0], [0, 1, 2, 3]], dtype=float)
    ev = quality.evaluate_topics(H, top_n=2)
    assert ev.npmi is None and ev.relative_error is None and ev.n_documents is None
    assert ev.diversity == 1.0
    assert ev.topics[1].top_indices == (3, 2) and ev.topics[1].top_terms is None
    with pytest.raises(ParameterError, match="columns"):
        quality.evaluate_topics(H, sp.csr_matrix((3, 5)), np.zeros((3, 2)), top_n=2)


# ---------------------------------------------------------------------------------------------
# k specifications
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("5:50:5", [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]),
        ("10:30:5", [10, 15, 20, 25, 30]),
        ("5:52:5", [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]),
        ("5:7", [5, 6, 7]),
        ("4:4:3", [4]),
        ("10,20,30", [10, 20, 30]),
        (" 30, 10 ,10 ", [10, 30]),
        ("8", [8]),
    ],
)
def test_parse_k_spec_good(spec, expected):
    assert quality.parse_k_spec(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "",
        " ",
        "5:50:0",
        "5:50:-5",
        "50:5:5",
        "a",
        "5:",
        ":5",
        "10,,20",
        "10,",
        "5:10:2:1",
        "5:10,20",
        "1:5",
        "0",
        "-5:10",
        "2.5",
        "5-10",
        "ten",
        "2:102",  # 101 candidates
        ",".join(str(k) for k in range(2, 103)),
        "1:1000000",
        "2:99999999999999999999999999999",
        "2," + "9" * 5000,  # more digits than int() converts
        "100001",
    ],
)
def test_parse_k_spec_bad(spec):
    with pytest.raises(ParameterError, match="invalid k specification") as err:
        quality.parse_k_spec(spec)
    assert err.value.param == "ks"


def test_parse_k_spec_bounds_are_the_documented_ones():
    assert quality.MAX_K_CANDIDATES == 100 and quality.MAX_K == 100_000
    assert len(quality.parse_k_spec("2:101")) == 100
    assert quality.parse_k_spec("99990:100000:10") == [99990, 100000]
    with pytest.raises(ParameterError, match="1,000,000 values of k"):
        quality.parse_k_spec("1:1000000")


def test_parse_k_spec_refuses_a_huge_range_at_once():
    # counted, never expanded: a range of 10**12 values is refused as fast as a small one
    import time

    start = time.perf_counter()
    with pytest.raises(ParameterError, match="at most 100 are allowed"):
        quality.parse_k_spec("2:99999:1")
    with pytest.raises(ParameterError):
        quality.parse_k_spec("2:" + "9" * 12)
    assert time.perf_counter() - start < 0.1


# ---------------------------------------------------------------------------------------------
# Matching, Average Jaccard, stability
# ---------------------------------------------------------------------------------------------


def test_match_topics_recovers_permutation():
    rng = np.random.default_rng(3)
    H = rng.random((6, 40))
    perm = np.array([4, 0, 5, 2, 1, 3])
    H_b = H[perm]  # topic perm[j] of A is topic j of B
    norm = np.linalg.norm(H, axis=1)
    sim = (H @ H_b.T) / np.outer(norm, norm[perm])
    rows, cols = quality.match_topics(sim)
    assert rows.tolist() == list(range(6))
    assert perm[cols].tolist() == list(range(6))
    assert_allclose(sim[rows, cols], 1.0)


def test_average_jaccard_by_hand():
    # A = [1, 2, 3], B = [2, 1, 4]: depth 1 {1} vs {2} -> 0; depth 2 {1,2} vs {1,2} -> 1;
    # depth 3 {1,2,3} vs {1,2,4} -> 2/4. Mean (0 + 1 + 0.5) / 3 = 0.5.
    aj = quality.average_jaccard_matrix([[1, 2, 3]], [[2, 1, 4], [1, 2, 3], [7, 8, 9]])
    assert_allclose(aj, [[0.5, 1.0, 0.0]])


def test_ranking_agreement_identical_permuted_and_random():
    rng = np.random.default_rng(4)
    top = np.array([rng.permutation(200)[:10] for _ in range(8)])
    assert quality.ranking_agreement(top, top) == 1.0
    assert quality.ranking_agreement(top, top[::-1]) == 1.0  # topic order does not matter
    others = [np.array([rng.permutation(200)[:10] for _ in range(8)]) for _ in range(5)]
    scores = [quality.ranking_agreement(top, o) for o in others]
    assert max(scores) < 0.3
    with pytest.raises(ParameterError):
        quality.ranking_agreement(top, top[:5])


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------


def test_compare_with_different_vocabularies():
    vocab_a = ["apple", "banana", "cherry", "date", "fig"]
    H_a = np.array(
        [
            [5.0, 4.0, 0.0, 0.0, 0.0],  # fruit salad: apple banana
            [0.0, 0.0, 3.0, 1.0, 0.0],  # cherry date
            [0.0, 0.0, 0.0, 0.0, 2.0],  # fig only (a term B does not know)
        ]
    )
    # B knows the terms in another order, lacks "fig", adds "egg"; its topics are A's first
    # two in the other order, plus one on "egg" and one (weak) mix.
    vocab_b = ["egg", "date", "banana", "cherry", "apple"]
    H_b = np.array(
        [
            [0.0, 1.0, 0.0, 3.0, 0.0],  # = A1 (cherry 3, date 1)
            [9.0, 0.0, 0.0, 0.0, 0.0],  # egg: nothing in the shared vocabulary
            [0.0, 0.0, 8.0, 0.0, 10.0],  # = 2 * A0 (banana 8, apple 10)
            [0.0, 1.0, 0.0, 0.0, 0.0],  # date: cos with A1 = 1/sqrt(10) = 0.316
        ]
    )
    cmp = quality.compare_topics(H_a, vocab_a, H_b, vocab_b, threshold=0.35)
    assert cmp.n_shared_terms == 4
    assert cmp.similarity.shape == (3, 4)
    got = {(m.topic_a, m.topic_b): m.similarity for m in cmp.matches}
    assert set(got) == {(0, 2), (1, 0)}
    assert_allclose(list(got.values()), [1.0, 1.0])
    assert cmp.only_a == [2]  # fig topic: matched to nothing similar
    assert cmp.only_b == [1, 3]
    assert len(cmp.pairs) == 3  # min(k_a, k_b) pairs from the assignment
    assert_allclose(cmp.similarity[1, 3], 1 / math.sqrt(10))
    # Threshold 0: every assigned pair counts, only B's leftover topic is unmatched.
    loose = quality.compare_topics(H_a, vocab_a, H_b, vocab_b, 0.0)
    assert len(loose.matches) == 3 and len(loose.only_a) == 0 and len(loose.only_b) == 1
    json.dumps(cmp.to_dict())


def test_compare_identical_models_and_errors():
    rng = np.random.default_rng(5)
    H = rng.random((4, 6))
    vocab = [f"t{i}" for i in range(6)]
    order = [5, 3, 1, 0, 2, 4]
    cmp = quality.compare_topics(H, vocab, H[::-1][:, order], [vocab[i] for i in order])
    assert [(m.topic_a, m.topic_b) for m in cmp.matches] == [(0, 3), (1, 2), (2, 1), (3, 0)]
    assert_allclose([m.similarity for m in cmp.matches], 1.0)
    assert cmp.only_a == [] and cmp.only_b == []
    apart = quality.compare_topics(H, vocab, H, [f"x{i}" for i in range(6)])
    assert apart.matches == [] and apart.n_shared_terms == 0 and apart.n_union_terms == 12
    assert apart.only_a == apart.only_b == [0, 1, 2, 3]
    with pytest.raises(ParameterError):
        quality.compare_topics(H, vocab[:5], H, vocab)
    with pytest.raises(ParameterError):
        quality.compare_topics(H, vocab, H, vocab, threshold=1.5)


# ---------------------------------------------------------------------------------------------
# Recommendation rule
# ---------------------------------------------------------------------------------------------


def _row(k, npmi, stability):
    return quality.SelectKRow(
        k=k,
        npmi=npmi,
        diversity=1.0,
        relative_error=0.5,
        stability=stability,
        stability_std=None if stability is None else 0.0,
        n_iter=10,
        converged=True,
        seconds=0.0,
    )


def test_recommend_k_rule():
    # One clear stability winner.
    k, reason = quality.recommend_k([_row(5, 0.3, 0.70), _row(10, 0.4, 0.90), _row(15, 0.5, 0.8)])
    assert k == 10 and "highest stability" in reason
    # Two within the tolerance: the higher NPMI wins.
    k, reason = quality.recommend_k([_row(5, 0.3, 0.90), _row(10, 0.4, 0.89), _row(15, 0.5, 0.7)])
    assert k == 10 and "NPMI" in reason and "5, 10" in reason
    # Within tolerance and equal NPMI: the smaller k.
    k, _ = quality.recommend_k([_row(5, 0.4, 0.90), _row(10, 0.4, 0.90)])
    assert k == 5
    # No stability: NPMI alone.
    k, reason = quality.recommend_k([_row(5, 0.3, None), _row(10, 0.4, None)])
    assert k == 10 and "runs=0" in reason
    with pytest.raises(ParameterError):
        quality.recommend_k([])


# ---------------------------------------------------------------------------------------------
# select-k with the real engine on a small planted corpus
# ---------------------------------------------------------------------------------------------


def _planted_corpus(n_docs=60, n_topics=3, terms_per_topic=8, seed=0):
    """Each document uses one block of terms with a clear ranking, plus a little noise."""
    rng = np.random.default_rng(seed)
    n_terms = n_topics * terms_per_topic
    profile = np.linspace(2.0, 0.25, terms_per_topic) ** 2  # well separated term weights
    X = np.zeros((n_docs, n_terms))
    for d in range(n_docs):
        t = d % n_topics
        block = slice(t * terms_per_topic, (t + 1) * terms_per_topic)
        X[d, block] = profile * rng.uniform(0.9, 1.1, terms_per_topic)
        X[d] += 0.05 * (rng.random(n_terms) < 0.05)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    return sp.csr_matrix(X.astype(np.float32))


def _comparable(result):
    d = result.to_dict()
    assert "seconds" not in d["rows"][0]
    assert "seconds" in result.to_dict(timings=True)["rows"][0]
    return d


def test_select_k_deterministic_and_independent_of_jobs():
    V = _planted_corpus()
    vocab = [f"w{i}" for i in range(V.shape[1])]
    config = nmf.NMFConfig(n_components=2, max_iter=100)
    events = []
    kwargs = dict(nmf_config=config, vocabulary=vocab, top_n=5, runs=2, seed=7)
    r1 = quality.select_k(V, [2, 3, 4], callback=events.append, **kwargs)
    r2 = quality.select_k(V, [4, 3, 2], **kwargs)
    r3 = quality.select_k(V, [2, 3, 4], jobs=2, **kwargs)
    assert _comparable(r1) == _comparable(r2) == _comparable(r3)
    assert [e.done for e in events] == list(range(1, 10))
    assert all(e.total == 9 for e in events)
    assert sorted((e.k, e.run) for e in events) == [(k, r) for k in (2, 3, 4) for r in range(3)]
    assert [row.k for row in r1.rows] == [2, 3, 4]
    assert r1.recommended_k in (2, 3, 4) and r1.reason.startswith(f"k={r1.recommended_k}")
    row3 = r1.rows[1]
    assert row3.stability == pytest.approx(1.0)  # the planted topics are found every time
    assert row3.diversity == 1.0
    assert 0 < row3.relative_error < 1
    assert len(row3.top_terms) == 3 and len(row3.top_terms[0]) == 5
    json.dumps(r1.to_dict())
    # A different seed changes the subsamples but is itself repeatable.
    r4 = quality.select_k(V, [2, 3], **{**kwargs, "seed": 8})
    assert _comparable(r4) == _comparable(quality.select_k(V, [2, 3], **{**kwargs, "seed": 8}))


def test_select_k_reference_equals_plain_fit():
    V = _planted_corpus(seed=1)
    config = nmf.NMFConfig(n_components=3, max_iter=100, seed=5)
    result = quality.select_k(V, [3], nmf_config=config, top_n=4, runs=0, seed=5)
    fitted = nmf.fit_nmf(V, config)
    top = quality.top_term_indices(fitted.H, 4)
    assert result.rows[0].npmi == pytest.approx(float(np.mean(quality.topic_npmi(top, V))))
    assert result.rows[0].stability is None
    assert "runs=0" in result.reason or "only candidate" in result.reason


def test_select_k_rejects_bad_settings():
    V = _planted_corpus()
    with pytest.raises(ParameterError, match="too large"):
        quality.select_k(V, [2, 60], top_n=3)
    with pytest.raises(ParameterError):
        quality.select_k(V, [], top_n=3)
    with pytest.raises(ParameterError):
        quality.select_k(V, [1, 2], top_n=3)
    with pytest.raises(ParameterError):
        quality.select_k(V, [2], top_n=3, sample_fraction=1.0)
    with pytest.raises(ParameterError):
        quality.select_k(V, [2], top_n=3, jobs=0)


@given(
    st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5, float("nan")]), min_size=1, max_size=200),
    st.integers(min_value=0, max_value=250),
)
@settings(max_examples=200, deadline=None)
def test_top_indices_equals_a_stable_full_sort(values, n):
    row = np.array(values, dtype=np.float32)  # few distinct values: many ties
    expected = np.argsort(-row, kind="stable")[:n]
    assert np.array_equal(quality.top_indices(row, n), expected)
