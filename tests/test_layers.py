"""The library does not speak CLI: only topicnmf/cli imports click or rich, and no library
message or docstring names a command-line option."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "topicnmf"
LIBRARY = sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts)
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def _rel(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


@pytest.mark.parametrize("path", LIBRARY, ids=_rel)
def test_library_modules_do_not_import_click_or_rich(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in ("click", "rich"), f"{_rel(path)} imports {name}"


@pytest.mark.parametrize("path", LIBRARY, ids=_rel)
def test_library_text_never_names_a_command_line_option(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += FLAG.findall(node.value)
    assert not found, f"{_rel(path)} names options {sorted(set(found))}; use error fields"
