"""CLI test helpers: invoke the Typer app in-process (stdout and stderr apart) or as a real subprocess."""

from __future__ import annotations

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
