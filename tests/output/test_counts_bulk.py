"""`Counter.bulk` (a taken block's matches counted at once) ranks exactly as `add` per match.

Values of every kind a field gives (strings, numbers, None, lists and objects that are counted as
their hashable form), in blocks of any size, with and without spills to the temporary file (a
budget of a few keys spills in the middle of a block).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.output.counts import Counter

# What one column's field gives: its type's values (strings, or integers for a numeric field), None,
# lists and objects. Not booleans next to integers, nor floats equal to integers: no field mixes
# them, and a dict counts `1`, `1.0` and `True` as one key while the spill file tells them apart.
_TEXT = st.sampled_from(["a", "b", "c", "system:node:n1", ""])
_SCALARS = st.one_of(_TEXT, st.none())
_VALUES = st.one_of(_SCALARS, st.lists(_TEXT, max_size=3), st.dictionaries(st.sampled_from(["k", "l"]), _SCALARS,
                                                                           max_size=2))
_NUMBERS = st.one_of(st.integers(-3, 3), st.none())


def _identity(v):
    return v


@settings(max_examples=300, deadline=None)
@given(values=st.one_of(st.lists(_VALUES, max_size=80), st.lists(_NUMBERS, max_size=80)),
       cuts=st.lists(st.integers(0, 80), max_size=6),
       budget=st.sampled_from([None, 1, 600, 2000]), top=st.sampled_from([None, 1, 3]))
def test_bulk_ranks_as_one_by_one(values, cuts, budget, top):
    one = Counter([("v", _identity)], max_memory=budget)
    for v in values:
        one.add(v)
    many = Counter([("v", _identity)], max_memory=budget)
    bulk = many.bulk()
    assert bulk is not None
    get, add_values = bulk
    bounds = sorted({0, len(values), *(c for c in cuts if c <= len(values))})
    for a, b in zip(bounds, bounds[1:], strict=False):
        add_values([get(v) for v in values[a:b]])
    assert many.ranked(top) == one.ranked(top)


def test_bulk_is_for_one_column_only():
    assert Counter([("a", _identity), ("b", _identity)]).bulk() is None
