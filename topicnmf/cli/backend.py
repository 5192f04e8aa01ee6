"""Running ``fit`` and ``assign`` in this process or on Dask (``--backend``).

The commands build a :class:`topicnmf.backends.BackendConfig` with
:func:`topicnmf.cli.options.pop_backend` and call these two functions; the local path is the
library's own (:func:`topicnmf.model.fit`, ``TopicModel.transform_matrix``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def run_fit(backend: Any, documents: Any, vec_config: Any, config: Any, **kw: Any) -> Any:
    """``topicnmf.model.fit`` on the chosen backend (``n_jobs`` applies to the local one)."""
    if backend.kind == "local":
        from topicnmf.model import fit

        return fit(documents, vec_config, config, **kw)
    from topicnmf.backends import dask_backend
    from topicnmf.cli.options import usage_errors

    with usage_errors():  # a setting the Dask fit lacks: exit 2 before a cluster starts
        dask_backend.check_settings(config)
    import click

    kw.pop("n_jobs", None)
    if kw.pop("windows", None) is not None:
        raise click.UsageError(
            "dynamic topics (--time-column) are fitted in one process; leave out --backend dask"
        )
    kw.pop("seed_strength", None)
    if kw.pop("seed_topics", None):
        raise click.UsageError(
            "guided topics (--seed-topics) are fitted in one process; leave out --backend dask"
        )
    with dask_backend.connect(backend) as client:
        return dask_backend.fit(
            documents, vec_config, config, client, partitions=backend.partitions, **kw
        )


@contextlib.contextmanager
def weigher(model: Any, backend: Any, jobs: int | None) -> Iterator[Callable[[list[str]], Any]]:
    """Yield ``weigh(texts) -> (W, no_word)``: topic weights and rows without a known term."""
    import numpy as np

    if backend.kind == "local":

        def weigh(texts: list[str]) -> Any:
            V = model.vectorizer.transform(texts)
            return model.transform_matrix(V, n_threads=jobs), np.diff(V.indptr) == 0

        yield weigh
        return
    from topicnmf.backends import dask_backend

    with dask_backend.connect(backend) as client:
        shared = client.scatter(model, broadcast=True, hash=False)

        def weigh_dask(texts: list[str]) -> Any:
            return dask_backend.weigh_texts(client, shared, texts, partitions=backend.partitions)

        yield weigh_dask


@contextlib.contextmanager
def session(backend: Any) -> Iterator[Any]:
    """Yield a Dask client for ``--backend dask``, else None."""
    if backend.kind == "local":
        yield None
        return
    from topicnmf.backends import dask_backend

    with dask_backend.connect(backend) as client:
        yield client


def vectorize(
    client: Any, texts: Any, *, config: Any = None, vectorizer: Any = None, partitions: Any = None
) -> tuple[Any, Any]:
    """(vectorizer, V): fitted to ``texts`` with ``config``, or ``vectorizer.transform``;
    on the workers when ``client`` is given."""
    if client is None:
        from topicnmf.vectorize import Vectorizer

        if vectorizer is None:
            vectorizer = Vectorizer(config)
            return vectorizer, vectorizer.fit_transform(texts)
        return vectorizer, vectorizer.transform(texts)
    from topicnmf.backends import dask_backend

    return dask_backend.vectorize(
        client, list(texts), config, vectorizer=vectorizer, partitions=partitions
    )


def fit_runner(client: Any) -> Any:
    """The ``runner`` of ``select_k`` that fits on the cluster (None: the local processes)."""
    if client is None:
        return None
    import functools

    from topicnmf.backends import dask_backend

    return functools.partial(dask_backend.run_tasks, client)
