"""Shared fixtures: where the external conformance material lives (skipped with a reason when absent)."""

from __future__ import annotations

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
