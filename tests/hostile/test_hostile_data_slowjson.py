"""The fallback JSON parser and writer are orjson's slow twins: same values wherever orjson succeeds."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.events import slowjson
from eksaudit.events.event import AuditEvent
from eksaudit.events.slowjson import BigNumber, JSONParseError, parse

scalars = (
    st.none() | st.booleans() | st.text(max_size=20)
    | st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def respell(text: str, blanks: list[str]) -> str:
    """The same JSON with whitespace around structural characters (outside strings)."""
    out, in_str, esc, i = [], False, False, 0
    for c in text:
        out.append(c)
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[]{},:":
            out.append(blanks[i % len(blanks)])
            i += 1
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(values, st.lists(st.sampled_from(["", " ", "\n", "\t ", "\r\n"]), min_size=1, max_size=4),
       st.booleans())
def test_parse_equals_orjson(v, blanks, ascii_only):
    text = respell(json.dumps(v, ensure_ascii=ascii_only), blanks)
    expected = orjson.loads(text)
    got = parse(text.encode())
    assert got == expected
    assert repr(got) == repr(expected)  # same types (int vs float, -0.0)
    assert slowjson.dumps(got) == orjson.dumps(expected)


@settings(max_examples=300, deadline=None)
@given(values)
def test_iterative_writer_equals_orjson(v):
    assert slowjson._write(v, False).encode() == orjson.dumps(v)
    assert slowjson._write(v, True).encode() == orjson.dumps(v, option=orjson.OPT_INDENT_2)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}",:0123456789.eE-+ tnrufals\\x', max_size=30))
def test_parse_rejects_what_orjson_rejects_for_syntax(text):
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as e:
        if "infinity" in str(e) or "recursion" in str(e).lower():
            return  # what the fallback exists for
        with pytest.raises(JSONParseError):
            parse(text)
    else:
        assert repr(parse(text)) == repr(orjson.loads(text))


def test_huge_numbers_keep_their_text():
    v = parse(b'[1e999,-1E400,1' + b"0" * 400 + b",1e-999,18446744073709551616]")
    assert v[0] == BigNumber("1e999") and float(v[0]) == float("inf") and float(v[1]) == float("-inf")
    assert str(v[2]) == "1" + "0" * 400
    assert v[3] == 0.0 and v[4] == float(18446744073709551616)  # as orjson reads them
    assert slowjson.dumps(v) == b"[1e999,-1E400,1" + b"0" * 400 + b",0.0,1.8446744073709552e+19]"


def test_deep_nesting_is_linear_and_needs_no_recursion():
    depth = 200_000
    text = "[" * depth + '{"a":1e999}' + "]" * depth
    t0 = time.perf_counter()
    v = parse(text)
    out = slowjson.dumps(v)
    assert time.perf_counter() - t0 < 30  # generous: seconds on a loaded machine
    assert out == text.encode()


def test_event_obj_uses_the_fallback_and_still_reports_garbage():
    ev = AuditEvent(b'{"kind":"Event","auditID":"x","n":1e999}')
    assert ev.obj["n"] == BigNumber("1e999") and ev.obj["auditID"] == "x"
    bad = AuditEvent(b'{"kind":"Event","auditID":"x",')
    assert bad.obj is None and bad.failed_to_parse
    assert AuditEvent.from_obj({"a": [[[]]] * 2, "n": BigNumber("1e999")}).raw == b'{"a":[[[]],[[]]],"n":1e999}'
