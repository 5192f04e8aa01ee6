"""The documentation keeps up with the code: every command is documented and described."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from topicnmf.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def test_there_are_commands():
    assert {"fit", "topics", "assign", "info", "evaluate", "select-k", "compare"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    assert f"topicnmf {command}" in README
    assert re.search(rf"^### {re.escape(command)}$", README, re.MULTILINE), command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert cli.commands[command].help
    assert "Examples:" in result.stdout


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in README and "make test" in ci


def test_readme_python_example_runs_and_leaves_the_checkout_alone(tmp_path):
    """The Python API example works as printed, run from the checkout, and writes nothing there."""
    block = re.search(r"## Python API.*?```python\n(.*?)```", README, re.DOTALL)
    assert block, "the README has a Python API example"
    before = {p for p in ROOT.iterdir()}
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", block.group(1)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {p for p in ROOT.iterdir()} == before
    assert list(tmp_path.rglob("*.npz")), "the example saved its model under the temp folder"
