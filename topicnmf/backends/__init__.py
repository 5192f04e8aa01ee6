"""Where the work runs: in this process (``"local"``) or on a Dask cluster (``"dask"``).

The local backend is the rest of the library (:func:`topicnmf.model.fit`,
:meth:`topicnmf.model.TopicModel.transform`). The Dask backend (:mod:`.dask_backend`) needs the
optional packages ``dask`` and ``distributed`` (the ``dask`` extra) and imports them only when
it is used: :func:`connect` opens a client, :func:`fit` fits a model on it and
:func:`map_partitions` maps a function over the partitions of a document list, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from topicnmf.errors import ParameterError

BACKENDS = ("local", "dask")

__all__ = ["BACKENDS", "BackendConfig", "connect", "fit", "map_partitions", "transform_texts"]


@dataclass(frozen=True)
class BackendConfig:
    """Where to run.

    Attributes
    ----------
    kind : {"local", "dask"}
    workers : int or None
        Dask only: worker processes of a cluster started on this machine (default: the CPUs).
    scheduler : str or None
        Dask only: address of a running scheduler (``tcp://host:8786``); no cluster is started.
    partitions : int or None
        Dask only: number of document partitions (default: the number of workers). The
        result depends on it only through rounding; for a fixed value it is deterministic.
    """

    kind: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    partitions: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in BACKENDS:
            raise ParameterError(
                f"backend must be one of {', '.join(BACKENDS)}; got {self.kind!r}",
                param="backend",
                value=self.kind,
                choices=BACKENDS,
            )
        for name in ("workers", "partitions"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ParameterError(
                    f"{name} must be a positive integer; got {value!r}", param=name, value=value
                )
        if self.workers is not None and self.scheduler is not None:
            raise ParameterError(
                "workers and scheduler exclude each other: a running scheduler has its own workers",
                param="workers",
            )


def connect(config: BackendConfig):  # type: ignore[no-untyped-def]
    """A context manager yielding a ``distributed.Client`` for ``config`` (see dask_backend)."""
    from topicnmf.backends.dask_backend import connect as _connect

    return _connect(config)


def fit(*args, **kwargs):  # type: ignore[no-untyped-def]
    """:func:`topicnmf.backends.dask_backend.fit`."""
    from topicnmf.backends.dask_backend import fit as _fit

    return _fit(*args, **kwargs)


def map_partitions(*args, **kwargs):  # type: ignore[no-untyped-def]
    """:func:`topicnmf.backends.dask_backend.map_partitions`."""
    from topicnmf.backends.dask_backend import map_partitions as _map

    return _map(*args, **kwargs)


def transform_texts(*args, **kwargs):  # type: ignore[no-untyped-def]
    """:func:`topicnmf.backends.dask_backend.transform_texts`."""
    from topicnmf.backends.dask_backend import transform_texts as _transform

    return _transform(*args, **kwargs)
