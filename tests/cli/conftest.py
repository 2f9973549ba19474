"""CLI test helpers: invoke the Typer app in-process (stdout and stderr apart) or as a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksaudit.cli.app import app

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def small_log() -> Path:
    return DATA / "small-audit.jsonl"


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, list(args), input=input, prog_name="eksaudit")

    return invoke


def run_eksaudit(*args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the installed program as a user would (a real process, real pipes)."""
    return subprocess.run(
        [sys.executable, "-m", "eksaudit", *args], input=input, capture_output=True, timeout=timeout
    )
