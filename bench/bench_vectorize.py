"""Benchmark topicnmf's Vectorizer against scikit-learn's TfidfVectorizer on 20 Newsgroups.

    .venv/bin/python bench/bench_vectorize.py [--repeats 5] [--against REV]
    .venv/bin/python bench/bench_vectorize.py --memory 200 [--against REV]

Speed (the default): reads the train and test messages of
``../shared/data/20news-bydate.tar.gz`` once, cleaned as
``fetch_20newsgroups(remove=("headers", "footers", "quotes"))`` cleans them (with
scikit-learn's own strip functions), then times, taking turns so that every contender sees
the same machine load:

* ``fit_transform`` of the train texts (11,314),
* ``transform`` of the test texts (7,532) with the fitted vocabulary,

with ``TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")``, the equal
``VectorizerConfig.sklearn_compatible()``, and the tool's defaults ``VectorizerConfig()``
(another vocabulary: the token rules).  Prints medians (wall and CPU time), the speed-ups,
and checks that the compatible contenders give scikit-learn's vocabulary, idf and matrices.

``--against REV`` adds the Vectorizer of git revision REV of this repository (loaded from
``git archive`` beside the working tree's, under another module name), so a change is
measured before and after in one run.  ``--against-jobs N`` passes ``n_jobs=N`` to it.

Memory (``--memory MB``): the peak resident memory of ``fit_transform`` on one document of
MB megabytes of words (a single line, as a corpus of one huge line gives; ``--token-pattern``
to use another pattern than scikit-learn's, e.g. one that takes the regex path, or
``word-rule`` for the tool's default tokenizer), measured in a fresh
child process per contender as the growth of the kernel's high-water mark (``VmHWM``) over
what the process held once the document was built.  Prints it as a multiple of the
document's size in characters.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT.parent / "shared" / "data" / "20news-bydate.tar.gz"
sys.path.insert(0, str(ROOT))

from topicnmf.vectorize import DEFAULT_TOKEN_PATTERN, Vectorizer, VectorizerConfig  # noqa: E402


def load_20ng(archive: Path) -> dict[str, list[str]]:
    """Train and test texts, in archive order, cleaned like ``fetch_20newsgroups``."""
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )

    texts: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            subset = "train" if "20news-bydate-train/" in member.name else "test"
            handle = tar.extractfile(member)
            assert handle is not None
            # scikit-learn decodes the messages as latin-1 and removes, in this order,
            # headers, footers and quoted replies
            text = handle.read().decode("latin-1")
            text = strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(text)))
            texts[subset].append((member.name, text))
    return {name: [t for _, t in sorted(items)] for name, items in texts.items()}


def vectorizer_at(rev: str) -> type:
    """The ``Vectorizer`` class of revision ``rev`` (a module file or a package).

    Its absolute imports (``topicnmf.config``, ...) resolve to the working tree, so the
    revision must agree with it on those.
    """
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "--", "topicnmf"],
        check=True,
        capture_output=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="bench-vectorize-"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    name = "topicnmf_at_" + "".join(c if c.isalnum() else "_" for c in rev)
    package = folder / "topicnmf" / "vectorize"
    if package.is_dir():
        spec = importlib.util.spec_from_file_location(
            name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, package.with_suffix(".py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.Vectorizer


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(args: argparse.Namespace) -> int:
    if not ARCHIVE.is_file():
        print(f"benchmark data not found: {ARCHIVE}", file=sys.stderr)
        return 1
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    data = load_20ng(ARCHIVE)
    train, test = data["train"], data["test"]
    print(
        f"20 Newsgroups: {len(train):,} train / {len(test):,} test texts, "
        f"{sum(map(len, train)) / 1e6:.1f} M / {sum(map(len, test)) / 1e6:.1f} M characters "
        f"(read in {time.perf_counter() - t0:.1f} s)"
    )

    makers: dict[str, Callable[[], Any]] = {
        "scikit-learn": lambda: TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english"),
        "topicnmf compatible": lambda: Vectorizer(VectorizerConfig.sklearn_compatible()),
        # the tool's defaults (word rule, numbers, boilerplate lines): another vocabulary,
        # timed only
        "topicnmf defaults": lambda: Vectorizer(VectorizerConfig()),
    }
    if args.against:
        old = vectorizer_at(args.against)
        label = f"topicnmf@{args.against}"
        if args.against_jobs is not None:
            label += f" (n_jobs={args.against_jobs})"
        # an older Vectorizer reads the settings it knows: scikit-learn's rules
        cfg = VectorizerConfig.sklearn_compatible()
        makers[label] = (
            (lambda: old(cfg))
            if args.against_jobs is None
            else (lambda: old(cfg, n_jobs=args.against_jobs))
        )

    # warm up every contender (imports, caches) and keep a fitted one for transform
    fitted = {name: make() for name, make in makers.items()}
    train_out = {name: v.fit_transform(train) for name, v in fitted.items()}
    steps: dict[str, dict[str, list[tuple[float, float]]]] = {
        "fit_transform(train)": {n: [] for n in makers},
        "transform(test)": {n: [] for n in makers},
    }
    for _ in range(args.repeats):
        for name, make in makers.items():
            steps["fit_transform(train)"][name].append(
                timed(lambda m=make: m().fit_transform(train))
            )
            steps["transform(test)"][name].append(timed(lambda v=fitted[name]: v.transform(test)))

    med = statistics.median
    print(f"\nmedians of {args.repeats} runs, contenders taking turns")
    print(f"{'step':<22} {'contender':<34} {'wall s':>7} {'CPU s':>7} {'speed-up':>9}")
    for step, by_name in steps.items():
        ref = med(w for w, _ in by_name["scikit-learn"])
        for name, times in by_name.items():
            wall = med(w for w, _ in times)
            cpu = med(c for _, c in times)
            print(f"{step:<22} {name:<34} {wall:>7.3f} {cpu:>7.3f} {ref / wall:>8.2f}x")

    sk = fitted.pop("scikit-learn")
    sk_train, sk_test = train_out.pop("scikit-learn"), sk.transform(test)
    ok = True
    fitted.pop("topicnmf defaults")
    for name, ours in fitted.items():
        same_vocab = list(sk.get_feature_names_out()) == ours.vocabulary
        idf_diff = float(np.max(np.abs(sk.idf_ - ours.idf))) if same_vocab else float("nan")
        train_diff = abs(sk_train - train_out[name]).max() if same_vocab else float("nan")
        test_diff = abs(sk_test - ours.transform(test)).max() if same_vocab else float("nan")
        print(
            f"check {name}: vocabulary {'equal' if same_vocab else 'DIFFERENT'} "
            f"({len(ours.vocabulary):,} terms), idf max |diff| {idf_diff:.1e}, "
            f"matrix max |diff| train {train_diff:.1e}, test {test_diff:.1e}"
        )
        ok = ok and same_vocab and idf_diff == 0.0 and train_diff < 1e-6 and test_diff < 1e-6
    return 0 if ok else 1


# ------------------------------------------------------------------------------- memory


def huge_document(megabytes: int, seed: int = 0) -> str:
    """One line of about ``megabytes`` million characters of made-up words.

    Eight different blocks of a megabyte, drawn from 50,000 words with Zipf-like
    frequencies, put together in a random order.
    """
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    lengths = rng.integers(2, 12, size=50_000)
    words = ["".join(rng.choice(letters, size=n)) for n in lengths.tolist()]
    weights = 1.0 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    blocks = []
    for _ in range(8):
        picks = rng.choice(len(words), size=170_000, p=weights)
        blocks.append(" ".join(words[i] for i in picks.tolist())[: 1 << 20] + " ")
    order = rng.integers(0, len(blocks), size=megabytes)
    return "".join(blocks[i] for i in order.tolist())


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(megabytes: int, rev: str | None, pattern: str | None) -> None:
    """Measure one contender in this (fresh) process; print a JSON line."""
    vectorizer = Vectorizer if rev is None else vectorizer_at(rev)
    doc = huge_document(megabytes)
    # reset the high-water mark to what the process holds now (the document included)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kib("VmRSS")
    t0 = time.perf_counter()
    # "word-rule": the tool's default tokenizer (token_pattern None)
    token_pattern = None if pattern == "word-rule" else pattern or DEFAULT_TOKEN_PATTERN
    config = VectorizerConfig(min_df=1, max_df=1.0, token_pattern=token_pattern)
    V = vectorizer(config).fit_transform([doc])
    seconds = time.perf_counter() - t0
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "chars": len(doc),
                "extra_bytes": (peak - before) * 1024,
                "seconds": seconds,
                "terms": V.shape[1],
            }
        )
    )


def memory(args: argparse.Namespace) -> int:
    contenders: list[tuple[str, list[str]]] = [("topicnmf", [])]
    if args.against:
        contenders.insert(0, (f"topicnmf@{args.against}", ["--against", args.against]))
    pattern = args.token_pattern or DEFAULT_TOKEN_PATTERN
    print(
        f"fit_transform of one document of {args.memory} MB of words "
        f"(min_df=1, max_df=1.0, token_pattern={pattern!r})"
    )
    print(f"{'contender':<26} {'peak above the document':>24} {'x document':>11} {'s':>6}")
    for name, extra in contenders:
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(args.memory), *extra]
            + (["--token-pattern", args.token_pattern] if args.token_pattern else []),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.splitlines()[-1])
        extra = r["extra_bytes"]
        print(
            f"{name:<26} {extra / 2**20:>20.0f} MiB {extra / r['chars']:>10.2f}x"
            f" {r['seconds']:>6.1f}"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    parser.add_argument("--against", metavar="REV", help="also time the Vectorizer of git REV")
    parser.add_argument("--against-jobs", type=int, help="n_jobs for the --against Vectorizer")
    parser.add_argument("--memory", type=int, metavar="MB", help="peak memory on one MB document")
    parser.add_argument("--token-pattern", help="token pattern of the --memory run")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child, args.against, args.token_pattern)
        return 0
    if args.memory is not None:
        return memory(args)
    return speed(args)


if __name__ == "__main__":
    raise SystemExit(main())
