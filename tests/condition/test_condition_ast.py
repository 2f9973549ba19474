"""The AST node classes behave as the `@dataclass(frozen=True, slots=True)` classes they replace.

`eksaudit.condition.ast` writes the dataclass methods once, in a base class (the decorator's
per-class `exec` cost 15 ms of every start-up). The twin here is the dataclass each node was:
equality, hash values, repr, frozenness, pattern matching, pickling and the constructor's
signature must be the same on random trees.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.condition import ast

# name -> (fields added by the class, with default or MISSING), base name; as the dataclasses were
_SPECS: dict[str, tuple[list[tuple[str, Any]], str | None]] = {
    "Pos": ([("idx", 0), ("line", 1), ("col", 1)], None),
    "Expr": ([("pos", dataclasses.MISSING)], None),
    "AndExpr": ([("children", dataclasses.MISSING)], "Expr"),
    "OrExpr": ([("children", dataclasses.MISSING)], "Expr"),
    "NotExpr": ([("child", dataclasses.MISSING)], "Expr"),
    "IdentifierExpr": ([("name", dataclasses.MISSING)], "Expr"),
    "ValueExpr": ([("value", dataclasses.MISSING)], "Expr"),
    "ListExpr": ([("values", dataclasses.MISSING)], "Expr"),
    "TransformerListExpr": ([("children", dataclasses.MISSING)], "Expr"),
    "FieldExpr": ([("field", dataclasses.MISSING), ("arg", None)], "Expr"),
    "FieldTransformerExpr": ([("transformer", dataclasses.MISSING), ("args", dataclasses.MISSING), ("arg", None)], "Expr"),
    "UnaryCheckExpr": ([("left", dataclasses.MISSING), ("op", dataclasses.MISSING)], "Expr"),
    "BinaryCheckExpr": (
        [("left", dataclasses.MISSING), ("op", dataclasses.MISSING), ("right", dataclasses.MISSING), ("modifier", None)],
        "Expr",
    ),
}


def _twins() -> dict[str, type]:
    out: dict[str, type] = {}
    for name, (fields, base) in _SPECS.items():
        spec = [(f, Any) if d is dataclasses.MISSING else (f, Any, dataclasses.field(default=d)) for f, d in fields]
        bases = (out[base],) if base else ()
        out[name] = dataclasses.make_dataclass(name, spec, bases=bases, frozen=True, slots=True)
    return out


TWIN = _twins()
NODE_NAMES = [n for n in _SPECS if n not in ("Pos", "Expr")]


def twin_of(value: Any) -> Any:
    """The same tree built from the dataclass twins."""
    if isinstance(value, tuple):
        return tuple(twin_of(v) for v in value)
    if isinstance(value, ast._Frozen):
        cls = TWIN[type(value).__name__]
        return cls(*(twin_of(getattr(value, f)) for f in type(value).__match_args__))
    return value


TEXT = st.sampled_from(["", "a", "ka.verb", "x y", "é\0", "get"])
OPT = st.none() | TEXT
POS = st.builds(ast.Pos, st.integers(0, 3), st.integers(1, 2), st.integers(1, 3))
LEAF = st.one_of(
    st.builds(ast.FieldExpr, POS, TEXT, OPT),
    st.builds(ast.ValueExpr, POS, TEXT),
    st.builds(ast.IdentifierExpr, POS, TEXT),
    st.builds(ast.ListExpr, POS, st.lists(st.builds(ast.ValueExpr, POS, TEXT), max_size=2).map(tuple)),
)


def _branches(kids: st.SearchStrategy) -> st.SearchStrategy:
    many = st.lists(kids, min_size=0, max_size=3).map(tuple)
    return st.one_of(
        st.builds(ast.AndExpr, POS, many),
        st.builds(ast.OrExpr, POS, many),
        st.builds(ast.NotExpr, POS, kids),
        st.builds(ast.TransformerListExpr, POS, many),
        st.builds(ast.FieldTransformerExpr, POS, TEXT, many, OPT),
        st.builds(ast.UnaryCheckExpr, POS, kids, TEXT),
        st.builds(ast.BinaryCheckExpr, POS, kids, TEXT, kids, OPT),
    )


TREE = st.recursive(LEAF, _branches, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(TREE, TREE)
def test_nodes_compare_hash_and_print_as_the_dataclasses(a: ast.Expr, b: ast.Expr) -> None:
    ta, tb = twin_of(a), twin_of(b)
    assert repr(a) == repr(ta)
    assert hash(a) == hash(ta)
    assert (a == b) == (ta == tb)
    assert (a != b) == (ta != tb)
    assert a == ast.__dict__[type(a).__name__](*(getattr(a, f) for f in type(a).__match_args__))
    assert a != ta and ta != a  # another class: NotImplemented both ways, as between two dataclasses
    for clone in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert type(clone) is type(a) and clone == a and hash(clone) == hash(a)
    assert twin_of(tuple(a.__getstate__())) == tuple(ta.__getstate__())


@pytest.mark.parametrize("name", list(_SPECS))
def test_each_class_has_the_dataclass_surface(name: str) -> None:
    cls, twin = getattr(ast, name), TWIN[name]
    assert cls.__match_args__ == twin.__match_args__
    assert cls.__slots__ == twin.__slots__
    assert [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()] == [
        (p.name, p.kind, p.default) for p in inspect.signature(twin).parameters.values()
    ]
    if name != "Pos":
        assert issubclass(cls, ast.Expr)


@pytest.mark.parametrize("attr", ["pos", "op"])
def test_nodes_are_frozen_as_the_dataclasses(attr: str) -> None:
    node = ast.UnaryCheckExpr(ast.NO_POS, ast.FieldExpr(ast.NO_POS, "ka.verb"), "exists")
    twin = twin_of(node)
    for obj in (node, twin):
        with pytest.raises(dataclasses.FrozenInstanceError) as info:
            setattr(obj, attr, 1)
        assert str(info.value) == f"cannot assign to field {attr!r}"
        with pytest.raises(dataclasses.FrozenInstanceError) as info:
            delattr(obj, attr)
        assert str(info.value) == f"cannot delete field {attr!r}"
        assert not hasattr(obj, "__dict__")
    # Another name: the frozen slots dataclass raised TypeError there (`super(cls, self)` names the
    # class before slots were added: a CPython bug); these raise as for a field.
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.other = 1  # type: ignore[attr-defined]


def test_keywords_and_defaults_as_the_dataclasses() -> None:
    assert ast.Pos() == ast.Pos(0, 1, 1) == ast.NO_POS
    node = ast.BinaryCheckExpr(pos=ast.NO_POS, left=ast.FieldExpr(ast.NO_POS, "ka.verb", arg="x"), op="in",
                               right=ast.ListExpr(ast.NO_POS, ()))
    assert node.modifier is None and node.left.arg == "x"
    assert repr(node) == repr(twin_of(node))
    match node:
        case ast.BinaryCheckExpr(_, ast.FieldExpr(_, field, arg), op, ast.ListExpr(_, values), None):
            assert (field, arg, op, values) == ("ka.verb", "x", "in", ())
        case _:
            pytest.fail("positional patterns follow __match_args__")
    with pytest.raises(TypeError):
        ast.FieldExpr(ast.NO_POS)  # type: ignore[call-arg]
