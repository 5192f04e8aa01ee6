"""``TopicNMF``: the NMF engine as a scikit-learn estimator.

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from topicnmf import TopicNMF

    pipe = make_pipeline(TfidfVectorizer(min_df=2, stop_words="english"), TopicNMF(20))
    W = pipe.fit_transform(texts)            # documents x topics
    H = pipe[-1].components_                 # topics x terms

It takes any non-negative matrix (a TF-IDF matrix above all), so it fits in a Pipeline after
a vectorizer, is cloned and grid-searched like scikit-learn's ``NMF``, and names its output
columns ``topic0``, ``topic1``, ... (``get_feature_names_out``; ``set_output(transform=
"pandas")`` gives DataFrames). Unlike ``NMF``, ``fit_transform(X)`` returns exactly
``transform(X)`` of the fitted topics (the best W for the final H), so the two never
disagree, and the default solver is topicnmf's faster one.

scikit-learn is imported with this module only; the command line never loads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from topicnmf.config import NMFConfig
from topicnmf.errors import ParameterError

__all__ = ["TopicNMF"]


class TopicNMF(TransformerMixin, BaseEstimator):
    """Non-negative matrix factorization X ~ W H for topic modelling, scikit-learn style.

    Parameters
    ----------
    n_components : int, default 10
        Number of topics k.
    loss : {"frobenius", "kl"}, default "frobenius"
        0.5 * ||X - WH||_F^2, or the generalized Kullback-Leibler divergence.
    solver : {"cd", "mu", "anls"}, default "cd"
        Coordinate descent (HALS with extrapolation for Frobenius; Newton coordinate
        descent for KL, which needs numba), multiplicative updates, or exact alternating
        non-negative least squares (Frobenius only).
    init : {"nndsvd", "nndsvda", "nndsvdar", "random", "kmeans"}, default "nndsvda"
        Initialization: scikit-learn's definitions, or "kmeans" (spherical k-means
        centroids of the documents as H, from ``random_state``).
    svd : {"exact", "randomized"}, default "exact"
        The SVD behind the NNDSVD inits: "exact" does not depend on the order of the rows;
        "randomized" is scikit-learn's start.
    max_iter : int, default 200
        Iteration limit; reaching it warns (``topicnmf.errors.ConvergenceWarning``).
    tol : float, default 1e-5
        Stop when the objective's average decrease over 5 iterations falls to ``tol`` times
        its decrease since the start.
    random_state : int or None, default None
        Seed of the random inits and of the SVDs; None means 0, so that results repeat
        (the default init does not draw at random anyway).
    alpha_W, alpha_H : float, or "same" for alpha_H, default 0.0 and "same"
        Penalty strengths, scaled by n_features (W) and n_samples (H) as in scikit-learn.
    l1_ratio : float, default 0.0
        Share of L1 in the penalties.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the computation and of ``components_`` and the returned W.
    n_jobs : int or None, default None
        Threads for the sparse products; None uses the CPUs this process may use.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The topics: H.
    n_components_ : int
        Number of topics.
    n_iter_ : int
        Iterations of the fit.
    reconstruction_err_ : float
        ||X - WH||_F of the fit (for loss="kl", sqrt(2 * divergence)), with W =
        ``transform(X)``; scikit-learn's name.
    n_features_in_ : int
        Number of features (terms) seen in ``fit``.
    """

    def __init__(
        self,
        n_components: int = 10,
        *,
        loss: str = "frobenius",
        solver: str = "cd",
        init: str = "nndsvda",
        svd: str = "exact",
        max_iter: int = 200,
        tol: float = 1e-5,
        random_state: int | None = None,
        alpha_W: float = 0.0,
        alpha_H: float | str = "same",
        l1_ratio: float = 0.0,
        dtype: str = "float32",
        n_jobs: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.loss = loss
        self.solver = solver
        self.init = init
        self.svd = svd
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _config(self) -> NMFConfig:
        """The engine's settings; a bad value raises ParameterError (a ValueError)."""
        return NMFConfig(
            n_components=self.n_components,
            loss=self.loss,
            solver=self.solver,
            init=self.init,
            svd=self.svd,
            max_iter=self.max_iter,
            tol=self.tol,
            seed=0 if self.random_state is None else self.random_state,
            alpha_W=self.alpha_W,
            alpha_H=self.alpha_H,
            l1_ratio=self.l1_ratio,
            dtype=self.dtype,
        )

    def fit(self, X: Any, y: Any = None) -> TopicNMF:
        """Learn the topics of X (documents x terms, non-negative, dense or sparse)."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> np.ndarray:
        """Learn the topics of X and return its document-topic weights W.

        W is exactly ``transform(X)`` of the fitted model.
        """
        from topicnmf.nmf import fit_nmf, reconstruction_error

        config = self._config()
        result = fit_nmf(X, config, n_threads=self.n_jobs)
        self.components_ = result.H
        self.n_components_ = int(result.H.shape[0])
        self.n_iter_ = int(result.n_iter)
        self.n_features_in_ = int(result.H.shape[1])
        self.reconstruction_err_ = reconstruction_error(X, result.W, result.H, config.loss)
        self._fit_config = config
        return result.W

    def transform(self, X: Any) -> np.ndarray:
        """Document-topic weights W of X for the fitted topics (each row on its own)."""
        from topicnmf.nmf import transform

        check_is_fitted(self, "components_")
        shape = X.shape if hasattr(X, "shape") else np.shape(X)
        if len(shape) == 2 and shape[1] != self.n_features_in_:
            raise ParameterError(
                f"X has {shape[1]} features, but TopicNMF was fitted with "
                f"{self.n_features_in_}; use the same vectorizer (vocabulary)"
            )
        return transform(X, self.components_, self._fit_config, n_threads=self.n_jobs)

    def inverse_transform(self, W: Any) -> np.ndarray:
        """The reconstruction W @ components_ (documents x terms, dense)."""
        check_is_fitted(self, "components_")
        return np.asarray(W) @ self.components_

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: ``topic0``, ``topic1``, ..."""
        check_is_fitted(self, "components_")
        return np.array([f"topic{t}" for t in range(self.n_components_)], dtype=object)

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"requires_positive_X": True, "preserves_dtype": [np.float32, np.float64]}

    if hasattr(BaseEstimator, "__sklearn_tags__"):  # scikit-learn >= 1.6

        def __sklearn_tags__(self) -> Any:
            tags = super().__sklearn_tags__()
            tags.input_tags.positive_only = True
            tags.input_tags.sparse = True
            tags.transformer_tags.preserves_dtype = ["float32", "float64"]
            return tags
