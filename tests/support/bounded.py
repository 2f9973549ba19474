"""Run a Python snippet in a child process with a time bound (hostile-input regressions)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_python_bounded(code: str, bound: float) -> str:
    """The snippet's stdout (stripped); fails the test if it exceeds `bound` seconds or exits non-zero."""
    try:
        res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                             timeout=bound)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {bound} s")
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()
