"""Falco's parser vectors (falco-grammar/parser_cases.yaml): accept/reject, AST, as_string, positions.

Each vector runs as its own test; the data is read through the `conformance` fixture, so the whole
file skips with a reason when the shared folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksaudit.condition import ConditionError, as_string, parse
from eksaudit.condition.ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    FieldTransformerExpr,
    IdentifierExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    TransformerListExpr,
    UnaryCheckExpr,
    ValueExpr,
)
from eksaudit.condition.parser import parse_with_end


def conformance_dir() -> Path | None:
    """The lookup of tests/conftest.py's `conformance` fixture, usable at collection time."""
    env = os.environ.get("EKSAUDIT_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "conformance")
    return next((c for c in candidates if c.is_dir()), None)

PARSER_FILE = Path("falco-grammar") / "parser_cases.yaml"


def _data() -> dict[str, Any] | None:
    """The vectors, read once at collection (None when the conformance folder is absent)."""
    if "data" not in _CACHE:
        base = conformance_dir()
        path = base / PARSER_FILE if base is not None else None
        _CACHE["data"] = yaml.safe_load(path.read_text()) if path is not None and path.is_file() else None
    return _CACHE["data"]


_CACHE: dict[str, Any] = {}


def _params(section: str) -> list[Any]:
    data = _data()
    if data is None:  # one placeholder: the `conformance` fixture then skips with its reason
        return [pytest.param(None, id="absent")]
    return [pytest.param(case, id=f"{section}-{n}") for n, case in enumerate(data[section])]


def neutral(e: Expr) -> Any:
    """The AST in the vectors' neutral nested-list notation."""
    if isinstance(e, OrExpr):
        return ["or", *[neutral(c) for c in e.children]]
    if isinstance(e, AndExpr):
        return ["and", *[neutral(c) for c in e.children]]
    if isinstance(e, NotExpr):
        return ["not", neutral(e.child)]
    if isinstance(e, IdentifierExpr):
        return ["identifier", e.name]
    if isinstance(e, FieldExpr):
        return ["field", e.field] + ([] if e.arg is None else [e.arg])
    if isinstance(e, FieldTransformerExpr):
        return ["transformer", e.transformer, *[neutral(a) for a in e.args]]
    if isinstance(e, TransformerListExpr):
        return ["list", *[neutral(a) for a in e.children]]
    if isinstance(e, UnaryCheckExpr):
        return ["unary", e.op, neutral(e.left)]
    if isinstance(e, BinaryCheckExpr):
        op = e.op if e.modifier is None else f"{e.op} {e.modifier}"
        return ["binary", op, neutral(e.left), neutral(e.right)]
    if isinstance(e, ValueExpr):
        return ["value", e.value]
    if isinstance(e, ListExpr):
        return ["list", *[v.value for v in e.values]]
    raise AssertionError(type(e))


_KIND = {OrExpr: "or", AndExpr: "and", NotExpr: "not", IdentifierExpr: "identifier", FieldExpr: "field",
         FieldTransformerExpr: "transformer", UnaryCheckExpr: "unary", BinaryCheckExpr: "binary",
         ValueExpr: "value", ListExpr: "list", TransformerListExpr: "list"}


def positions(e: Expr) -> str:
    """Pre-order "<kind><idx> <line> <col>" strings, as the vectors' `nodes`."""
    out = f"{_KIND[type(e)]}{e.pos.idx} {e.pos.line} {e.pos.col}"
    if isinstance(e, (OrExpr, AndExpr)):
        out += "".join(positions(c) for c in e.children)
    elif isinstance(e, NotExpr):
        out += positions(e.child)
    elif isinstance(e, FieldTransformerExpr):
        out += "".join(positions(c) for c in e.args)
    elif isinstance(e, UnaryCheckExpr):
        out += positions(e.left)
    elif isinstance(e, BinaryCheckExpr):
        out += positions(e.left) + positions(e.right)
    return out


def _variants(case: dict[str, Any]) -> list[str]:
    text = case["input"]
    out = [text]
    if case["expect"] == "accept" and case.get("whitespace_variants", True):
        padded = " " + text + " "
        out += [padded, padded.replace(" ", "\n"), padded.replace(" ", "\t")]
    return out


def _generate(spec: str) -> str:
    if spec == "'(' repeated 100000 times":
        return "(" * 100000
    raise AssertionError(f"unknown input_generator {spec!r}")


@pytest.mark.parametrize("case", _params("cases"))
def test_parser_accept_reject(conformance: Path, case: dict[str, Any]) -> None:
    """One accept/reject vector, with the whitespace variants the file's header describes."""
    inputs = [_generate(case["input_generator"])] if "input_generator" in case else _variants(case)
    for text in inputs:
        try:
            parse(text)
            accepted, message = True, None
        except ConditionError as e:
            accepted, message = False, e.message
        assert accepted == (case["expect"] == "accept"), f"{text!r}: got {message or 'accept'}"
        if not accepted and "error" in case:
            assert message == case["error"]


@pytest.mark.parametrize("case", _params("ast_cases"))
def test_parser_ast(conformance: Path, case: dict[str, Any]) -> None:
    assert neutral(parse(case["input"])) == case["ast"]


@pytest.mark.parametrize("case", _params("as_string_cases"))
def test_parser_as_string(conformance: Path, case: dict[str, Any]) -> None:
    assert as_string(parse(case["input"])) == case["as_string"]


@pytest.mark.parametrize("case", _params("position_cases"))
def test_parser_positions(conformance: Path, case: dict[str, Any]) -> None:
    res = parse_with_end(case["input"])
    if "end" in case:
        end = case["end"]
        assert (res.end.idx, res.end.line, res.end.col) == (end["idx"], end["line"], end["col"])
    if "nodes" in case:
        assert positions(res.expr) == case["nodes"]
