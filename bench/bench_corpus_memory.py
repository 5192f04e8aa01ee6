"""Peak memory of the corpus loaders on large inputs, and the speed of 20 Newsgroups reading.

Each measurement runs in a fresh subprocess that reads the whole corpus through
``topicnmf.corpus.load_corpus`` and reports its peak resident set size (``VmHWM``
from ``/proc/self/status`` on Linux, else ``resource.getrusage``). The inputs are
generated in a temporary folder and deleted afterwards:

* a directory of 100,000 small files (one folder);
* a CSV of about 1 GB (1,000,000 rows of about 1 kB);
* a 200 MB single line in a .txt file, and a CSV with one 100 MB field;
* a JSON array of about 220 MB (200,000 objects of about 1 kB), and a JSON array
  with one 100 MB string element.

With ``--newsgroups`` (default on when the archive exists) it also times reading
and cleaning the 20 Newsgroups train split in a fresh process: from the archive with
the cache off, on a first run (which extracts the archive into an empty cache
folder) and on later runs (from the extracted copy); against scikit-learn's
``fetch_20newsgroups(subset="train", remove=(...))`` from its own cache, and the
cleaning functions alone.

Usage::

    python bench/bench_corpus_memory.py            # everything, a few minutes
    python bench/bench_corpus_memory.py --only line --no-newsgroups
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEWS_ARCHIVE = ROOT.parent / "shared" / "data" / "20news-bydate.tar.gz"

CHILD = r"""
import json, resource, sys, time
start = time.perf_counter()
from topicnmf.corpus import load_corpus
kind, source = sys.argv[1], sys.argv[2:]
docs = chars = 0
if kind != "baseline":
    for doc in load_corpus(source):
        docs += 1
        chars += len(doc.text)
        del doc
seconds = time.perf_counter() - start
try:
    # VmHWM belongs to this process image only; ru_maxrss on Linux also counts the
    # parent's memory copied by fork before exec
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there, kilobytes on Linux
        peak //= 1024
print(json.dumps({"docs": docs, "chars": chars, "seconds": seconds, "peak_kb": peak}))
"""

WORDS = (
    "topic model matrix factorization document corpus term weight frequency vector "
    "space rocket orbit planet chef bread oven team goal match player market price bank "
    "the and of to in a is that for it as was with be by on not he this are or his from"
).split()


def measure(kind: str, *source: str, env_extra: dict | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, *source],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout)


def sentence(rng: random.Random, n_chars: int) -> str:
    words = []
    size = 0
    while size < n_chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def make_small_files(folder: Path, n: int) -> Path:
    rng = random.Random(0)
    texts = [sentence(rng, 200) for _ in range(1000)]
    folder.mkdir()
    for i in range(n):
        (folder / f"doc{i:06d}.txt").write_text(texts[i % 1000])
    return folder


def make_csv(path: Path, rows: int, chars: int) -> Path:
    rng = random.Random(1)
    pool = [sentence(rng, chars).replace(",", "") for _ in range(997)]
    with path.open("w", encoding="utf-8") as out:
        out.write("id,text\n")
        block = []
        for i in range(rows):
            block.append(f"r{i},{pool[i % 997]}\n")
            if len(block) == 10_000:
                out.write("".join(block))
                block = []
        out.write("".join(block))
    return path


def make_long_line(path: Path, n_bytes: int, csv_field: bool) -> Path:
    chunk = ("word " * 200_000).encode()  # 1 MB
    with path.open("wb") as out:
        if csv_field:
            out.write(b'text\n"')
        for _ in range(n_bytes // len(chunk)):
            out.write(chunk)
        out.write(b'"\n' if csv_field else b"\n")
    return path


def make_json_array(path: Path, rows: int, chars: int) -> Path:
    rng = random.Random(2)
    pool = [sentence(rng, chars) for _ in range(997)]
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i in range(rows):
            record = {"id": f"r{i}", "text": pool[i % 997], "meta": {"n": i, "tags": ["a"]}}
            out.write(json.dumps(record) + (",\n" if i < rows - 1 else "\n"))
        out.write("]\n")
    return path


def make_json_element(path: Path, n_bytes: int) -> Path:
    chunk = ("word " * 200_000).encode()  # 1 MB
    with path.open("wb") as out:
        out.write(b'["short", "')
        for _ in range(n_bytes // len(chunk)):
            out.write(chunk)
        out.write(b'"]\n')
    return path


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_memory(work: Path, only: set[str] | None) -> list[dict]:
    cases = [
        (
            "dir_100k",
            "directory of 100,000 small files",
            lambda: make_small_files(work / "many", 100_000),
        ),
        (
            "csv_1gb",
            "CSV of ~1 GB (1M rows x ~1 kB)",
            lambda: make_csv(work / "big.csv", 1_000_000, 1000),
        ),
        (
            "line",
            "200 MB single line (.txt)",
            lambda: make_long_line(work / "line.txt", 200 << 20, csv_field=False),
        ),
        (
            "csv_field",
            "CSV with one 100 MB field",
            lambda: make_long_line(work / "field.csv", 100 << 20, csv_field=True),
        ),
        (
            "json",
            "JSON array ~220 MB (200k x ~1 kB)",
            lambda: make_json_array(work / "big.json", 200_000, 1000),
        ),
        (
            "json_element",
            "JSON array, one 100 MB element",
            lambda: make_json_element(work / "element.json", 100 << 20),
        ),
    ]
    base = measure("baseline")
    print(f"baseline (python + topicnmf.corpus imported): {base['peak_kb'] / 1024:.1f} MB")
    results = []
    for key, label, make in cases:
        if only and key not in only:
            continue
        t0 = time.perf_counter()
        source = make()
        made = time.perf_counter() - t0
        size = dir_size(source)
        res = measure(key, str(source))
        res.update(
            case=key,
            label=label,
            input_mb=size / 2**20,
            peak_mb=res["peak_kb"] / 1024,
            above_baseline_mb=(res["peak_kb"] - base["peak_kb"]) / 1024,
            generate_seconds=made,
        )
        results.append(res)
        print(
            f"{label:38s} input {res['input_mb']:8.1f} MB  docs {res['docs']:>9,}  "
            f"read {res['seconds']:6.1f} s  peak RSS {res['peak_mb']:7.1f} MB "
            f"({res['above_baseline_mb']:+.1f} MB over baseline)",
            flush=True,
        )
        if source.is_dir():
            shutil.rmtree(source)
        else:
            source.unlink()
    return results


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_newsgroups(work: Path, repeats: int) -> dict:
    """Time train read+clean: topicnmf (from the tar.gz) vs scikit-learn (from its cache)."""
    from sklearn.datasets import fetch_20newsgroups
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )

    sys.path.insert(0, str(ROOT))
    from topicnmf.corpus import load_corpus, strip_newsgroup

    remove = ("headers", "footers", "quotes")

    def ours() -> int:
        return sum(1 for _ in load_corpus(["20newsgroups"], data_home=NEWS_ARCHIVE.parent))

    def fresh_process(cache: str) -> float:
        # a fresh process, as the command line reads it: imports, reading, cleaning
        res = measure("newsgroups", "20newsgroups", env_extra={"TOPICNMF_CACHE_DIR": cache,
                      "TOPICNMF_DATA_HOME": str(NEWS_ARCHIVE.parent)})  # fmt: skip
        assert res["docs"] == 11314
        return res["seconds"]

    # scikit-learn reads its own zlib-compressed pickle cache; common.py builds it without
    # network from the same archive, laid out as fetch_20newsgroups would leave it
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import _sklearn_data_home

    home = _sklearn_data_home(work / "sk_home")
    shutil.rmtree(home / "20news_home")
    raw_train = fetch_20newsgroups(
        data_home=str(home), subset="train", download_if_missing=False
    ).data

    def sklearn_fetch() -> int:
        bunch = fetch_20newsgroups(
            data_home=str(home), subset="train", remove=remove, download_if_missing=False
        )
        return len(bunch.data)

    def sklearn_strip() -> None:
        out = [strip_newsgroup_header(t) for t in raw_train]
        out = [strip_newsgroup_footer(t) for t in out]
        out = [strip_newsgroup_quoting(t) for t in out]

    def our_strip() -> None:
        for t in raw_train:
            strip_newsgroup(t, remove)

    assert ours() == sklearn_fetch() == 11314
    firsts = []
    for i in range(repeats):
        firsts.append(fresh_process(str(work / f"cache{i}")))  # an empty cache folder each time
    res = {
        "process_no_cache_s": min(fresh_process("none") for _ in range(repeats)),
        "process_first_run_s": min(firsts),
        "process_first_run_max_s": max(firsts),
        "process_cached_s": min(fresh_process(str(work / "cache0")) for _ in range(repeats)),
        "topicnmf_read_clean_s": best_of(repeats, ours),
        "sklearn_fetch_s": best_of(repeats, sklearn_fetch),
        "topicnmf_clean_only_s": best_of(repeats, our_strip),
        "sklearn_clean_only_s": best_of(repeats, sklearn_strip),
    }
    print(
        f"20NG train read+clean in a fresh process (imports included, best of {repeats}): "
        f"no cache {res['process_no_cache_s']:.2f} s, first run {res['process_first_run_s']:.2f} s "
        f"(worst {res['process_first_run_max_s']:.2f} s: it extracts the archive), "
        f"later runs {res['process_cached_s']:.2f} s"
    )
    print(
        f"20NG train read+clean: topicnmf {res['topicnmf_read_clean_s']:.2f} s (in-process) vs "
        f"scikit-learn fetch_20newsgroups {res['sklearn_fetch_s']:.2f} s (its cache); "
        f"cleaning alone {res['topicnmf_clean_only_s']:.2f} s vs "
        f"{res['sklearn_clean_only_s']:.2f} s (best of {repeats})"
    )
    shutil.rmtree(home)
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="comma-separated cases: dir_100k,csv_1gb,line,csv_field,json,json_element"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory cases")
    parser.add_argument("--no-newsgroups", action="store_true", help="skip the 20NG timing")
    parser.add_argument("--repeats", type=int, default=5, help="20NG timing: best of N")
    parser.add_argument("--tmp", help="folder for the generated inputs (default: system temp)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="topicnmf-bench-", dir=args.tmp))
    results: dict = {}
    try:
        if not args.no_memory:
            only = set(args.only.split(",")) if args.only else None
            results["memory"] = run_memory(work, only)
        if not args.no_newsgroups:
            if NEWS_ARCHIVE.is_file():
                results["newsgroups"] = run_newsgroups(work, args.repeats)
            else:
                print(f"20NG timing skipped: {NEWS_ARCHIVE} not found")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
