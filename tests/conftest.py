"""Shared fixtures: small corpora built in tmp_path, a model fitted through the library."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Tests never download: without the archive, 20 Newsgroups must fail, not fetch.
os.environ["TOPICNMF_OFFLINE"] = "1"
# ... and never write to the user's cache folder; the archive-cache tests turn it on in tmp_path
os.environ["TOPICNMF_CACHE_DIR"] = "none"
# ... and never see the user's own data: no data home but the ones a test names
os.environ.pop("TOPICNMF_DATA_HOME", None)
os.environ.pop("TOPICNMF_MODEL", None)
os.environ["SCIKIT_LEARN_DATA"] = tempfile.mkdtemp(prefix="topicnmf-tests-sklearn-")
atexit.register(shutil.rmtree, os.environ["SCIKIT_LEARN_DATA"], True)

# Property tests are deterministic by default (the same examples on every run, nothing kept
# between runs); HYPOTHESIS_PROFILE=explore searches anew each time.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# the shared constants live in tests/helpers.py; these names stay for older imports
from tests.helpers import NEWS_ARCHIVE, NEWS_SKIP_REASON, ROOT, SAMPLES, SHARED_DATA  # noqa: E402,F401

THEMES = {
    "space": "the rocket launched a satellite into orbit around the planet as astronauts watched",
    "cooking": "the chef baked bread with flour butter and sugar in a hot oven for dinner",
    "sport": "the team scored a goal in the final match and the players celebrated the win",
}


def theme_texts(n_per_theme: int = 6) -> list[tuple[str, str]]:
    """Deterministic little documents on three themes, as (theme, text) pairs."""
    out = []
    for theme, base in THEMES.items():
        words = base.split()
        for i in range(n_per_theme):
            # rotate the words so the documents differ while keeping their theme
            rot = words[i % len(words) :] + words[: i % len(words)]
            out.append((theme, " ".join(rot[: len(rot) - (i % 3)])))
    return out


@pytest.fixture
def theme_dir(tmp_path: Path) -> Path:
    """A directory of .txt files, one document each, three themes."""
    d = tmp_path / "corpus"
    d.mkdir()
    for i, (theme, text) in enumerate(theme_texts()):
        (d / f"{theme}_{i:02d}.txt").write_text(text + "\n", encoding="utf-8")
    return d


@pytest.fixture
def theme_csv(tmp_path: Path) -> Path:
    import csv

    p = tmp_path / "docs.csv"
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["doc", "body", "theme"])
        for i, (theme, text) in enumerate(theme_texts()):
            w.writerow([f"d{i}", text, theme])
    return p


@pytest.fixture(scope="session")
def hobbies_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hobbies sample corpus fitted with k=4 through the library API (not the CLI)."""
    from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus

    out = fit(load_corpus([SAMPLES / "hobbies"]), VectorizerConfig(), NMFConfig(n_components=4))
    path = tmp_path_factory.mktemp("models") / "hobbies.npz"
    out.model.save(path)
    return path


@pytest.fixture
def news_archive() -> Path:
    if not NEWS_ARCHIVE.exists():
        pytest.skip(NEWS_SKIP_REASON)
    return NEWS_ARCHIVE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per reason for skipped tests ("12 tests skipped: ..."), not one per test."""
    from collections import Counter

    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    for reason, n in sorted(reasons.items()):
        terminalreporter.write_line(f"{n} test{'' if n == 1 else 's'} skipped: {reason}")
