"""Imports follow the data: the condition engine knows no fields, the library never loads typer or boto3."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(import_stmt: str) -> set[str]:
    code = f"import sys; {import_stmt}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_condition_engine_does_not_know_fields_or_cli():
    mods = _loaded_after("import eksaudit.condition")
    assert "eksaudit.fields" not in mods
    assert "typer" not in mods
    assert "boto3" not in mods


def test_library_does_not_load_typer_or_boto3():
    mods = _loaded_after("import eksaudit.fields, eksaudit.events, eksaudit.rules, eksaudit.pipeline")
    assert "typer" not in mods
    assert "boto3" not in mods


def test_public_api_is_lazy_and_complete():
    mods = _loaded_after("import eksaudit")
    assert not {"typer", "boto3", "orjson", "eksaudit.fields"} & mods
    code = "import eksaudit; print(all(callable(getattr(eksaudit, n)) for n in eksaudit.__all__))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_sigma_is_library_and_loaded_only_for_sigma_rules():
    mods = _loaded_after("import eksaudit.sigma")
    assert not {"typer", "boto3", "eksaudit.fields", "eksaudit.cli"} & mods
    assert "eksaudit.sigma" not in _loaded_after("import eksaudit.rules")


def test_the_tail_algorithm_and_its_clock_know_no_aws():
    mods = _loaded_after("import eksaudit.cloudwatch.tail, eksaudit.cloudwatch.clock")
    assert not {"boto3", "botocore", "eksaudit.cloudwatch.client", "eksaudit.cloudwatch.watch"} & mods
