"""`eksaudit --version` / `-V`: the installed version, and the package's fallback agrees with it."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest
from support.cli import run_eksaudit

import eksaudit
from eksaudit.cli import app as app_module

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_name_and_version(cli, flag):
    r = cli(flag)
    assert r.exit_code == 0
    assert r.stdout == f"eksaudit {version('eksaudit')}\n"


def test_version_as_a_real_process():
    p = run_eksaudit("--version")
    assert p.returncode == 0 and p.stdout.decode() == f"eksaudit {version('eksaudit')}\n"


def test_fallback_when_not_installed_is_the_project_version(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    project = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert app_module.package_version() == eksaudit.__version__ == project
