"""Terminal tests: the local moto server from tests/support (one per test process)."""

from __future__ import annotations

from support.moto import moto_endpoint, moto_server  # noqa: F401 - fixtures re-exported

__all__ = ["moto_endpoint", "moto_server"]
