"""Parser behaviour beyond the Falco vectors: error rendering, depth limits, escapes, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.condition import ConditionError, as_string, parse
from eksaudit.condition.ast import BinaryCheckExpr, FieldExpr, ListExpr, NotExpr, ValueExpr
from eksaudit.errors import ExpressionError


def _error(text: str, **kw: int) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        parse(text, **kw)
    return info.value


def test_error_render_draws_a_caret_under_the_column() -> None:
    err = _error("ka.verb = get andx")
    assert err.render() == (
        "expected blank or '(' after 'and' at column 18\n"
        "ka.verb = get andx\n"
        "                 ^"
    )
    assert str(err) == "expected blank or '(' after 'and' at column 18"
    assert isinstance(err, ExpressionError)
    assert err.source == "ka.verb = get andx"
    assert (err.pos.idx, err.pos.line, err.pos.col) == (17, 1, 18)


def test_error_render_on_a_multi_line_condition_shows_the_failing_line() -> None:
    err = _error("ka.verb = get\n  and ka.uri startswith /api\n  and (ka.user.name = x")
    assert err.render() == (
        "expected a ')' token at line 3, column 24\n"
        "  and (ka.user.name = x\n"
        "                       ^"
    )


def test_escape_errors_point_at_the_backslash() -> None:
    err = _error('ka.verb = "a\\q"')
    assert err.message == "unsupported string escape sequence: \\q"
    assert err.pos.col == 13
    assert _error("ka.verb = 'it\\\"s'").message == "invalid \\\" escape in '-quoted string"


def test_empty_and_blank_inputs() -> None:
    assert _error("").message == "filter input string is empty"
    assert _error("   ").message.startswith("expected a '(' token, a field check, or an identifier")


def test_depth_limit_is_configurable() -> None:
    deep = "(" * 150 + "ka.verb exists" + ")" * 150
    assert _error(deep).message == "exceeded max depth limit of 100"
    expr = parse(deep, max_depth=1000)
    assert as_string(expr) == "ka.verb exists"
    assert _error("(" * 5000, max_depth=1000).message == "exceeded max depth limit of 1000"


def test_not_parity_and_precedence() -> None:
    assert as_string(parse("not not a")) == "a"
    assert as_string(parse("a or b and c")) == "(a or (b and c))"
    assert isinstance(parse("not a.b exists"), NotExpr)
    assert _error("a or(b) and c").message == "unexpected token after ')', expecting 'or', 'and'"


def test_quoted_strings_and_hex_escapes() -> None:
    e = parse(r'ka.uri = "a\tb\\c\/d\x41"')
    assert isinstance(e, BinaryCheckExpr) and isinstance(e.right, ValueExpr)
    assert e.right.value == "a\tb\\c/dA"
    assert as_string(e) == 'ka.uri = "a\\tb\\\\c/dA"'


def test_list_and_modifier_nodes() -> None:
    e = parse("ka.verb startswith anyof (get, 'li st')")
    assert isinstance(e, BinaryCheckExpr)
    assert (e.op, e.modifier) == ("startswith", "anyof")
    assert isinstance(e.right, ListExpr) and [v.value for v in e.right.values] == ["get", "li st"]
    assert as_string(e) == 'ka.verb startswith anyof (get, "li st")'


def test_field_argument_keeps_quoted_text() -> None:
    e = parse('jevt.value["/spec/a b"] = x')
    assert isinstance(e, BinaryCheckExpr) and isinstance(e.left, FieldExpr)
    assert e.left.arg == "/spec/a b"


def test_non_text_input_is_a_condition_error() -> None:
    with pytest.raises(ConditionError):
        parse(None)  # type: ignore[arg-type]


_ALPHABET = st.sampled_from(list("ab.()[]'\"\\ ,=!<>-_*?/\n\t") + ["and ", "or ", "not ", "in ", "exists",
                                                                 " contains ", "oneof ", "val(", "tolower(",
                                                                 "join(", "x.y", "\x00", "é", "\U0001f600"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_fuzzed_text_only_raises_condition_error(text: str) -> None:
    try:
        expr = parse(text)
    except ConditionError as e:
        assert e.render()  # rendering never fails either
        return
    as_string(expr)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_only_raises_condition_error(text: str) -> None:
    try:
        parse(text)
    except ConditionError as e:
        e.render()
