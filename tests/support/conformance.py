"""Where the external conformance material lives (None when absent: tests skip with a reason)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def conformance_dir() -> Path | None:
    """`$EKSAUDIT_CONFORMANCE_DIR`, else `../shared/conformance` beside the repository; None if absent."""
    env = os.environ.get("EKSAUDIT_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "conformance")
    for c in candidates:
        if c.is_dir():
            return c
    return None
