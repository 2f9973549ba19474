"""The API server's timestamp form takes a cached fast path that must agree with the general parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from eksaudit.timestamps import _parse_general, parse_ts_ns


@given(
    st.integers(1970, 2200), st.integers(1, 13), st.integers(1, 31), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 60), st.text("0123456789", min_size=1, max_size=12),
)
def test_fast_path_agrees_with_the_general_parser(y, mo, d, h, mi, s, frac):
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{frac}Z"
    assert parse_ts_ns(text) == _parse_general(text)


def test_fast_path_values():
    assert parse_ts_ns("2026-11-30T10:00:00.123456Z") == 1_796_032_800_123_456_000
    assert parse_ts_ns("2026-11-30T10:00:00.123456789999Z") == 1_796_032_800_123_456_789
    assert parse_ts_ns("2026-02-30T10:00:00.5Z") is None
