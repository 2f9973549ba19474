"""Property: rules screened on whole blocks (rules/blockscreen.py) raise what line by line raises.

Rulesets are random (the generators of test_screen_property: conjunctions over every registered
field and operator, macros shared between rules). Inputs are demo and conformance events written
as plain lines, the same events with odd JSON at commonly tested paths (null, numbers, booleans,
arrays, objects, big integers: what the block's typed leaves must decline or key apart), some
re-spelled (escapes, whitespace, shuffled keys) or in Go's spelling, and every odd line of the
whole-block property (not JSON, two values on a line, CRLF, wrappers, documents, invalid UTF-8).
The slow twin is `blockscreen.BLOCK_SCREEN = False`. Blocks are small and large, the learning sample
and the decision tables tiny or not; alerts (rule, line, raw text, rendered output), the events
counted and the lines reported unparsable must be the same, and, through the CLI, stdout, stderr
and the exit status, in one process and in workers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soundness_kit import REG, Collect, conformance_events, demo_events
from support.conformance import conformance_dir
from support.jobs import run_jobs
from support.respell import go_spell, respell
from test_batches_property import _lines as odd_lines
from test_screen_property import _odd, _ruleset_text
from test_soundness_property import compiled_conditions

from eksaudit.events import blocks
from eksaudit.events.batches import BlockSlot
from eksaudit.events.leaves import PartialEvent
from eksaudit.events.readers import read_events
from eksaudit.pipeline import ScanStats, scan
from eksaudit.rules import blockscreen, load_rules
from eksaudit.rules import screen as _screen

_POOL: list[dict[str, Any]] = []


def _pool() -> list[dict[str, Any]]:
    if not _POOL:
        _POOL.extend(demo_events() + conformance_events(conformance_dir()))
    return _POOL


def _compact(o: Any) -> bytes:
    try:
        return orjson.dumps(o)
    except TypeError:  # 2**70
        return json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()


def _input(rng: random.Random, n: int) -> tuple[bytes, list[dict[str, Any]]]:
    """Mostly plain lines (so that whole blocks are common), some odd events, re-spellings, odd lines."""
    pool = _pool()
    chosen = [pool[rng.randrange(len(pool))] for _ in range(n)]
    lines: list[bytes] = []
    for i, o in enumerate(chosen):
        r = rng.random()
        if r < 0.08:
            o = _odd(rng, o)
        elif r < 0.10:
            o = {k: v for k, v in o.items() if k != "auditID"}  # the gate's leaves, without the gate
        elif r < 0.12:
            lines.extend(odd_lines(rng.randint(86, 99), i))
            continue
        line = _compact(o)
        r = rng.random()
        if r < 0.05:
            line = respell(o, rng).encode()
        elif r < 0.10:
            line = go_spell(line)
        lines.append(line)
    return b"\n".join(lines) + b"\n", chosen


def _library(path: Path, rules: Path, matching: str) -> tuple[Any, ...]:
    rs = load_rules([str(rules)], REG, rule_matching=matching)
    slot = BlockSlot()
    sink = Collect()
    unparsable: list[int | None] = []
    alerts: list[str] = []
    st_ = scan(read_events([str(path)], slot=slot), sink, rules=rs, slot=slot, stats=ScanStats(),
               on_alert=lambda a: alerts.append(a.rule), on_unparsable=lambda ev: unparsable.append(ev.line))
    return sink.alerts, sink.outputs, alerts, st_.events, st_.matched, st_.alerts, unparsable


def _both(mp: pytest.MonkeyPatch, fn: Any, *args: Any) -> tuple[Any, Any]:
    mp.setattr(blockscreen, "BLOCK_SCREEN", True)
    fast = fn(*args)
    mp.setattr(blockscreen, "BLOCK_SCREEN", False)
    slow = fn(*args)
    mp.setattr(blockscreen, "BLOCK_SCREEN", True)
    return fast, slow


def _case(tmp_path: Path, seed: int) -> tuple[random.Random, Path, Path]:
    rng = random.Random(seed)
    data, chosen = _input(rng, rng.choice([40, 300, 900]))
    checks = compiled_conditions(rng, chosen[:60], 8)  # values taken from the events: some match
    rules = tmp_path / f"r{seed}.yaml"
    rules.write_text(_ruleset_text(rng, checks, rng.randint(2, 12)))
    path = tmp_path / f"in{seed}.jsonl"
    path.write_bytes(data)
    return rng, path, rules


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), matching=st.sampled_from(["all", "first"]),
       block=st.sampled_from([300, 4096, 1 << 20]), first=st.sampled_from([100, 1 << 16]),
       learn=st.sampled_from([1, 7, 256]), cap=st.sampled_from([1, 3, 4096]))
def test_blocks_screened_whole_raise_what_lines_raise(tmp_path: Path, seed: int, matching: str, block: int,
                                                      first: int, learn: int, cap: int) -> None:
    _, path, rules = _case(tmp_path, seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        mp.setattr(blocks, "_FIRST_BLOCK", first)
        mp.setattr(_screen, "LEARN", learn)
        mp.setattr(blockscreen, "CACHE_CAP", cap)
        fast, slow = _both(mp, _library, path, rules, matching)
    assert fast == slow, rules.read_text()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), jobs=st.sampled_from([1, 2]), fmt=st.sampled_from(["falco", "falco-json"]))
def test_the_cli_prints_what_lines_print(tmp_path: Path, seed: int, jobs: int, fmt: str) -> None:
    _, path, rules = _case(tmp_path, seed)
    args = ["filter", "-r", str(rules), str(path), "-o", fmt]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", 4096)
        mp.setattr(_screen, "LEARN", 7)
        fast, slow = _both(mp, run_jobs, args, jobs, 8192)
    assert fast == slow


def test_the_random_cases_take_blocks_and_raise_alerts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The property would prove little if no block were screened whole or no rule fired."""
    taken = alerts = 0
    real = blockscreen.BlockScreen.taker

    def counting(self: Any, *a: Any, **k: Any) -> Any:
        take = real(self, *a, **k)

        def wrapped(*b: Any) -> bool:
            nonlocal taken
            ok = take(*b)
            taken += ok
            return ok

        return wrapped

    monkeypatch.setattr(blockscreen.BlockScreen, "taker", counting)
    monkeypatch.setattr(blocks, "_BLOCK", 4096)
    monkeypatch.setattr(_screen, "LEARN", 7)
    for seed in range(8):
        _, path, rules = _case(tmp_path, seed)
        alerts += len(_library(path, rules, "all")[0])
    assert taken >= 8 and alerts > 0


def test_upstream_rules_on_demo_events_are_screened_on_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Falco's own ruleset: the keyed fields it tests are served by the Structs, alerts as line by line."""
    root = conformance_dir()
    upstream = root / "falco" / "k8s_audit_rules.yaml" if root is not None else None
    if upstream is None or not upstream.is_file():
        pytest.skip("Falco's k8s_audit_rules.yaml not found under the conformance folder")
    path = tmp_path / "demo.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(o) for o in demo_events() * 3) + b"\n")
    monkeypatch.setattr(blocks, "_BLOCK", 8192)
    fast, slow = _both(monkeypatch, _library, path, upstream, "first")
    assert fast == slow
    assert fast[0]
    rs = load_rules([str(upstream)], REG)
    bs = rs.block_screen()
    assert bs is not None
    labels = {s.field.label for s in bs._specs()}
    assert {"ka.verb", "ka.target.resource", "ka.user.name", "jevt.rawtime"} <= labels


_CUTS = [{}, {"objectRef": None}, {"objectRef": {}}, {"objectRef": {"resource": None}},
         {"objectRef": {"resource": "pods"}}, {"objectRef": {"resource": "null"}}, {"objectRef": {"resource": 1}},
         {"objectRef": {"resource": "1"}}, {"verb": None}, {"verb": "null"}, {"verb": "get"}]
_CUT_RULES = "\n".join(
    f"- rule: r{i}\n  desc: d\n  condition: {c}\n  output: o %ka.target.resource\n  priority: WARNING\n"
    f"  source: k8s_audit\n"
    for i, c in enumerate([
        "ka.target.resource exists and ka.verb exists", "not ka.target.resource exists and not ka.verb exists",
        "ka.target.resource = null and ka.verb in (get, null)", "jevt.value[/objectRef/resource] exists",
        "not jevt.value[/objectRef/resource] exists and ka.verb = get", "ka.target.resource in (pods, 1)",
    ])
)


@pytest.mark.parametrize("seed", range(6))
def test_paths_cut_short_and_events_without_the_gate_are_keyed_apart(tmp_path: Path, seed: int) -> None:
    """`{"objectRef": null}` and `{"objectRef": {"resource": null}}` read differently (None and
    "null"), as do the same leaves with and without `auditID`: each must have its own decision."""
    rng = random.Random(seed)
    objs = []
    for _ in range(400):
        o: dict[str, Any] = {"kind": "Event"}
        if rng.random() < 0.7:
            o["auditID"] = f"a{rng.randrange(9)}"
        for part in rng.sample(_CUTS, 2):
            o.update(part)
        objs.append(o)
    fast, slow = _screened(tmp_path / "cuts", objs, _CUT_RULES, rng.choice([200, 2048]))
    assert fast == slow
    assert len(fast[0]) > 100


def _screened(base: Path, objs: list[Any], rules_text: str, block: int) -> tuple[Any, Any]:
    """`_library` on these objects (one line each) and rules, blocks on and off, learning on 3 events."""
    path, rules = base.with_suffix(".jsonl"), base.with_suffix(".yaml")
    path.write_bytes(b"\n".join(orjson.dumps(o) for o in objs) + b"\n")
    rules.write_text(rules_text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        mp.setattr(_screen, "LEARN", 3)
        return _both(mp, _library, path, rules, "all")


_TIMES: list[Any] = ["2026-02-01T10:00:00.179826Z", "2026-02-01T10:00:00.179826Z", "2026-02-01T10:00:01.000000Z",
                     "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00",
                     "1969-12-31T23:59:59.999999Z", "2026-02-30T10:00:00.179826Z", "2026-02-01T10:00:00Z", "",
                     "x", None, 0, 7, "2026-02-01t10:00:00.179826Z", "2026-02-01T10:00:00.17982\u0661Z"]
_TIME_RULES = "\n".join(
    f"- rule: t{i}\n  desc: d\n  condition: {c}\n  output: o %jevt.rawtime\n  priority: WARNING\n"
    f"  source: k8s_audit\n"
    for i, c in enumerate([
        "jevt.rawtime exists", "jevt.rawtime = 0", "not jevt.rawtime = 0 and ka.verb = get",
        "jevt.rawtime in (1769940000179826000, 3600000000000, '')", "jevt.rawtime = 1769940001000000000",
        "not jevt.rawtime exists", "jevt.rawtime != 0 and jevt.rawtime exists",
    ])
)


@pytest.mark.parametrize("seed", range(6))
def test_equality_fields_decided_inline_read_as_their_tables(tmp_path: Path, seed: int) -> None:
    """`jevt.rawtime` in Falco's never/always-true macros is decided inline (its values are all
    new): missing, `null`, other types, the epoch in several spellings, invalid dates and values
    equal to a literal must decide as line by line does."""
    rng = random.Random(seed)
    objs = []
    for i in range(400):
        o: dict[str, Any] = {"kind": "Event", "auditID": f"a{i}", "verb": rng.choice(["get", "list"])}
        r = rng.random()
        if r < 0.85:
            o["stageTimestamp"] = rng.choice(_TIMES)
        elif r < 0.9:
            o["stageTimestamp"] = {"a": 1}  # not a leaf: the block goes line by line
        objs.append(o)
    fast, slow = _screened(tmp_path / "times", objs, _TIME_RULES, rng.choice([300, 4096]))
    rs = load_rules([str(tmp_path / "times.yaml")], REG)
    for ev in read_events([str(tmp_path / "times.jsonl")]):
        rs.screen.candidates(ev)
    assert any(blockscreen.BlockScreen._inline(s) is not None for s in rs.block_screen()._specs())
    assert fast == slow
    rules_hit = {a for a in fast[2]}
    assert {"t0", "t1", "t3", "t4", "t5"} <= rules_hit


def _path_fields() -> list[Any]:
    """Every bound field of the registry with a plain `path` and declared reads (fields that need
    an argument, with a few sample arguments)."""
    out = []
    for name in REG.names():
        try:
            out.append(REG.resolve(name, None))
        except Exception:  # noqa: BLE001 (fields that need an argument)
            continue
    out += [REG.resolve_ref(ref) for ref in ("ka.annotation[x]", "jevt.value[/a/b]", "ka.user.extra[arn]")]
    return [b for b in out if getattr(b, "path", None) is not None and getattr(b, "reads", None) is not None]


def test_path_fields_read_the_audit_id_only_for_the_gate() -> None:
    """The assumption behind keying a `path` field by its leaf and the gate's presence: its value
    does not change with the `auditID` value (only with whether there is one)."""
    rng = random.Random(5)
    events = [o for o in _pool() if isinstance(o, dict)][:200]
    gated = [b for b in _path_fields() if b.path != ("auditID",) and ("auditID",) in set(map(tuple, b.reads))]
    for bound in gated:
        for o in rng.sample(events, 20):
            values = set()
            for audit_id in ("a", "b" * 40, "", 7, None, {"x": 1}, [1]):
                ev = PartialEvent({**o, "auditID": audit_id})
                values.add(repr(bound.extract(ev)))
            assert len(values) == 1, bound.ref
    assert len(gated) >= 10


def test_path_fields_read_their_path_and_the_gate_only() -> None:
    """`presence_reads` (condition/resolver.py) counts a path field's other reads as presence-only:
    in eksaudit's registry those are the audit gate alone."""
    fields = _path_fields()
    for bound in fields:
        assert set(map(tuple, bound.reads)) <= {tuple(bound.path), ("auditID",)}, bound.ref
    assert len(fields) >= 10
