"""Metadata of documents as pandas objects: collect it, parse times, bin them.

Values that are missing or do not parse are never dropped silently: every function that
leaves documents out returns a :class:`ValueReport` that counts them and names the first
few places they were read (``data.csv line 7``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from topicnmf.errors import CorpusError, ParameterError

if TYPE_CHECKING:
    import pandas as pd

CALENDAR_BINS: dict[str, str] = {
    "year": "Y",
    "quarter": "Q",
    "month": "M",
    "week": "W-SUN",
    "day": "D",
}
"""Calendar bin names and the pandas period frequency of each (weeks end on Sunday)."""

EXAMPLES = 5
"""How many places a :class:`ValueReport` names."""

_YEAR = re.compile(r"[+-]?\d{1,4}(\.0*)?")


@dataclass
class ValueReport:
    """Documents left out because a metadata value is missing or unusable.

    Attributes
    ----------
    column : str
        The metadata column.
    n_documents : int
        Documents looked at.
    n_missing : int
        Documents without a value.
    n_invalid : int
        Documents whose value could not be used (e.g. not a date).
    examples : list of str
        The first few places (where the document was read, and the value).
    """

    column: str
    n_documents: int = 0
    n_missing: int = 0
    n_invalid: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def n_left_out(self) -> int:
        """Documents left out (missing plus invalid)."""
        return self.n_missing + self.n_invalid

    def message(self, what: str = "value") -> str:
        """One line for the user, e.g. "2 of 40 documents have no usable date in 'day'..."."""
        n = self.n_left_out
        verb = "has" if n == 1 else "have"
        parts = []
        if self.n_missing:
            parts.append(f"{self.n_missing:,} missing")
        if self.n_invalid:
            parts.append(f"{self.n_invalid:,} unparseable")
        more = ", ..." if n > len(self.examples) else ""
        return (
            f"{n:,} of {self.n_documents:,} documents {verb} no usable {what} in column "
            f"{self.column!r} ({' and '.join(parts)}: {'; '.join(self.examples)}{more}); "
            "they are left out"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {
            "column": self.column,
            "n_documents": self.n_documents,
            "n_missing": self.n_missing,
            "n_invalid": self.n_invalid,
            "examples": list(self.examples),
        }


#: the frame columns of :func:`collect` that are not metadata (a NUL cannot be in a header)
ID_COLUMN = "\x00id"
WHERE_COLUMN = "\x00where"


def collect(documents: Iterable[Any], columns: Iterable[str]) -> tuple[list[str], pd.DataFrame]:
    """Read documents once: their texts, and their metadata as a DataFrame.

    Parameters
    ----------
    documents : iterable of Document
        A corpus opened with these ``metadata_columns`` (documents without metadata get
        missing values; a document's ``label`` stands for a column named ``label``).
    columns : iterable of str
        The metadata columns wanted.

    Returns
    -------
    texts : list of str
    frame : pandas.DataFrame
        Columns :data:`ID_COLUMN` (the document id), :data:`WHERE_COLUMN` (where each
        document was read, or its id) and one column of text (None when missing) per
        metadata column, one row per document in corpus order. The first two have names
        no header can hold, so a metadata column may be called ``id`` or ``where``.
    """
    import pandas as pd

    names = list(dict.fromkeys(columns))
    texts: list[str] = []
    rows: dict[str, list[Any]] = {ID_COLUMN: [], WHERE_COLUMN: [], **{c: [] for c in names}}
    for doc in documents:
        texts.append(doc.text)
        rows[ID_COLUMN].append(doc.id)
        rows[WHERE_COLUMN].append(doc.where or doc.id)
        meta = doc.metadata or {}
        for c in names:
            value = meta.get(c)
            if value is None and c == "label":
                value = doc.label
            rows[c].append(value)
    return texts, pd.DataFrame(rows, dtype=object)


def _report(column: str, values: pd.Series, where: pd.Series, ok: np.ndarray) -> ValueReport:
    missing = values.isna().to_numpy() | values.map(lambda v: isinstance(v, str) and not v.strip())
    missing = np.asarray(missing, dtype=bool)
    invalid = ~ok & ~missing
    report = ValueReport(column, len(values), int(missing.sum()), int(invalid.sum()))
    for i in np.flatnonzero(~ok)[:EXAMPLES]:
        shown = "empty" if missing[i] else repr(values.iloc[i])
        report.examples.append(f"{where.iloc[i]} ({shown})")
    return report


def check_some(report: ValueReport, what: str) -> None:
    """Raise when no document has a usable value (nothing would be left to compute)."""
    if report.n_left_out == report.n_documents:
        raise CorpusError(
            f"no document has a usable {what} in column {report.column!r} "
            f"({'; '.join(report.examples)}, ...)",
            param="metadata_columns",
            value=report.column,
        )


def parse_times(
    values: pd.Series,
    where: pd.Series | None = None,
    *,
    column: str = "time",
    time_format: str | None = None,
) -> tuple[pd.Series, ValueReport]:
    """Parse time values: ISO 8601 dates or datetimes, or whole years (``2021``).

    Parameters
    ----------
    values : pandas.Series of str or None
        Raw values, as read.
    where : pandas.Series of str, optional
        Where each value was read, for the report (default: the position).
    column : str
        The column's name, for the report.
    time_format : str, optional
        A ``strftime`` format (``%d/%m/%Y``) for values that are neither ISO 8601 nor
        years.

    Returns
    -------
    times : pandas.Series of datetime64[ns]
        NaT where the value is missing or does not parse. Times with a UTC offset are
        converted to UTC and stored without a zone.
    report : ValueReport
        What was left out and where.
    """
    import pandas as pd

    if where is None:
        where = pd.Series([f"document {i + 1}" for i in range(len(values))], dtype=object)
    text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    present = text.map(lambda v: isinstance(v, str) and bool(v)).to_numpy(dtype=bool)
    times = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    given = text[present]
    if len(given):
        years = given.map(lambda v: _YEAR.fullmatch(v) is not None).to_numpy(dtype=bool)
        if time_format is None and years.all():
            numbers = given.map(lambda v: int(float(v))).to_numpy()
            good = (numbers >= 1) & (numbers <= 9999)
            parsed = pd.to_datetime(
                pd.Series(np.where(good, numbers, 1970), index=given.index).map(
                    lambda y: f"{y:04d}-01-01"
                ),
                format="%Y-%m-%d",
            )
            parsed[~good] = pd.NaT
        else:
            parsed = _to_datetime(given, time_format)
        times[given.index] = _within_range(parsed)
    ok = times.notna().to_numpy()
    return times, _report(column, values, where, ok)


def _within_range(parsed: pd.Series) -> np.ndarray:
    """The times as datetime64[ns], those outside its range (1677-09-22 to 2262-04-11) as
    NaT: they would wrap around silently, so they count as unusable, not as other years."""
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    micro = parsed.to_numpy(dtype="datetime64[us]")
    lo, hi = np.datetime64("1677-09-22", "us"), np.datetime64("2262-04-11", "us")
    inside = ~np.isnat(micro) & (micro >= lo) & (micro < hi)
    out = np.full(len(micro), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[inside] = micro[inside].astype("datetime64[ns]")
    return out


def _to_datetime(values: pd.Series, time_format: str | None) -> pd.Series:
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(
                values, format=time_format or "ISO8601", errors="coerce", utc=True
            )
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"the time format {time_format!r} is not usable ({exc})",
            param="time_format",
            value=time_format,
        ) from None
    return parsed.dt.tz_convert(None)


def parse_bins(spec: str | int) -> str | int:
    """A bin setting: a calendar unit (``year``... ``day``) or a count of equal spans.

    Raises
    ------
    ParameterError
        Neither a unit nor a whole number from 1 to 10,000 (``param="bins"``).
    """
    text = str(spec).strip().lower()
    if text in CALENDAR_BINS:
        return text
    if text.isdigit() and 1 <= int(text) <= 10_000:
        return int(text)
    raise ParameterError(
        f"unknown time bins {spec!r}; use one of {', '.join(CALENDAR_BINS)}, or a number of "
        "equal spans such as 12",
        param="bins",
        value=spec,
        choices=tuple(CALENDAR_BINS),
    )


def assign_bins(times: pd.Series, bins: str | int) -> tuple[np.ndarray, pd.DataFrame]:
    """Put each time into a bin; every bin from the first time to the last is kept.

    Parameters
    ----------
    times : pandas.Series of datetime64
        No NaT (leave those out first).
    bins : str or int
        A calendar unit (``year``, ``quarter``, ``month``, ``week``, ``day``), or a number
        of equal spans between the first and the last time.

    Returns
    -------
    index : numpy.ndarray of int64
        Each time's bin.
    edges : pandas.DataFrame
        One row per bin, in time order: ``bin_start`` and ``bin_end`` (exclusive, except
        the last of equal spans, which holds the last time).
    """
    import pandas as pd

    bins = parse_bins(bins)
    if len(times) == 0:
        raise ParameterError("no times to put into bins", param="bins")
    if isinstance(bins, str):
        periods = times.dt.to_period(CALENDAR_BINS[bins])
        first, last = periods.min(), periods.max()
        span = pd.period_range(first, last, freq=first.freq)
        index = np.asarray([p.ordinal - first.ordinal for p in periods], dtype=np.int64)
        edges = pd.DataFrame(
            {
                "bin_start": [p.start_time.normalize() for p in span],
                "bin_end": [(p + 1).start_time.normalize() for p in span],
            }
        )
        return index, edges
    ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    lo, hi = int(ns.min()), int(ns.max())
    width = max(1, -(-(hi - lo) // bins))  # ceiling, so the last time falls in the last span
    index = np.minimum((ns - lo) // width, bins - 1).astype(np.int64)
    starts = lo + width * np.arange(bins, dtype=np.int64)
    edges = pd.DataFrame(
        {
            "bin_start": pd.to_datetime(starts),
            "bin_end": pd.to_datetime(np.append(starts[1:], max(hi, starts[-1] + width))),
        }
    )
    return index, edges


def clean_groups(values: pd.Series, where: pd.Series, column: str) -> tuple[pd.Series, ValueReport]:
    """Group values as text, surrounding white space removed; missing or blank: None.

    Returns
    -------
    groups : pandas.Series of str or None
    report : ValueReport
        The documents without a group.
    """
    text = values.map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None)
    ok = text.notna().to_numpy()
    return text, _report(column, values, where, ok)
