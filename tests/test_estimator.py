"""TopicNMF, the scikit-learn estimator: Pipeline, clone, parameters, and that every setting
reaches the engine and changes the result."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline

from tests.conftest import theme_texts
from topicnmf import TopicNMF
from topicnmf.errors import ConvergenceWarning, ParameterError
from topicnmf.nmf import NMFConfig, fit_nmf, reconstruction_error, transform

pytestmark = pytest.mark.filterwarnings("ignore::topicnmf.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [text for _, text in theme_texts(8)]


@pytest.fixture(scope="module")
def V() -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    low_rank = rng.random((50, 4)) @ rng.random((4, 70))
    return sp.csr_matrix(low_rank * (rng.random((50, 70)) < 0.3))


def test_in_a_pipeline_after_a_vectorizer(texts):
    pipe = Pipeline([("tfidf", TfidfVectorizer()), ("nmf", TopicNMF(3))])
    W = pipe.fit_transform(texts)
    assert W.shape == (len(texts), 3) and W.min() >= 0
    nmf = pipe.named_steps["nmf"]
    assert nmf.components_.shape == (3, len(pipe.named_steps["tfidf"].vocabulary_))
    assert nmf.n_components_ == 3 and nmf.n_iter_ >= 1 and nmf.n_features_in_ > 0
    assert list(pipe.get_feature_names_out()) == ["topic0", "topic1", "topic2"]
    # fit_transform is exactly the transform of the fitted topics
    assert_array_equal(pipe.transform(texts), W)
    # the three themes come out as three topics: each document's dominant topic is its theme's
    themes = [theme for theme, _ in theme_texts(8)]
    dominant = W.argmax(axis=1)
    assert len({(t, d) for t, d in zip(themes, dominant, strict=True)}) == 3


def test_pandas_output_names_the_topic_columns(texts):
    pytest.importorskip("pandas")
    pipe = make_pipeline(TfidfVectorizer(), TopicNMF(3).set_output(transform="pandas"))
    frame = pipe.fit_transform(texts)
    assert list(frame.columns) == ["topic0", "topic1", "topic2"]


def test_clone_get_params_set_params(V):
    est = TopicNMF(4, alpha_W=0.001, l1_ratio=0.5, random_state=3, n_jobs=1)
    params = est.get_params()
    assert params["n_components"] == 4 and params["alpha_W"] == 0.001 and params["n_jobs"] == 1
    est.fit(V)
    copy = clone(est)
    assert copy.get_params() == params
    assert not hasattr(copy, "components_")
    assert_array_equal(copy.fit(V).components_, est.components_)
    copy.set_params(n_components=2, tol=1e-3)
    assert copy.fit(V).components_.shape == (2, V.shape[1])
    again = pickle.loads(pickle.dumps(est))
    assert_array_equal(again.transform(V), est.transform(V))


def test_matches_the_engine_and_reports_sklearn_attributes(V):
    est = TopicNMF(4, random_state=0)
    W = est.fit_transform(V)
    result = fit_nmf(V, NMFConfig(4))
    assert_array_equal(est.components_, result.H)
    assert_array_equal(W, result.W)
    assert est.n_iter_ == result.n_iter
    assert est.reconstruction_err_ == pytest.approx(reconstruction_error(V, W, result.H))
    assert_allclose(est.inverse_transform(W), W @ est.components_)


def test_bad_settings_and_inputs_raise_value_errors(V):
    with pytest.raises(ValueError, match="alpha_W"):
        TopicNMF(3, alpha_W=-1).fit(V)
    with pytest.raises(ParameterError, match="loss"):
        TopicNMF(3, loss="itakura").fit(V)
    est = TopicNMF(3).fit(V)
    with pytest.raises(ValueError, match="features"):
        est.transform(V[:, :10])
    with pytest.raises(ValueError, match="negative"):
        TopicNMF(3).fit(-V)


def test_unfitted_transform_is_refused(V):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TopicNMF(3).transform(V)


def test_max_iter_warns(V):
    with pytest.warns(ConvergenceWarning):
        est = TopicNMF(3, tol=0, max_iter=2).fit(V)
    assert est.n_iter_ == 2


# Each setting, changed from the defaults, changes what the fit returns: were the estimator or
# the engine to drop it, these tests would fail. (setting, value, other settings it needs)
CHANGES = [
    ("alpha_W", 0.002, {}),
    ("alpha_H", 0.0, {"alpha_W": 0.002}),  # "same" (0.002) -> 0
    ("l1_ratio", 1.0, {"alpha_W": 0.002}),
    ("tol", 1e-2, {}),
    ("max_iter", 3, {}),
    ("init", "random", {}),
    ("svd", "randomized", {}),
    ("solver", "mu", {}),
    ("loss", "kl", {"solver": "mu"}),
    ("dtype", "float64", {}),
    ("random_state", 7, {"init": "random"}),
]


@pytest.mark.parametrize(("name", "value", "base"), CHANGES, ids=[c[0] for c in CHANGES])
def test_every_setting_changes_the_result(V, name, value, base):
    reference = TopicNMF(4, **base).fit(V)
    changed = TopicNMF(4, **base, **{name: value}).fit(V)
    same_shape = changed.components_.shape == reference.components_.shape
    assert same_shape
    differs = changed.n_iter_ != reference.n_iter_ or not np.array_equal(
        changed.components_.astype(np.float64), reference.components_.astype(np.float64)
    )
    assert differs, f"{name}={value!r} changed nothing"
    # the engine, given the same setting directly, agrees with the estimator bit for bit
    engine_name = "seed" if name == "random_state" else name
    engine_base = {("seed" if k == "random_state" else k): v for k, v in base.items()}
    result = fit_nmf(V, NMFConfig(4, **engine_base, **{engine_name: value}))
    assert_array_equal(changed.components_, result.H)
    assert changed.n_iter_ == result.n_iter


def test_dtype_reaches_the_output(V):
    est = TopicNMF(3, dtype="float64").fit(V)
    assert est.components_.dtype == np.float64
    assert est.transform(V).dtype == np.float64
    assert TopicNMF(3).fit(V).components_.dtype == np.float32


def test_n_jobs_does_not_change_the_weights(V):
    big = sp.vstack([V] * 40).tocsr()  # enough non-zeros for two threads
    one = TopicNMF(4, n_jobs=1).fit(big)
    W1 = one.transform(big)
    two = one.set_params(n_jobs=2)
    assert_array_equal(two.transform(big), W1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a converged fit is quiet
        TopicNMF(4, max_iter=1000).fit(V)
    assert_array_equal(transform(big, one.components_, NMFConfig(4)), W1)
