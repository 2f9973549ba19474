"""The fast paths of the condition loop against their slow twins, on random, re-spelled and odd input.

* `projection.TYPED`: the typed first decoder (TypedDicts, values typed as shallow JSON) gives
  exactly the partial object of the Struct decoder with its `_fix` copy, or declines to it.
* `pipeline.FUSED`: the condition loop that decodes the projection itself and writes matches
  through the sink's `direct()` writer prints and counts what `Projector.matcher` + `sink.event` do.
* `counts.ONE_COLUMN`: `--count-by` of one column counted by value equals the general counter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit import pipeline
from eksaudit.condition import compile_condition
from eksaudit.events import projection
from eksaudit.events.projection import Projection
from eksaudit.events.readers import read_events
from eksaudit.fields import default_registry
from eksaudit.output import Console, OutputOptions, open_sink
from eksaudit.output import counts as counts_module
from eksaudit.pipeline import ScanStats, scan

REG = default_registry()

# keys as the paths name them; the input spells them plainly or with escapes
_KEYS = ["auditID", "verb", "user", "username", "groups", "extra", "objectRef", "resource", "é", "a b", "", "x/y",
         "K0", "f0"]
_PATHS = [("verb",), ("auditID",), ("user", "username"), ("user", "groups"), ("user", "extra"), ("user",),
          ("objectRef", "resource"), ("é",), ("user", "é"), ("a b", "x/y"), ("",), ("objectRef",), ("K0", "f0")]

_scalar = (st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([0, -1, 1 << 62, (1 << 63) - 1, 1 << 63, -(1 << 63), -(1 << 63) - 1, (1 << 64) - 1,
                              1 << 64, 1 << 70, -(1 << 70)])
           | st.integers(-(1 << 66), 1 << 66) | st.text(max_size=5))
_json = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=3), max_leaves=10)


def _spell(key: str, escape: bool) -> str:
    """`key` as JSON text, its first character written as a `\\u` escape when `escape`."""
    if escape and key:
        return '"' + f"\\u{ord(key[0]):04x}" + json.dumps(key, ensure_ascii=False)[2:]
    return json.dumps(key, ensure_ascii=False)


@st.composite
def _object_text(draw: Any, depth: int = 0) -> str:
    """An object of the keys above (repeated sometimes), each holding JSON or, where a path goes on, an object."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(_KEYS))
        if depth < 2 and draw(st.booleans()):
            value = draw(_object_text(depth + 1))
        else:
            value = json.dumps(draw(_json), ensure_ascii=draw(st.booleans()))
        parts.append(f"{_spell(key, draw(st.booleans()))}:{value}")
    return "{" + ",".join(parts) + "}"


@contextlib.contextmanager
def switches(**values: bool) -> Iterator[None]:
    modules = {"TYPED": projection, "FUSED": pipeline, "ONE_COLUMN": counts_module}
    saved = {name: getattr(modules[name], name) for name in values}
    for name, v in values.items():
        setattr(modules[name], name, v)
    try:
        yield
    finally:
        for name, v in saved.items():
            setattr(modules[name], name, v)


def _reference(node: dict[str, Any], obj: Any) -> Any:
    """The partial object by definition: the full parse cut to the tree (None: a path goes on through a non-object)."""
    out = {}
    for key, sub in node.items():
        if key not in obj:
            continue
        v = obj[key]
        if sub is None or v is None:
            out[key] = v
        elif isinstance(v, dict):
            part = _reference(sub, v)
            if part is None:
                return None
            out[key] = part
        else:
            return None
    return out


@settings(max_examples=300, deadline=None)
@given(text=_object_text(), paths=st.sets(st.sampled_from(_PATHS), min_size=1, max_size=5))
def test_the_typed_decoder_gives_the_struct_decoders_partial_object(text: str, paths: set[tuple[str, ...]]) -> None:
    raw = text.encode()
    with switches(TYPED=True):
        fast = Projection(paths)
    with switches(TYPED=False):
        slow = Projection(paths)
    got = fast(raw)
    assert got == slow(raw), raw
    if got is not None:
        assert got == _reference(projection._tree(paths), orjson.loads(raw)), raw


def test_the_typed_decoder_serves_plain_events_and_declines_what_it_cannot_type() -> None:
    paths = [("verb",), ("auditID",), ("user", "groups"), ("user", "extra")]
    p = Projection(paths)
    typed, second, errors = p.parts()
    assert second is not None  # the typed decoder comes first
    plain = b'{"auditID":"a","verb":"get","user":{"groups":["g"],"extra":{"arn":["x"]},"uid":"u"},"x":[[[[1]]]]}'
    assert typed(plain) == {"auditID": "a", "verb": "get", "user": {"groups": ["g"], "extra": {"arn": ["x"]}}}
    for odd in (b'{"verb":9223372036854775808}', b'{"verb":123456789012345678901234567890}',
                b'{"user":{"extra":{"a":[[1]]}}}', b'{"verb":[[["deep"]]]}', b'{"verb":1e999}'):
        with pytest.raises(errors):
            typed(odd)
        assert p(odd) == _structs_only(paths)(odd)
    assert p(b'{"verb":9223372036854775808}') == {"verb": 9223372036854775808}
    assert p(b'{"verb":123456789012345678901234567890}') == {"verb": 1.2345678901234568e29}


def _structs_only(paths: list[tuple[str, ...]]) -> Projection:
    with switches(TYPED=False):
        return Projection(paths)


def test_a_key_with_a_non_ascii_character_is_read_by_the_structs() -> None:
    """msgspec's TypedDicts never match such a key: the typed decoder is not used for it."""
    p = Projection([("é",), ("verb",)])
    assert p.parts()[1] is None
    assert p('{"\\u00e9":1,"verb":"get","é":2}'.encode()) == {"é": 2, "verb": "get"}


# --- the condition loop and the sinks -------------------------------------------------------------

_USERS = st.one_of(st.sampled_from(["alice", "bob", "system:node:n1", "é", "", "a\\u0062"]), st.none(), st.integers(),
                   st.lists(st.sampled_from(["g", "h"]), max_size=2), st.just({"k": [1, 2]}), st.just(1 << 64))
_VERBS = st.sampled_from(["get", "list", "watch", "delete", "create", "\\u0067et", None, 3, ["get"]])


@st.composite
def _lines(draw: Any) -> bytes:
    """Audit event lines (odd values, re-spelled, now and then not JSON, or not a plain event line)."""
    out = []
    for i in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            out.append(b'{"kind":"Event","auditID":"b%d","verb":"get",' % i)  # not JSON
            continue
        parts = [f'"auditID":"a{i}"'] if kind != 1 else []
        verb = draw(_VERBS)
        if verb is not None:
            v = verb if isinstance(verb, str) else None
            parts.append(f'"verb":"{v}"' if v is not None else f'"verb":{json.dumps(verb)}')
        user = draw(_USERS)
        if user is not None or draw(st.booleans()):
            u = json.dumps(user, ensure_ascii=draw(st.booleans())) if not isinstance(user, str) else f'"{user}"'
            parts.append(f'"user":{{"username":{u},"uid":"x"}}' if kind != 2 else '"user":null')
        head = '{"kind":"Event",' if kind != 3 else '{ "kind": "Event", '
        out.append((head + ",".join(parts) + "}").encode())
    return b"\n".join(out) + b"\n"


def _print(path: str, condition: str, opts: OutputOptions) -> tuple[bytes, int, int, int, list[int]]:
    """What `eksaudit filter CONDITION FILE` with `opts` prints, and its counts, through the library."""
    out = io.BytesIO()
    sink = open_sink(opts, Console(out, io.StringIO(), False, False, line_buffered=False), REG)
    cond = compile_condition(condition, REG)
    bad: list[int] = []
    st_ = scan(read_events([path], required=cond.required), sink, condition=cond,
               on_unparsable=lambda ev: bad.append(ev.line), stats=ScanStats())
    sink.close()
    return out.getvalue(), sink.count, st_.events, st_.matched, bad


_CONDITIONS = ["ka.verb exists", "not ka.verb in (get, list, watch)", "ka.user.name startswith a",
               "ka.verb=get or ka.user.name exists", "ka.verb != delete"]
_OUTPUTS = [OutputOptions(), OutputOptions(count_by=["ka.user.name"]), OutputOptions(count_by=["ka.verb", "ka.user.name"]),
            OutputOptions(count_by=["ka.user.name"], top=2), OutputOptions(fields=["ka.verb", "ka.user.name"]),
            OutputOptions(limit=2), OutputOptions(quiet=True), OutputOptions(count_by=["jevt.value[/user]"])]


@settings(max_examples=150, deadline=None)
@given(data=_lines(), condition=st.sampled_from(_CONDITIONS), opts=st.sampled_from(_OUTPUTS))
def test_the_fused_loop_prints_what_the_matcher_loop_prints(data: bytes, condition: str, opts: OutputOptions) -> None:
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    try:
        os.write(fd, data)
        os.close(fd)
        fast = _print(path, condition, opts)
        with switches(FUSED=False, ONE_COLUMN=False, TYPED=False):
            slow = _print(path, condition, opts)
    finally:
        os.unlink(path)
    assert fast == slow


def test_the_direct_writer_is_used_where_nothing_is_checked_per_match() -> None:
    def sink(opts: OutputOptions) -> Any:
        return open_sink(opts, Console(io.BytesIO(), io.StringIO(), False, False, line_buffered=False), REG)

    assert sink(OutputOptions()).direct() is not None
    assert sink(OutputOptions(count_by=["ka.verb"])).direct() is not None
    assert sink(OutputOptions(limit=3)).direct() is None  # --limit is checked per match
    assert sink(OutputOptions(quiet=True)).direct() is None
    s = sink(OutputOptions(count_by=["ka.verb"]))
    s.counted(4)
    assert s.count == 4
