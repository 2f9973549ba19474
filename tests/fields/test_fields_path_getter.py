"""Bound plain-path fields run `path_getter` (one closure) instead of the wrapped extractor: same values."""

from __future__ import annotations

from fields_testkit import make_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksaudit.events.event import AuditEvent
from eksaudit.fields import ArgKind
from eksaudit.fields.jsonwalk import path_extractor, path_getter

KEYS = ["auditID", "verb", "user", "username", "objectRef", "resource", "namespace", "requestObject", "spec",
        "metadata", "name", "data", "a", "b", "c"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(KEYS), st.text(max_size=5))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=20,
)
DOCS = st.one_of(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6), JSON)


def _plain_fields(registry):
    return [d for d in registry if d.arg is ArgKind.NONE and getattr(d.extract, "getter", None) is not None]


def test_plain_path_fields_are_bound_without_a_wrapper(registry):
    plain = _plain_fields(registry)
    assert len(plain) > 20 and any(d.name == "ka.verb" for d in plain)
    for d in plain:
        assert registry.resolve(d.name).extract is d.extract.getter


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=DOCS)
def test_bound_getter_equals_the_extractor(registry, doc):
    ev = make_event(doc)
    for d in _plain_fields(registry):
        assert registry.resolve(d.name).extract(ev) == d.extract(ev, None), d.name


@given(doc=DOCS)
def test_path_getter_equals_path_extractor_with_and_without_gate(doc):
    ev = make_event(doc)
    for keys in (("a",), ("a", "b"), ("a", "b", "c"), ("user", "username")):
        for gate in (True, False):
            assert path_getter(keys, gate=gate)(ev) == path_extractor(keys, gate=gate)(ev, None)


def test_unparsable_event_has_no_value():
    ev = AuditEvent(b'{"kind":"Event","auditID":"x","verb":')
    assert path_getter(("verb",))(ev) is None
    assert path_getter(("verb",), gate=False)(ev) is None
