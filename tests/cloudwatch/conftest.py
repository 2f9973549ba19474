"""Fixtures for CloudWatch tests: a moto server per process, a fault proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.faultproxy import FaultPlan, FaultProxy
from support.moto import moto_endpoint, moto_server  # noqa: F401 - fixtures re-exported

__all__ = ["moto_endpoint", "moto_server"]


@pytest.fixture
def fault_proxy(moto_endpoint: str) -> Iterator[FaultProxy]:  # noqa: F811 - the fixture above
    """A FaultProxy in front of a freshly reset moto; script it through `fault_proxy.plan`."""
    proxy = FaultProxy(moto_endpoint, FaultPlan()).start()
    try:
        yield proxy
    finally:
        proxy.stop()
