"""The API server's timestamp form takes a cached fast path that must agree with the general parser."""

from __future__ import annotations

from hypothesis import given, settings
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


@given(st.integers(1960, 2200), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
       st.integers(0, 61), st.sampled_from([":", ".", "x"]), st.text("0123456789", min_size=1, max_size=3))
def test_a_new_second_agrees_with_the_general_parser(y, mo, d, h, mi, s, sep, frac):
    """A second not seen before is built from its cached hour: same answer, in and out of range."""
    from eksaudit.timestamps import _second_ns

    _second_ns.cache_clear()
    prefix = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}{sep}{mi:02d}:{s:02d}"
    assert _second_ns(prefix) == _parse_general(prefix + "Z")
    text = f"{prefix}.{frac}Z"
    assert parse_ts_ns(text) == _parse_general(text)


def test_odd_digits_in_a_second_go_to_the_general_parser():
    for prefix in ("2026-11-30T10:0٣:00", "2026-11-30T10:00:٣0", "2026-11-30T10:+1:00", "2026-11-30T10:00: 1"):
        assert parse_ts_ns(prefix + ".5Z") == _parse_general(prefix + ".5Z")


@given(st.integers(1970, 2200), st.integers(1, 12), st.integers(1, 28),
       st.text("0123456789٣²+-_ .e", min_size=6, max_size=6))
def test_the_microsecond_form_agrees_with_the_general_parser(y, mo, d, frac):
    """27 characters (six digits of fraction, the API server's form) take their own branch."""
    text = f"{y:04d}-{mo:02d}-{d:02d}T10:11:12.{frac}Z"
    assert len(text) == 27
    assert parse_ts_ns(text) == _parse_general(text)


_EDGES = st.sampled_from([0, 1, 59, 60, 61])


@settings(max_examples=300)
@given(st.integers(1960, 2200), st.integers(0, 13) | st.just(1), st.integers(0, 32) | st.just(1),
       st.integers(0, 25) | st.just(0), st.integers(0, 61) | _EDGES, st.integers(0, 61) | _EDGES,
       st.sampled_from([":", ":", ":", ".", "x"]), st.sampled_from(["", "", "", "٣", "+", " "]))
def test_seconds_text_from_a_minute_table_is_the_seconds(y, mo, d, h, mi, s, sep, odd):
    """`seconds_text` (jevt.rawtime's digits) builds a minute's 60 texts at once: each is the text
    of the second's own parse, or None where that is not after the epoch or not a time."""
    from eksaudit.timestamps import _minute_texts, seconds_text

    seconds_text.cache_clear()
    _minute_texts.cache_clear()
    prefix = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}{sep}{mi:02d}:{s:02d}"
    if odd:
        prefix = prefix[:17] + odd + prefix[18:]
    ns = _parse_general(prefix + "Z")
    assert seconds_text(prefix) == (None if ns is None or ns <= 0 else str(ns // 1_000_000_000))


def test_seconds_text_around_the_epoch():
    from eksaudit.timestamps import seconds_text

    assert seconds_text("1970-01-01T00:00:00") is None
    assert seconds_text("1970-01-01T00:00:01") == "1"
    assert seconds_text("1969-12-31T23:59:59") is None
