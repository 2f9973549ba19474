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
def test_seconds_text_from_the_minute_is_the_seconds(y, mo, d, h, mi, s, sep, odd):
    """`seconds_text` (jevt.rawtime's digits) adds the second to its minute's first: the text of the
    second's own parse, or None where that is not after the epoch or not a time."""
    from eksaudit.timestamps import minute_seconds, seconds_text

    minute_seconds.cache_clear()
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


_CHARS = st.sampled_from(list("0123456789") * 4 + ["٣", "²", " ", "+", "t", "z", ":", ".", "-", "x"])


@st.composite
def _stage_timestamps(draw):
    """API-server timestamps near and far from the epoch, many with one character made odd."""
    secs = draw(st.sampled_from([0, 1, 59, 60, 3599, -1, -60]) | st.integers(-10**9, 4_102_444_800))
    import time

    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) if secs >= 0 else "1969-12-31T23:59:59"
    ts = f"{base}.{draw(st.integers(0, 999_999)):06d}Z"
    if draw(st.booleans()):
        i = draw(st.integers(0, len(ts) - 1))
        ts = ts[:i] + draw(_CHARS) + ts[i + 1:]
    if draw(st.integers(0, 9)) == 0:
        ts = draw(st.sampled_from([ts[:-1], ts + "0", ts[:17] + "60" + ts[19:], ts[:14] + "60" + ts[16:]]))
    return ts


def _text(ts: str) -> str | None:
    ns = _parse_general(ts)
    return None if ns is None else str(ns)


@settings(max_examples=400, deadline=None)
@given(st.lists(_stage_timestamps(), min_size=1, max_size=30), st.data())
def test_rawtime_said_unequal_is_a_text_equal_to_no_literal(stamps, data):
    """`jevt.rawtime`'s per-minute test (fields/jevt.py `_rawtime_unequal`, slow twin
    `RAWTIME_BY_MINUTE`): when it says a timestamp's text is none of the literals, the plain text
    (the general parser's nanoseconds) exists and is none of them. Literals are texts of these very
    timestamps, the same with a digit off or a second later, `0`, and other strings."""
    from eksaudit.fields.jevt import _rawtime_unequal

    texts = [t for t in map(_text, stamps) if t is not None]
    pool = ["0", "1", "", "000", "1000000000", "x"] + texts
    pool += [t[:-10] + str((int(t[-10]) + 1) % 10) + t[-9:] for t in texts if len(t) > 10]
    pool += [str(int(t) + 1_000_000_000) for t in texts] + [t[:-1] + "1" for t in texts]
    literals = data.draw(st.lists(st.sampled_from(pool), max_size=6))
    unequal = _rawtime_unequal(literals)
    for ts in stamps:
        if unequal(ts):
            plain = _text(ts)
            assert plain is not None and plain not in literals, (ts, literals)


def test_rawtime_unequal_answers_for_the_common_case_only():
    from eksaudit.fields import jevt

    unequal = jevt._rawtime_unequal(["0", "1769940000179826000"])
    assert unequal("2026-02-01T11:00:00.179826Z")
    assert not unequal("2026-02-01T10:00:00.179826Z")  # its minute holds a literal's second: compute
    assert not unequal("1970-01-01T00:00:00.000000Z")  # the epoch's minute: compute (its text is "0")
    assert not unequal("2026-02-01T11:00:60.179826Z") and not unequal("2026-02-01T11:00:00.17982Z")
    for odd in ("²", "٣", " ", "+", "\ud800"):  # not six ASCII digits: `_rawtime_text` parses these in full
        assert not unequal("2026-02-01T11:00:00.1798" + odd + "6Z")
    jevt.RAWTIME_BY_MINUTE = False
    try:
        assert not jevt._rawtime_unequal(["0"])("2026-02-01T11:00:00.179826Z")
    finally:
        jevt.RAWTIME_BY_MINUTE = True
