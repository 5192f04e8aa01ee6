"""Writers for the tool's tables: topics (top terms) and document-topic weights.

Machine formats only (CSV, TSV, JSON, JSONL); the readable terminal table is drawn by the CLI.
TSV is CSV with tabs. JSON text keeps non-ASCII characters as they are.
Numbers are written with six significant digits so that the same model gives the same bytes.

Topics, CSV (one row per topic and term, "long" form, easy to filter and pivot)::

    topic,label,share,rank,term,weight

Topics, JSON: a list of ``{"topic", "label", "share", "terms": [{"term", "weight"}]}``;
JSONL: one such object per line.

Document-topic weights, CSV::

    id,topic_0,...,topic_{k-1},dominant_topic,dominant_label,dominant_weight

or, with ``top_topics=N``::

    id,rank1_topic,rank1_label,rank1_weight,...,rankN_topic,rankN_label,rankN_weight

JSON/JSONL: ``{"id", "weights": [...], "dominant_topic", "dominant_label", "dominant_weight"}``
(or ``"top_topics": [{"topic", "label", "weight"}]``). A document with no known term has zero
weights and an empty (CSV) or null (JSON) dominant topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from topicnmf.errors import ParameterError

if TYPE_CHECKING:  # NumPy is loaded by whoever passes arrays in, not by this module
    import numpy as np


def num(x: float) -> float:
    """A float rounded to six significant digits (stable text, no noise digits)."""
    return float(f"{x:.6g}")


def _fmt(x: float) -> str:
    return f"{x:.6g}"


_SPECIAL = {",": frozenset(',"\r\n'), "\t": frozenset('\t"\r\n')}
DELIMITERS = {"csv": ",", "tsv": "\t"}


def csv_line(fields: Sequence[Any], delimiter: str = ",") -> str:
    """One CSV (or, with a tab delimiter, TSV) record: RFC 4180 quoting, "\\n" line end.

    Written by hand because the csv module, told to end lines with "\\n", leaves a lone
    carriage return in a field unquoted, which breaks every reader of the file. A TSV field
    holding a tab, quote or line break is quoted the same way (as spreadsheets read it).
    """
    special = _SPECIAL[delimiter]
    out = []
    for field in fields:
        text = str(field)
        if special.intersection(text) or text != text.strip(" "):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return delimiter.join(out) + "\n"


def json_text(obj: Any, *, indent: int | None = None) -> str:
    """JSON with non-ASCII text as is; a lone surrogate (from an undecodable file name)
    becomes its ``\\udcXX`` escape, so the text is valid and reads back exactly."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


# -- topics -------------------------------------------------------------------------------


def topic_records(model: Any, top: int) -> list[dict[str, Any]]:
    """One record per topic: id, label, share and its top terms with weights."""
    tops = model.top_terms(top)
    labels = model.topic_labels()
    return [
        {
            "topic": t,
            "label": labels[t],
            "share": num(float(model.topic_share[t])),
            "terms": [{"term": term, "weight": num(w)} for term, w in tops[t]],
        }
        for t in range(model.n_topics)
    ]


def write_topics(records: Sequence[dict[str, Any]], fh: IO[str], fmt: str) -> None:
    """Write topic records to an open text file in ``csv``, ``tsv``, ``json`` or ``jsonl``."""
    if fmt in DELIMITERS:
        sep = DELIMITERS[fmt]
        fh.write(csv_line(["topic", "label", "share", "rank", "term", "weight"], sep))
        for rec in records:
            for rank, term in enumerate(rec["terms"], start=1):
                row = [rec["topic"], rec["label"], _fmt(rec["share"]), rank, term["term"],
                       _fmt(term["weight"])]  # fmt: skip
                fh.write(csv_line(row, sep))
    elif fmt == "json":
        fh.write(json_text(list(records), indent=2) + "\n")
    elif fmt == "jsonl":
        for rec in records:
            fh.write(json_text(rec) + "\n")
    else:
        raise ParameterError(f"unknown output format {fmt!r}; use csv, tsv, json or jsonl")


def write_rows(
    header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, fh: IO[str], data: Any
) -> None:
    """A generic table: CSV/TSV from ``header`` and ``rows``; JSON from ``data``; JSONL
    from ``data`` when it is a list (one line per item), else one line."""
    if fmt in DELIMITERS:
        sep = DELIMITERS[fmt]
        fh.write(csv_line(header, sep))
        for row in rows:
            fh.write(csv_line(row, sep))
    elif fmt == "json":
        fh.write(json_text(data, indent=2) + "\n")
    elif fmt == "jsonl":
        for item in data if isinstance(data, list) else [data]:
            fh.write(json_text(item) + "\n")
    else:
        raise ParameterError(f"unknown output format {fmt!r}; use csv, tsv, json or jsonl")


# -- document-topic weights ---------------------------------------------------------------


class DocTopicWriter:
    """Streams document-topic rows to an open text file, batch by batch.

    Parameters
    ----------
    fh : text file
        Destination (stdout or an atomic temporary file).
    fmt : {"csv", "json", "jsonl"}
    labels : list of str
        One label per topic.
    top_topics : int, optional
        Write only the N strongest topics per document instead of every weight.
    """

    def __init__(self, fh: IO[str], fmt: str, labels: Sequence[str], top_topics: int | None):
        if fmt not in ("csv", "tsv", "json", "jsonl"):
            raise ParameterError(f"unknown output format {fmt!r}; use csv, tsv, json or jsonl")
        self.fh = fh
        self.fmt = fmt
        self.labels = list(labels)
        self.k = len(self.labels)
        self.top = min(top_topics, self.k) if top_topics else None
        self.rows = 0
        self._csv = fmt in DELIMITERS
        self._sep = DELIMITERS.get(fmt, ",")
        self._started = False

    def _start(self) -> None:
        # The header (or the opening bracket) is written with the first row, not before: a
        # corpus that fails before its first document leaves stdout empty.
        self._started = True
        fh = self.fh
        if self._csv:
            if self.top:
                header = ["id"]
                for r in range(1, self.top + 1):
                    header += [f"rank{r}_topic", f"rank{r}_label", f"rank{r}_weight"]
            else:
                header = ["id", *(f"topic_{t}" for t in range(self.k))]
                header += ["dominant_topic", "dominant_label", "dominant_weight"]
            fh.write(csv_line(header, self._sep))
        elif self.fmt == "json":
            fh.write("[")

    def _ranked(self, row: np.ndarray) -> list[int]:
        # strongest first; ties by topic index; zero weights are not "top topics"
        order = (-row).argsort(kind="stable")[: self.top]
        return [int(t) for t in order if row[t] > 0]

    def write(self, ids: Sequence[str], W: np.ndarray) -> None:
        """Write one batch: ``ids[i]`` has weights ``W[i]``."""
        if not self._started:
            self._start()
        if self._csv and not self.top:
            self._write_csv_weights(ids, W)
            return
        for doc_id, row in zip(ids, W, strict=True):
            if self._csv:
                self.fh.write(csv_line(self._csv_row(doc_id, row), self._sep))
            else:
                text = json_text(self._record(doc_id, row))
                if self.fmt == "json":
                    self.fh.write(("\n  " if self.rows == 0 else ",\n  ") + text)
                else:
                    self.fh.write(text + "\n")
            self.rows += 1

    def _write_csv_weights(self, ids: Sequence[str], W: np.ndarray) -> None:
        # The hot path of `assign`: format a whole batch at once with one %-template per
        # row ("%.6g" is the same text as _fmt) instead of a Python call per number.
        if len(ids) != len(W):
            raise ValueError(f"{len(ids)} ids for {len(W)} rows of weights")
        sep = self._sep
        template = sep.join(["%.6g"] * self.k)
        has = (W > 0).any(axis=1)
        best = W.argmax(axis=1)
        lines = []
        for doc_id, row, present, t in zip(
            ids, W.tolist(), has.tolist(), best.tolist(), strict=True
        ):
            if present:
                tail = f"{t}{sep}{csv_line([self.labels[t]], sep)[:-1]}{sep}{_fmt(row[t])}"
            else:
                tail = f"{sep}{sep}0"
            lines.append(f"{csv_line([doc_id], sep)[:-1]}{sep}{template % tuple(row)}{sep}{tail}\n")
        self.fh.write("".join(lines))
        self.rows += len(lines)

    def _csv_row(self, doc_id: str, row: np.ndarray) -> list[Any]:
        """A row of the N strongest topics: the id, then topic, label and weight for each rank."""
        out: list[Any] = [doc_id]
        ranked = self._ranked(row)
        for r in range(self.top or 0):
            if r < len(ranked):
                t = ranked[r]
                out += [t, self.labels[t], _fmt(row[t])]
            else:
                out += ["", "", ""]
        return out

    def _record(self, doc_id: str, row: np.ndarray) -> dict[str, Any]:
        if self.top:
            return {
                "id": doc_id,
                "top_topics": [
                    {"topic": t, "label": self.labels[t], "weight": num(row[t])}
                    for t in self._ranked(row)
                ],
            }
        has = bool((row > 0).any())
        t = int(row.argmax())
        return {
            "id": doc_id,
            "weights": [num(x) for x in row],
            "dominant_topic": t if has else None,
            "dominant_label": self.labels[t] if has else None,
            "dominant_weight": num(row[t]) if has else 0.0,
        }

    def close(self) -> None:
        """Finish the document (closes the JSON array); does not close the file."""
        if not self._started:
            self._start()
        if self.fmt == "json":
            self.fh.write("\n]\n" if self.rows else "]\n")
