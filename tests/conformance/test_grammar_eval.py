"""Falco's compiler/evaluation vectors (falco-grammar/compiler_eval_cases.yaml).

The vectors name libsinsp syscall fields; a small test registry below gives each the type the
vector assumes (the header of each section says which). Falco's signed, 32-bit, port and double
types all behave like uint64 for these vectors (decimal literals, numeric operators only), so they
are registered as uint64. Field values come from each section's `context`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksaudit.condition import ConditionError, compile_condition
from eksaudit.errors import FieldError


def conformance_dir() -> Path | None:
    """The lookup of tests/conftest.py's `conformance` fixture, usable at collection time."""
    env = os.environ.get("EKSAUDIT_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "conformance")
    return next((c for c in candidates if c.is_dir()), None)

EVAL_FILE = Path("falco-grammar") / "compiler_eval_cases.yaml"

# libsinsp type (as the vectors name it) -> the resolver type the engine knows
_TYPE_MAP = {
    "CHARBUF": "string", "UINT64": "uint64", "ABSTIME": "abstime", "RELTIME": "reltime", "BOOL": "bool",
    "IPADDR": "ipaddr", "IPNET": "ipnet", "BYTEBUF": "bytebuf",
    "INT16": "uint64", "INT32": "uint64", "INT64": "uint64", "UINT32": "uint64", "PORT": "uint64",
    "DOUBLE": "uint64",
}

# Fields the vectors use outside the type table, with the types their section headers state.
_FIXED_FIELDS = {
    "c.true": "string", "c.false": "string", "c.singlequote": "string", "c.doublequote": "string",
    "c.buffer": "bytebuf",
    "evt.source": "string", "evt.plugininfo": "string", "evt.type": "string",
    "proc.name": "string", "syscall.type": "string", "evt.args": "string", "evt.buffer": "bytebuf",
    "evt.is_wait": "bool", "evt.rawres": "uint64", "evt.rawarg.res": "uint64",
    "fd.name": "string",
}
# What the mock checks extract: c.true=1 is true and c.false=1 false whatever the section.
_MOCK_VALUES = {"c.true": "1", "c.false": "0", "c.singlequote": "hello 'quoted'",
                "c.doublequote": 'hello "quoted"', "evt.args": "res=0"}


class _Field:
    __slots__ = ("name", "arg", "type", "is_list", "path", "string_ops")

    def __init__(self, name: str, type_: str) -> None:
        self.name = name
        self.arg = None
        self.type = type_
        self.is_list = False
        self.path = (name,)
        self.string_ops = False

    def extract(self, event: dict[str, Any]) -> Any:
        return event.get(self.name)


class GrammarRegistry:
    """The test registry: field name -> type, values read from a dict event."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def resolve(self, name: str, arg: str | None) -> _Field:
        if name not in self.types:
            raise FieldError(f"unknown field {name!r}", unknown=True)
        if arg is not None:
            raise FieldError(f"field {name} does not take an argument")
        return _Field(name, self.types[name])

    def names(self) -> list[str]:
        return list(self.types)


def _registry(data: dict[str, Any]) -> GrammarRegistry:
    types = dict(_FIXED_FIELDS)
    for case in data["type_operator_compatibility"]["cases"]:
        types[case["field"]] = _TYPE_MAP[case["type"]]
    return GrammarRegistry(types)


_CACHE: dict[str, Any] = {}


def _data() -> dict[str, Any] | None:
    if "data" not in _CACHE:
        base = conformance_dir()
        path = base / EVAL_FILE if base is not None else None
        _CACHE["data"] = yaml.safe_load(path.read_text()) if path is not None and path.is_file() else None
    return _CACHE["data"]


SECTIONS = ("boolean_evaluation", "string_escaping", "mock_operator_compile", "type_operator_compatibility",
            "compile_warnings", "misc_compile_and_eval", "regex_evaluation", "modifier_evaluation_evt",
            "modifier_evaluation_procname", "pmatch_evaluation")


def _params() -> list[Any]:
    data = _data()
    if data is None:
        return [pytest.param(None, None, id="absent")]
    out = []
    for section in SECTIONS:
        for n, case in enumerate(data[section]["cases"]):
            out.append(pytest.param(section, case, id=f"{section}-{n}"))
    return out


def test_every_section_is_exercised(conformance: Path) -> None:
    data = _data()
    assert data is not None
    sections = {k for k, v in data.items() if isinstance(v, dict) and "cases" in v}
    assert sections == set(SECTIONS)


@pytest.mark.parametrize(("section", "case"), _params())
def test_compile_and_eval(conformance: Path, section: str, case: dict[str, Any]) -> None:
    data = _data()
    assert data is not None
    registry = _registry(data)
    context = dict(_MOCK_VALUES)
    context.update(data[section].get("context") or {})
    expect_compiles = case.get("compiles", True)
    try:
        compiled = compile_condition(case["expr"], registry)
    except ConditionError as e:
        assert not expect_compiles, f"unexpected compile error: {e.render()}"
        if "error" in case:
            assert case["error"].removeprefix("filter error: ") in e.message
        return
    assert expect_compiles, "compiled, but Falco rejects it"
    if "result" in case:
        assert compiled.matches(context) is case["result"]
    if "warnings" in case:
        assert len(compiled.warnings) == case["warnings"], compiled.warnings
