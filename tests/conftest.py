"""Shared fixtures: where the external conformance material lives (skipped with a reason when absent),
and the local time zone set for one test."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.conformance import conformance_dir

__all__ = ["conformance_dir"]


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The conformance folder; tests that need it skip with a clear reason when it is missing."""
    d = conformance_dir()
    if d is None:
        pytest.skip("conformance data not found: set EKSAUDIT_CONFORMANCE_DIR or place it at ../shared/conformance")
    return d


@pytest.fixture
def zone() -> Iterator[Callable[[str], None]]:
    """`zone(name)` sets the local time zone (TZ and tzset) for the test; restored after it."""
    saved = os.environ.get("TZ")

    def use(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield use
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.fixture(scope="session", autouse=True)
def _rules_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Rules files read by tests are kept in a folder of the test run (rules/yamlcache.py), never in
    the user's cache; the commands tests start inherit it."""
    saved = os.environ.get("EKSAUDIT_CACHE_DIR")
    ours = os.environ["EKSAUDIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("eksaudit-cache"))
    yield
    left = os.environ.get("EKSAUDIT_CACHE_DIR")
    assert left == ours, f"a test left EKSAUDIT_CACHE_DIR as {left!r}: later tests would use the user's cache"
    if saved is None:
        os.environ.pop("EKSAUDIT_CACHE_DIR", None)
    else:
        os.environ["EKSAUDIT_CACHE_DIR"] = saved
