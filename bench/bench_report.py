"""The report on 20 Newsgroups (train, k = 20, 5 documents per topic): size, first paint.

    python bench/bench_report.py            # fits once, then 5 page loads in Chromium

Prints the HTML file's size and the median first-contentful-paint of the loads in Debian's
chromium (driven by Playwright), and the time and peak memory of `topicnmf docs` over the
corpus with computed weights (streamed: memory should not grow with the corpus).
The budget in the issue: under 5 MB, first paint under 1 s.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARCHIVE  # noqa: E402

TOPICNMF = [sys.executable, "-m", "topicnmf"]


def run(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([*TOPICNMF, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def first_paint(page: Path, loads: int = 5) -> list[float]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(loads):
            tab = browser.new_page()
            tab.goto(page.as_uri())
            tab.wait_for_function(
                "() => performance.getEntriesByName('first-contentful-paint').length > 0"
            )
            out.append(
                tab.evaluate(
                    "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
                )
            )
            tab.close()
        browser.close()
    return out


def main() -> None:
    if not ARCHIVE.exists():
        sys.exit(f"needs {ARCHIVE}")
    home = str(ARCHIVE.parent)
    with tempfile.TemporaryDirectory() as tmp:
        model, page = Path(tmp) / "ng.npz", Path(tmp) / "ng.html"
        corpus = ["20newsgroups:train", "--data-home", home]
        seconds = run("fit", *corpus, "-k", "20", "-m", str(model), "-q", "--save-doc-topics")
        print(f"fit k=20 with stored doc-topics: {seconds:.1f} s")
        seconds = run("report", "-m", str(model), *corpus, "-o", str(page), "-q")
        size = page.stat().st_size
        print(f"report (stored weights, 5 docs/topic): {size / 1e6:.3f} MB in {seconds:.1f} s")
        seconds = run("report", "-m", str(model), *corpus, "-o", str(page), "-q", "--no-text")
        print(f"report --no-text: {page.stat().st_size / 1e6:.3f} MB in {seconds:.1f} s")
        run("report", "-m", str(model), *corpus, "-o", str(page), "-q")
        paints = first_paint(page)
        print(f"first contentful paint: median {statistics.median(paints):.0f} ms "
              f"(loads: {', '.join(f'{x:.0f}' for x in paints)})")  # fmt: skip
        docs = subprocess.run(
            [sys.executable, "-c", _DOCS_PEAK, str(model), home], check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        print(json.loads(docs.stdout)["line"])


# peak RSS of one `docs` run that solves every document's weights (stored ones ignored)
_DOCS_PEAK = """
import json, resource, sys, time
from topicnmf import load_corpus
from topicnmf.explore import representative_documents
from topicnmf.model import TopicModel
m = TopicModel.load(sys.argv[1])
corpus = load_corpus(["20newsgroups:train"], data_home=sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
r = representative_documents(m, lambda: corpus.iter_batches(4096), use_stored=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"line": f"docs over {r.n_documents} documents (computed weights): "
    f"{time.perf_counter() - t0:.1f} s, peak RSS {peak / 1024:.0f} MB "
    f"({(peak - base) / 1024:.0f} MB above the loaded model)"}))
"""

if __name__ == "__main__":
    main()
