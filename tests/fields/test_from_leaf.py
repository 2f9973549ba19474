"""A field's `from_leaf` form (its value from the one member it reads: rules/blockscreen.py uses it)
gives what its extractor gives on an event holding that member, for any JSON value there."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from eksaudit.events.leaves import PartialEvent
from eksaudit.fields import default_registry

REG = default_registry()
_WITH_LEAF = [b for b in (REG.resolve(n, None) for n in REG.names() if n.endswith("rawtime"))
              if getattr(b.extract, "from_leaf", None) is not None]

_TIMES = st.builds(
    lambda y, mo, d, h, mi, s, frac, z: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{z}",
    st.integers(1960, 2100), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 60), st.sampled_from(["", ".", ".0", ".000000", ".123456", ".1234567891", ".٣٣٣٣٣٣"]),
    st.sampled_from(["Z", "z", "", "+01:00", "-0530", " Z"]))
_VALUES = st.one_of(_TIMES, st.text(max_size=30), st.none(), st.integers(), st.floats(allow_nan=False),
                    st.booleans(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.none(), max_size=2))


def test_the_fields_with_a_leaf_form_are_found() -> None:
    assert {b.name for b in _WITH_LEAF} == {"jevt.rawtime", "json.rawtime"}


@given(value=_VALUES, present=st.booleans())
def test_from_leaf_is_the_extractor_on_that_member(value: Any, present: bool) -> None:
    for bound in _WITH_LEAF:
        member, leaf = bound.extract.from_leaf
        obj = {"kind": "Event", "auditID": "a", member: value} if present else {"kind": "Event"}
        assert leaf(value if present else None) == bound.extract(PartialEvent(obj))


@given(value=st.one_of(_TIMES, st.builds(lambda y, f: f"{y:04d}-01-01T00:00:00.{f}Z", st.integers(1960, 1971),
                                         st.text("0123456789٣", min_size=6, max_size=6))))
def test_the_fast_rawtime_is_the_plain_one(value: str) -> None:
    """The API server's form written digit by digit equals `str` of its nanoseconds (the epoch's own
    second, earlier seconds and odd digits go the plain way)."""
    from eksaudit.fields import jevt

    fast = jevt._rawtime_text(value)
    saved = jevt.FAST_RAWTIME
    jevt.FAST_RAWTIME = False
    try:
        assert fast == jevt._rawtime_text(value), value
    finally:
        jevt.FAST_RAWTIME = saved


def test_the_fast_rawtime_at_the_epoch() -> None:
    from eksaudit.fields import jevt

    assert jevt._rawtime_text("1970-01-01T00:00:00.000000Z") == "0"
    assert jevt._rawtime_text("1970-01-01T00:00:00.000001Z") == "1000"
    assert jevt._rawtime_text("1970-01-01T00:00:01.000001Z") == "1000001000"
    assert jevt._rawtime_text("1969-12-31T23:59:59.500000Z") == "-500000000"
