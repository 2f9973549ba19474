"""Property: the fast path prints exactly what the slow path prints, on any spelling of the events.

Events come from the demo generator and (when present) the conformance datasets and Falco trace
files; each input is a random re-spelling (tests/support/respell.py: escapes of any character in keys
and values, `\\/`, whitespace, shuffled keys, pretty-printed documents, CRLF, BOM, numbers with
exponents); conditions are generated over every registered field and every operator, with values
taken from the events so that they match some of them. The slow path is the library's own, through
its internal switches (soundness_kit.slow_path). On the original spelling (numbers kept), the
re-spelled input must also print the same events as the original.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soundness_kit import REG, both, conformance_events, demo_events, objects, rules_named, sample, write
from support.conformance import conformance_dir
from support.respell import go_spell, respell_file

from eksaudit.condition import ConditionError, compile_condition
from eksaudit.condition.operators import ALLOWED_OPS, NUMERIC_TYPES
from eksaudit.events.event import AuditEvent
from eksaudit.fields.registry import ArgKind

FIELDS = [d for d in REG if not d.deprecated]
_BARE = re.compile(r"[A-Za-z0-9_./:@-]+\Z")
_VOCAB = ["delete", "secrets", "get", "list", "pods", "/api", "/healthz", "system:masters", "kube-system",
          "200", "403", "true", "admin", "exec", "create", "configmaps", "a/b", "x&y", "default"]


def _pool(rng: random.Random) -> list[dict[str, Any]]:
    conf = conformance_events(conformance_dir())
    return demo_events() + conf


def _quote(v: str) -> str:
    if _BARE.match(v) and v not in ("and", "or", "not", "in", "exists"):
        return v
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _arg(rng: random.Random, defn: Any, ev: dict[str, Any]) -> str | None:
    if defn.arg is ArgKind.NONE:
        return None
    if defn.arg is ArgKind.INDEX:
        return rng.choice([None, "0", "1"])
    keys: list[str] = []
    if defn.name == "ka.annotation":
        keys = list((ev.get("annotations") or {}).keys())
    elif defn.name == "ka.user.extra":
        keys = list(((ev.get("user") or {}).get("extra") or {}).keys())
    elif defn.name == "ka.uri.param":
        keys = re.findall(r"[?&]([^=&]+)=", ev.get("requestURI", ""))
    elif defn.name.endswith(".value"):
        keys = ["/verb", "/objectRef/resource", "/user/groups/0", "/requestURI", "/responseStatus/code",
                "/annotations/authorization.k8s.io~1decision", "/user/extra"]
    return rng.choice(keys + ["name", "x"])


def _values(rng: random.Random, bound: Any, pool: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for _ in range(4):
        v = bound.extract(AuditEvent.from_obj(pool[rng.randrange(len(pool))]))
        if isinstance(v, list):
            v = rng.choice(v)
        if v is None:
            continue
        out.append("true" if v is True else "false" if v is False else str(v))
    return out or [rng.choice(_VOCAB)]


def _piece(rng: random.Random, text: str, op: str) -> str:
    if not text:
        return text
    i, j = sorted(rng.sample(range(len(text) + 1), 2)) if len(text) > 1 else (0, 1)
    if op == "startswith":
        return text[:j]
    if op == "endswith":
        return text[i:]
    if op in ("contains", "icontains"):
        return text[i:j] if rng.random() < 0.8 else text.upper()
    if op in ("glob", "iglob"):
        return "*" + text[i:j] + "*"
    if op == "regex":
        return ".*" + re.escape(text[i:j]) + ".*"
    return text


def _renders_objects(bound: Any, pool: list[dict[str, Any]]) -> bool:
    """The field's value is (for some event) an object or array rendered as JSON text: key order shows."""
    for o in pool[:60]:
        v = bound.extract(AuditEvent.from_obj(o))
        for x in v if isinstance(v, list) else [v]:
            if isinstance(x, str) and x[:1] in ("{", "["):
                return True
    return False


_ORDERED: list[bool] = []  # set by `check`: whether the last check's field rendered objects


def check(rng: random.Random, pool: list[dict[str, Any]]) -> str:
    """One random check over one random field: `field op value`, `field in (...)`, `field exists`."""
    defn = rng.choice(FIELDS)
    ev = pool[rng.randrange(len(pool))]
    arg = _arg(rng, defn, ev)
    ref = defn.name if arg is None else f"{defn.name}[{arg}]"
    bound = REG.resolve(defn.name, arg)
    _ORDERED.append(_renders_objects(bound, pool))
    family = "numeric" if bound.type in NUMERIC_TYPES else "ip" if bound.type in ("ipaddr", "ipnet") else (
        "bool" if bound.type == "bool" else "string")
    ops = sorted(ALLOWED_OPS[family]) + ["exists"]
    if bound.string_ops:
        ops += ["contains", "startswith", "endswith"]
    op = rng.choice(ops)
    if op == "exists":
        return f"{ref} exists"
    values = _values(rng, bound, pool)
    if op in ("in", "intersects", "pmatch"):
        return f"{ref} {op} ({', '.join(_quote(v) for v in values[: rng.randint(1, 3)])})"
    return f"{ref} {op} {_quote(_piece(rng, rng.choice(values), op))}"


def condition(rng: random.Random, pool: list[dict[str, Any]]) -> str:
    a, b = check(rng, pool), check(rng, pool)
    shape = rng.random()
    if shape < 0.4:
        return a
    if shape < 0.7:
        return f"{a} and {b}"
    if shape < 0.9:
        return f"{a} or {b}"
    return f"{a} and not {b}"


def compiled_conditions(rng: random.Random, pool: list[dict[str, Any]], n: int, *,
                        key_order_free: bool = False) -> list[str]:
    """`n` conditions that compile; `key_order_free`: none reads an object rendered as text (whose
    key order is part of the value, see docs/conditions.md)."""
    out: list[str] = []
    while len(out) < n:
        _ORDERED.clear()
        text = condition(rng, pool)
        if key_order_free and any(_ORDERED):
            continue
        try:
            compile_condition(text, REG)
        except ConditionError:
            continue
        out.append(text)
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), numbers=st.booleans(), gz=st.booleans())
def test_fast_path_prints_what_the_slow_path_prints(tmp_path: Path, seed: int, numbers: bool, gz: bool) -> None:
    rng = random.Random(seed)
    pool = _pool(rng)
    events = sample(rng, pool, 30)
    path = write(tmp_path, f"in-{seed}.jsonl", respell_file(events, rng, numbers=numbers), gz=gz)
    for text in compiled_conditions(rng, events, 5):
        fast, slow = both(path, text)
        assert fast.events == slow.events, text
    fast, slow = both(path, None)  # `fields` / --count-by: every event, only the reader's sniffing
    assert fast.events == slow.events
    assert len(slow.events) == len(events)
    fast, slow = both(path, None, columns=["ka.user.name", "ka.target.resource", "ka.response.code"])
    assert fast.events == slow.events  # `fields F...`: the columns' paths decoded alone


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_respelled_input_prints_the_same_events(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    pool = _pool(rng)
    events = sample(rng, pool, 30)
    plain = write(tmp_path, f"plain-{seed}.jsonl", b"".join(respell_file([e], rng, p_multiline=0, bom=False,
                                                                         crlf=False) for e in events))
    original = write(tmp_path, f"orig-{seed}.jsonl", b"".join(
        __import__("orjson").dumps(e) + b"\n" for e in events))
    go = write(tmp_path, f"go-{seed}.jsonl", go_spell(original.read_bytes()))
    other = write(tmp_path, f"re-{seed}.jsonl", respell_file(events, rng))
    for text in compiled_conditions(rng, events, 5, key_order_free=True):
        want = objects(both(original, text)[1])
        for p in (plain, go, other):
            fast, slow = both(p, text)
            assert objects(fast) == objects(slow) == want, (text, p.name)


def test_the_generated_conditions_are_not_trivial() -> None:
    """The property tests would prove little if the conditions never matched, or never skipped."""
    rng = random.Random(5)
    pool = demo_events()
    events = [AuditEvent.from_obj(o) for o in pool[:100]]
    texts = compiled_conditions(rng, pool[:100], 200)
    matching = selective = prefiltered = 0
    for text in texts:
        c = compile_condition(text, REG)
        n = sum(1 for ev in events if c.matches(ev))
        matching += n > 0
        selective += 0 < n < len(events)
        prefiltered += c.prefilter is not None
    assert matching > 60 and selective > 40 and prefiltered > 30, (matching, selective, prefiltered)
    used = {m.group(0) for t in texts for m in re.finditer(r"[a-z]+\.[a-z0-9_.]+", t)}
    assert len(used & {d.name for d in FIELDS}) > len(FIELDS) * 0.5  # all of them: the test below


def test_every_field_and_every_operator(tmp_path: Path) -> None:
    """Each registered field with each of its operators, on one input mixing every spelling class."""
    import orjson

    rng = random.Random(9)
    pool = demo_events()[:24] + sample(rng, conformance_events(conformance_dir()), 12)
    lines = []
    for i, e in enumerate(pool):
        compact = orjson.dumps(e)
        lines.append(go_spell(compact) + b"\n" if i % 3 == 0 else respell_file([e], rng, bom=False, crlf=i % 2 == 0))
    path = write(tmp_path, "mixed.jsonl", b"\xef\xbb\xbf" + b"".join(lines))
    tried = 0
    ops_tried: set[str] = set()
    fields_tried: set[str] = set()
    for defn in FIELDS:
        ev = pool[rng.randrange(len(pool))]
        arg = _arg(rng, defn, ev)
        ref = defn.name if arg is None else f"{defn.name}[{arg}]"
        bound = REG.resolve(defn.name, arg)
        family = "numeric" if bound.type in NUMERIC_TYPES else "ip" if bound.type in ("ipaddr", "ipnet") else (
            "bool" if bound.type == "bool" else "string")
        values = _values(rng, bound, pool)
        ops = sorted(ALLOWED_OPS[family])
        rng.shuffle(ops)  # four operators per field; over all fields, every operator (asserted below)
        for op in ops[:4] + ["exists"]:
            if op == "exists":
                text = f"{ref} exists"
            elif op in ("in", "intersects", "pmatch"):
                text = f"{ref} {op} ({', '.join(_quote(v) for v in values[:2])})"
            else:
                text = f"{ref} {op} {_quote(_piece(rng, values[0], op))}"
            try:
                compile_condition(text, REG)
            except ConditionError:  # e.g. `<` on a string, `contains` on a list field (as in Falco)
                continue
            tried += 1
            ops_tried.add(op)
            fields_tried.add(defn.name)
            fast, slow = both(path, text)
            assert fast.events == slow.events, text
            # the field printed for each match (--fields/--count-by): a projected event kept as is
            fast, slow = both(path, text, columns=[ref, "ka.verb"])
            assert fast.events == slow.events, text
    assert tried > 2 * len(FIELDS) and fields_tried == {d.name for d in FIELDS}, tried
    assert ops_tried == set().union(*(ALLOWED_OPS[f] for f in ("string", "numeric"))) | {"exists"}, ops_tried


@pytest.mark.parametrize("rules_name", ["eks", "upstream"])
def test_rules_alert_the_same_on_every_spelling(tmp_path: Path, rules_name: str) -> None:
    root = conformance_dir()
    rules = rules_named(rules_name, root)
    import orjson
    from soundness_kit import alert_counts, trace_events

    rng = random.Random(3)
    pool = demo_events()[:300] + trace_events(root) + sample(rng, conformance_events(root), 150)
    original = write(tmp_path, "orig.jsonl", b"".join(orjson.dumps(e) + b"\n" for e in pool))
    go = write(tmp_path, "go.jsonl", go_spell(original.read_bytes()))
    re1 = write(tmp_path, "re1.jsonl", respell_file(pool, rng))
    re2 = write(tmp_path, "re2.jsonl", respell_file(pool, rng, p_multiline=0.3), gz=True)
    fast, slow = both(original, rules=rules)
    want = alert_counts(slow)
    assert sum(want.values()) > 10 and len(want) > 3, want
    assert alert_counts(fast) == want
    for p in (go, re1, re2):
        fast, slow = both(p, rules=rules)
        assert alert_counts(fast) == alert_counts(slow) == want, p.name
        assert [r for r, _, _ in fast.alerts] == [r for r, _, _ in slow.alerts]
        assert fast.outputs == slow.outputs, p.name  # rendered from the whole event, not a projection
