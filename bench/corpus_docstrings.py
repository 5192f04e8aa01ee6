"""A second benchmark corpus, made on this machine: the docstrings of installed Python code.

    .venv/bin/python bench/corpus_docstrings.py [--out bench/results/docstrings.jsonl]

Each document is the docstring (``inspect.getdoc``) of a public module, class, function or
method of a fixed list of packages: a part of the Python standard library and numpy, scipy,
pandas and scikit-learn as installed. Its label is the package it belongs to (``email``,
``asyncio``, ``numpy.linalg``, ``scipy.stats``, ``sklearn.cluster``, ...), for NMI. Only
docstrings of at least 40 words are kept, each text once (the first name in sorted order
keeps it). Everything is sorted, so the same installed versions give the same corpus; the
versions are written in the file's first line.

Docstrings are a hard case for the token rules: numpydoc sections repeat the same lines in
thousands of documents (``Parameters``, ``----------``, ``>>> import numpy as np``), and
code, numbers and identifiers are everywhere.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import platform
import sys
import warnings
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_OUT = RESULTS / "docstrings.jsonl"
MIN_WORDS = 40

# (package, how many dotted parts of a module's name make its label)
ROOTS = [
    ("asyncio", 1), ("collections", 1), ("concurrent", 1), ("csv", 1), ("ctypes", 1),
    ("datetime", 1), ("decimal", 1), ("email", 1), ("ftplib", 1), ("functools", 1),
    ("http", 1), ("imaplib", 1), ("importlib", 1), ("json", 1), ("logging", 1),
    ("mailbox", 1), ("multiprocessing", 1), ("os", 1), ("pathlib", 1), ("pickle", 1),
    ("re", 1), ("shutil", 1), ("smtplib", 1), ("socket", 1), ("sqlite3", 1), ("ssl", 1),
    ("statistics", 1), ("subprocess", 1), ("tarfile", 1), ("threading", 1), ("typing", 1),
    ("unittest", 1), ("urllib", 1), ("xml", 1), ("zipfile", 1), ("argparse", 1),
    ("numpy", 2), ("scipy", 2), ("pandas", 1), ("sklearn", 2),
]  # fmt: skip
SKIP_PARTS = {"tests", "test", "testing", "_testing", "conftest", "setup", "__main__"}


def modules(root: str) -> list[object]:
    """The root package and its public submodules that import cleanly."""
    out = []
    top = importlib.import_module(root)
    out.append(top)
    path = getattr(top, "__path__", None)
    if path is None:
        return out
    for info in pkgutil.walk_packages(path, prefix=root + "."):
        parts = info.name.split(".")
        if any(p.startswith("_") or p in SKIP_PARTS for p in parts[1:]):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(importlib.import_module(info.name))
        except Exception:  # optional dependencies, platform modules
            continue
    return out


def docstrings(module: object, depth: int) -> dict[str, tuple[str, str]]:
    """name -> (label, docstring) for the module and its public members (also those
    defined in a private module of the same package and made public here)."""
    name = module.__name__  # type: ignore[attr-defined]
    label = ".".join(name.split(".")[:depth])
    root = name.split(".")[0]
    found: dict[str, tuple[str, str]] = {}

    def add(qualname: str, obj: object) -> None:
        doc = inspect.getdoc(obj)
        if doc and len(doc.split()) >= MIN_WORDS:
            found[qualname] = (label, doc)

    add(name, module)
    for attr, obj in sorted(vars(module).items()):
        if attr.startswith("_"):
            continue
        home = getattr(obj, "__module__", None) or ""
        if home != root and not home.startswith(root + "."):
            continue  # from another package: counted there
        if inspect.isclass(obj):
            add(f"{name}.{attr}", obj)
            for meth, member in sorted(vars(obj).items()):
                if not meth.startswith("_") and callable(member):
                    add(f"{name}.{attr}.{meth}", member)
        elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
            add(f"{name}.{attr}", obj)
    return found


def build() -> tuple[dict[str, str], list[dict[str, str]]]:
    found: dict[str, tuple[str, str]] = {}
    for root, depth in ROOTS:
        for module in modules(root):
            found.update(docstrings(module, depth))
    seen: set[str] = set()
    docs = []
    for name in sorted(found):
        label, text = found[name]
        if text in seen:
            continue
        seen.add(text)
        docs.append({"id": name, "label": label, "text": text})
    versions = {"python": platform.python_version()}
    for pkg in ("numpy", "scipy", "pandas", "sklearn"):
        versions[pkg] = getattr(sys.modules.get(pkg), "__version__", "?")
    return versions, docs


def load(path: Path = DEFAULT_OUT) -> list[dict[str, str]]:
    """The corpus (built and written first if ``path`` does not exist)."""
    if not path.exists():
        write(path)
    with path.open(encoding="utf-8") as fh:
        fh.readline()  # versions
        return [json.loads(line) for line in fh]


def write(path: Path) -> None:
    versions, docs = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"versions": versions}) + "\n")
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    tmp.replace(path)
    labels = len({d["label"] for d in docs})
    print(f"{len(docs):,} docstrings, {labels} labels, {versions} -> {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    write(parser.parse_args().out)


if __name__ == "__main__":
    main()
