"""Fixtures for the demo tests: the shared moto server (tests/support/moto.py)."""

from __future__ import annotations

from support.moto import moto_endpoint, moto_server  # noqa: F401 - fixtures re-exported

__all__ = ["moto_endpoint", "moto_server"]
