"""20 Newsgroups: find the "bydate" collection, read it, clean it like scikit-learn.

Where it is looked for, in this order: the ``data_home`` given, ``$TOPICNMF_DATA_HOME``,
scikit-learn's data home (``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``), each also
in its ``20news_home`` subfolder; in each, the archive ``20news-bydate.tar.gz`` or its
extracted ``20news-bydate-train``/``-test`` folders; then scikit-learn's own cache
(``20news-bydate_py3.pkz``). A data home that is named but missing is an error (nothing
is created there). scikit-learn downloads the collection only when asked.

The archive is read with :mod:`topicnmf.datasets.archive` and kept extracted by
:mod:`topicnmf.datasets.cache`. Messages come out split by split (train before test),
newsgroup by newsgroup (sorted), by message number; ids are
``<split>/<newsgroup>/<number>`` and the label is the newsgroup.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from topicnmf.datasets.archive import ArchiveError, read_members
from topicnmf.datasets.cache import ExtractedArchive
from topicnmf.datasets.clean import REMOVABLE, strip_newsgroup
from topicnmf.errors import CorpusError, ParameterError

if TYPE_CHECKING:
    from topicnmf.corpus.base import CorpusStats

logger = logging.getLogger("topicnmf")

NEWSGROUPS: tuple[str, ...] = (
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
)
"""The 20 newsgroup names, sorted (the valid ``categories``)."""

NAME = "20newsgroups"
SPLITS = {"train": ("train",), "test": ("test",), "all": ("train", "test")}

METADATA_COLUMNS: tuple[str, ...] = ("newsgroup", "label")
"""The metadata a 20 Newsgroups document has: its newsgroup, under either name."""
ARCHIVE = "20news-bydate.tar.gz"
FOLDERS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}
SKLEARN_CACHE = "20news-bydate_py3.pkz"
_TRUE = ("1", "true", "yes", "on")

Item = tuple[str, str, str]
_Key = tuple[int, str, tuple[int, int, str]]  # (split rank, newsgroup, number order)


def _show(value: object) -> str:
    text = str(value)
    return text if text.isprintable() else repr(text)


def newsgroups_subset(source: str) -> str | None:
    """The split a ``20newsgroups[:split]`` source names, or None for other sources."""
    lowered = source.lower()
    if lowered == NAME:
        return "train"
    if not lowered.startswith(NAME + ":"):
        return None
    subset = lowered[len(NAME) + 1 :]
    if subset not in SPLITS:
        raise CorpusError(
            f"unknown 20 Newsgroups subset {subset!r} in {source!r}; use "
            "20newsgroups:train, 20newsgroups:test or 20newsgroups:all",
            value=source,
            choices=[f"{NAME}:{s}" for s in SPLITS],
        )
    return subset


def check_categories(categories: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """The chosen newsgroups, sorted, or None for all; ParameterError for unknown ones."""
    if categories is None:
        return None
    chosen = [categories] if isinstance(categories, str) else list(categories)
    bad = [c for c in chosen if c not in NEWSGROUPS]
    if bad or not chosen:
        what = f"unknown newsgroup(s) {', '.join(map(repr, bad))}" if bad else "no newsgroup chosen"
        raise ParameterError(
            f"{what}; valid names: {', '.join(NEWSGROUPS)}",
            param="categories",
            value=bad or chosen,
            choices=NEWSGROUPS,
        )
    return tuple(sorted(set(chosen)))


def check_remove(remove: Sequence[str] | str) -> frozenset[str]:
    """The parts of posts to remove; ParameterError for unknown ones."""
    parts = frozenset([remove] if isinstance(remove, str) else remove)
    unknown = sorted(parts - set(REMOVABLE))
    if unknown:
        raise ParameterError(
            f"cannot remove {', '.join(map(repr, unknown))} from 20 Newsgroups posts; "
            f"choose from {', '.join(REMOVABLE)}",
            param="remove",
            value=unknown,
            choices=REMOVABLE,
        )
    return parts


def _number_key(name: str) -> tuple[int, int, str]:
    # message files are numbers: 9 sorts before 10
    if name.isascii() and name.isdigit():
        return (0, int(name), name)
    return (1, 0, name)


def _sklearn_data_home() -> Path:
    # what sklearn.datasets.get_data_home() returns, without importing scikit-learn
    # (slow) and without its side effect of creating the folder
    return Path(os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")).expanduser()


def _fetch_with_sklearn(data_home: Path, subset: str, download: bool) -> Any:
    """scikit-learn's fetcher, silenced: its messages and warnings never reach the user."""
    from sklearn.datasets import fetch_20newsgroups

    # it prints to stdout when its cache is damaged, and stdout is for data
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fetch_20newsgroups(
            data_home=str(data_home),
            subset=subset,
            shuffle=False,
            remove=(),
            download_if_missing=download,
        )


class NewsgroupsSource:
    """A ``20newsgroups[:split]`` source of a corpus."""

    def __init__(
        self,
        label: str,
        subset: str,
        categories: tuple[str, ...] | None,
        remove: frozenset[str],
        data_home: str | os.PathLike[str] | None,
        download: bool = False,
        metadata_columns: tuple[str, ...] = (),
    ) -> None:
        for column in metadata_columns:
            if column not in METADATA_COLUMNS:
                raise CorpusError(
                    f"20 Newsgroups has no column {column!r}; its only metadata is the "
                    "newsgroup ('newsgroup' or 'label')",
                    param="metadata_columns",
                    value=column,
                    choices=METADATA_COLUMNS,
                )
        self.metadata_columns = metadata_columns
        self.label = label
        self.subset = subset
        self.splits = SPLITS[subset]
        self.chosen = categories  # None: all of them
        self.categories = categories or NEWSGROUPS
        self.remove = remove
        self.data_home = None if data_home is None else Path(data_home).expanduser()
        self.download = download
        self.kind: str | None = None  # "folders", "archive" or "sklearn"
        self.location: Path | None = None
        self._bunch: Any = None

    # ------------------------------------------------------------------ locating

    def _homes(self) -> list[Path]:
        """The folders searched; a named one that is missing is an error."""
        named = []
        if self.data_home is not None:
            named.append((self.data_home, "the data home"))
        env = os.environ.get("TOPICNMF_DATA_HOME")
        if env:
            named.append((Path(env).expanduser(), "TOPICNMF_DATA_HOME"))
        homes: list[Path] = []
        for home, what in named:
            if not home.is_dir():
                raise CorpusError(
                    f"{what} {_show(home)} is not a folder; 20 Newsgroups ({ARCHIVE}) was "
                    "looked for there",
                    param="data_home",
                    path=home,
                )
            if home not in homes:
                homes.append(home)
        if _sklearn_data_home() not in homes:
            homes.append(_sklearn_data_home())
        return homes

    def _locate(self) -> None:
        homes = self._homes()
        for home in homes:
            for folder in (home, home / "20news_home"):
                if all((folder / FOLDERS[s]).is_dir() for s in self.splits):
                    self.kind, self.location = "folders", folder
                    return
                if (folder / ARCHIVE).is_file():
                    self.kind, self.location = "archive", folder / ARCHIVE
                    return
        cached = next((h for h in homes if (h / SKLEARN_CACHE).is_file()), None)
        if cached is None:
            self._download(homes)
        else:
            self._bunch = self._fetch(cached, download=False)
            self.kind, self.location = "sklearn", cached

    def _download(self, homes: list[Path]) -> None:
        looked = ", ".join(_show(f) for h in homes for f in (h, h / "20news_home"))
        if not self.download:
            raise CorpusError(
                f"20 Newsgroups not found: no {ARCHIVE}, extracted folders or scikit-learn "
                f"cache in {looked}; put {ARCHIVE} in {_show(homes[0])}",
                param="download",
                path=homes[0],
            )
        if os.environ.get("TOPICNMF_OFFLINE", "").lower() in _TRUE:
            raise CorpusError(
                f"20 Newsgroups not found (looked in {looked}) and downloads are off "
                f"(TOPICNMF_OFFLINE); put {ARCHIVE} in {_show(homes[0])}",
                path=homes[0],
            )
        logger.info("downloading 20 Newsgroups (14 MB) with scikit-learn into %s", homes[0])
        self._bunch = self._fetch(homes[0], download=True)
        self.kind, self.location = "sklearn", homes[0]

    def _fetch(self, home: Path, download: bool) -> Any:
        try:
            return _fetch_with_sklearn(home, self.subset, download)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            what = "the download failed" if download else "scikit-learn could not read its cache"
            reason = " ".join(str(exc).split())[:200]
            raise CorpusError(
                f"20 Newsgroups: {what} ({type(exc).__name__}: {reason}); "
                f"put {ARCHIVE} in {_show(home)}",
                path=home,
            ) from None

    def check(self) -> None:
        if self.kind is None:
            self._locate()

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, object]:
        """The source as given and what is read of it (not where it was found)."""
        return {
            "source": self.label,
            "kind": "20newsgroups",
            "subset": self.subset,
            "categories": None if self.chosen is None else list(self.chosen),
            "remove": [part for part in REMOVABLE if part in self.remove],
        }

    def reads_path(self, path: str) -> bool:
        """Whether ``path`` is the archive, or a file inside the extracted folders read."""
        if self.location is None or self.kind == "sklearn":
            return False
        try:
            if self.kind == "archive":
                return os.path.exists(path) and os.path.samefile(self.location, path)
            target = os.path.realpath(path)
            base = os.path.realpath(self.location)
        except OSError:
            return False
        return any(target.startswith(os.path.join(base, FOLDERS[s], "")) for s in self.splits)

    # ------------------------------------------------------------------ reading

    def _clean(self, data: bytes | str) -> str:
        # latin-1 maps every byte to one character, as scikit-learn decodes the files
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        return strip_newsgroup(text, self.remove) if self.remove else text

    def items(self, stats: CorpusStats) -> Iterator[Item]:
        self.check()
        if self.kind == "archive":
            messages = self._from_archive(stats)
        elif self.kind == "folders":
            messages = self._from_folders(stats)
        else:
            messages = self._from_bunch(stats)
        for (rank, group, (_, _, number)), data in messages:
            doc_id = f"{self.splits[rank]}/{group}/{number}"
            meta = None
            if self.metadata_columns:
                meta = (dict.fromkeys(self.metadata_columns, group), f"{self.label} {doc_id}")
            yield doc_id, self._clean(data), group, meta

    def _wanted(self) -> list[tuple[int, str, str]]:
        """(split rank, split folder, newsgroup) of each folder read, in order."""
        return [
            (rank, FOLDERS[split], group)
            for rank, split in enumerate(self.splits)
            for group in self.categories
        ]

    def _from_archive(self, stats: CorpusStats) -> Iterator[tuple[_Key, bytes]]:
        assert self.location is not None
        wanted = self._wanted()
        cache = ExtractedArchive.for_archive(self.location)
        cached = cache.read((folder, group) for _, folder, group in wanted) if cache else None
        if cached is None:
            cached = self._read_archive(cache, {(f, g) for _, f, g in wanted}, stats)
        for rank, folder, group in wanted:
            messages = sorted(
                ((_number_key(name), data) for name, data in cached.pop((folder, group), [])),
                key=lambda m: m[0],
            )
            stats.files_read += len(messages)
            for number, data in messages:
                yield (rank, group, number), data

    def _read_archive(
        self, cache: ExtractedArchive | None, wanted: set[tuple[str, str]], stats: CorpusStats
    ) -> dict[tuple[str, str], list[tuple[str, bytes]]]:
        """The wanted messages, read with tarfile; the cache is (re)built on the way."""
        assert self.location is not None
        folders = set(FOLDERS.values())
        all_groups = [(folder, group) for folder in FOLDERS.values() for group in NEWSGROUPS]
        builder = cache.builder(all_groups) if cache is not None else None
        selected: dict[tuple[str, str], dict[str, bytes]] = {}

        def skip(name: str, reason: str) -> None:
            logger.warning("skipping %s in %s: %s", _show(name), _show(self.location), reason)
            stats.skipped_unsafe += 1
            if builder is not None:
                builder.spoil()

        with builder if builder is not None else contextlib.nullcontext():
            try:
                for name, data in read_members(self.location, skip):
                    parts = name.removeprefix("./").split("/")
                    if len(parts) != 3 or parts[0] not in folders or parts[2].startswith("."):
                        continue
                    key = (parts[0], parts[1])
                    if builder is not None and parts[1] in NEWSGROUPS:
                        builder.add(key, parts[2], data)
                    if key in wanted:
                        selected.setdefault(key, {})[parts[2]] = data  # the last copy wins
            except ArchiveError as exc:
                raise CorpusError(
                    f"cannot read {_show(self.location)}: {exc}; the archive looks damaged, "
                    "download it again",
                    path=self.location,
                ) from None
            if builder is not None:
                builder.commit()
        return {key: list(members.items()) for key, members in selected.items()}

    def _from_folders(self, stats: CorpusStats) -> Iterator[tuple[_Key, bytes]]:
        assert self.location is not None
        for rank, split_folder, group in self._wanted():
            folder = self.location / split_folder / group
            try:
                names = sorted(
                    (n for n in os.listdir(folder) if not n.startswith(".")), key=_number_key
                )
            except FileNotFoundError:
                logger.warning("20 Newsgroups: %s is missing", _show(folder))
                continue
            except OSError as exc:
                raise CorpusError(
                    f"cannot read {_show(folder)}: {exc.strerror}", path=folder
                ) from None
            for name in names:
                path = folder / name
                if not path.is_file():
                    continue
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise CorpusError(
                        f"cannot read {_show(path)}: {exc.strerror}", path=path
                    ) from None
                stats.files_read += 1
                yield (rank, group, _number_key(name)), data

    def _from_bunch(self, stats: CorpusStats) -> Iterator[tuple[_Key, str]]:
        bunch = self._bunch
        wanted = set(self.categories)
        rank = {FOLDERS[s]: r for r, s in enumerate(self.splits)}
        keyed = []
        for index, filename in enumerate(bunch.filenames):
            parts = Path(str(filename)).parts[-3:]
            if len(parts) == 3 and parts[0] in rank and parts[1] in wanted:
                keyed.append(((rank[parts[0]], parts[1], _number_key(parts[2])), index))
        keyed.sort()
        for key, index in keyed:
            stats.files_read += 1
            yield key, bunch.data[index]
