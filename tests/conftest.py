"""Shared fixtures: where the external conformance material lives (skipped with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def conformance_dir() -> Path | None:
    """`$EKSAUDIT_CONFORMANCE_DIR`, else `../shared/conformance` beside the repository; None if absent."""
    env = os.environ.get("EKSAUDIT_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "conformance")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The conformance folder; tests that need it skip with a clear reason when it is missing."""
    d = conformance_dir()
    if d is None:
        pytest.skip("conformance data not found: set EKSAUDIT_CONFORMANCE_DIR or place it at ../shared/conformance")
    return d
