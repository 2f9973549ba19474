"""Run eksaudit as a user would: a real process with real pipes."""

from __future__ import annotations

import subprocess
import sys


def run_eksaudit(*args: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eksaudit", *args], input=input, capture_output=True, timeout=timeout
    )
