"""Run a condition or rules over an input file on the fast path and on the exact slow path.

The slow path is the library's own, selected by its internal switches (not a copy of the code):
`eksaudit.condition.prefilter.SKIPPING = False` (no literal prefilter, no reader anchors, no rules
prefilter), `eksaudit.events.sniff.FAST = False` (the reader parses every JSON line instead of
passing plain event lines on by their first bytes), `eksaudit.events.projection.PROJECTING =
False` (every event parsed whole instead of decoding only the paths the query reads; `TYPED =
False`, its typed first decoder off), `eksaudit.pipeline.FUSED = False` (the projection decoded by
`Projector.matcher`, every match through `sink.event`), `eksaudit.output.counts.ONE_COLUMN =
False` (`--count-by` counted by the general `Counter.add`), `eksaudit.rules.screen.SCREENING =
False` (rules matched one by one), `eksaudit.events.blocks.RUNS = False` (the anchored reader
looks at each line between anchors), `eksaudit.events.fastscan.SIMD = False` (bytes' own
substring search instead of StringZilla's), `eksaudit.events.batches.BATCHES = False` (no
block of plain lines decoded whole) and `eksaudit.pipeline.COUNT_BLOCKS = False` (a taken block's
matches counted one by one); also the rules' own twins (`BLOCK_SCREEN`, `FAST_RAWTIME`, `MEMO`,
`formatting.FAST_TEXT`, `model.FAST_CLOCK`, the learning prefilter's `ESCAPES_FIRST`,
`jevt.RAWTIME_BY_MINUTE`), `safetext.FAST` (the SIMD check of long ASCII text for control
characters) and `yamlload.CACHING` (rules files read before, from the cache).
"""

from __future__ import annotations

import contextlib
import gzip
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from eksaudit import leafcount as _leafcount
from eksaudit import pipeline as _pipeline
from eksaudit import safetext as _safetext
from eksaudit.condition import compile_condition
from eksaudit.condition import prefilter as _prefilter
from eksaudit.demo.generator import generate_events
from eksaudit.events import batches as _batches
from eksaudit.events import blocks as _blocks
from eksaudit.events import fastscan as _fastscan
from eksaudit.events import projection as _projection
from eksaudit.events import sniff as _sniff
from eksaudit.events.readers import read_events
from eksaudit.fields import default_registry
from eksaudit.fields import jevt as _jevt
from eksaudit.output import counts as _counts
from eksaudit.pipeline import scan
from eksaudit.rules import blockscreen as _blockscreen
from eksaudit.rules import formatting as _formatting
from eksaudit.rules import load_rules
from eksaudit.rules import model as _model
from eksaudit.rules import prefilter as _rules_prefilter
from eksaudit.rules import screen as _screen
from eksaudit.rules import yamlload as _yamlload

REG = default_registry()


@contextlib.contextmanager
def slow_path() -> Iterator[None]:
    """Every skip off: each line parsed, each event evaluated in full."""
    saved = (_prefilter.SKIPPING, _sniff.FAST, _projection.PROJECTING, _projection.TYPED, _pipeline.FUSED,
             _counts.ONE_COLUMN, _screen.SCREENING, _blocks.RUNS, _fastscan.SIMD, _batches.BATCHES,
             _pipeline.COUNT_BLOCKS, _blockscreen.BLOCK_SCREEN, _jevt.FAST_RAWTIME, _leafcount.MEMO,
             _formatting.FAST_TEXT, _model.FAST_CLOCK, _rules_prefilter.ESCAPES_FIRST, _safetext.FAST, _jevt.RAWTIME_BY_MINUTE,
             _yamlload.CACHING)
    _prefilter.SKIPPING = False
    _sniff.FAST = False
    _projection.PROJECTING = False
    _projection.TYPED = False
    _pipeline.FUSED = False
    _counts.ONE_COLUMN = False
    _screen.SCREENING = False
    _blocks.RUNS = False
    _fastscan.SIMD = False
    _batches.BATCHES = False
    _pipeline.COUNT_BLOCKS = False
    _blockscreen.BLOCK_SCREEN = False
    _jevt.FAST_RAWTIME = False
    _leafcount.MEMO = False
    _formatting.FAST_TEXT = False
    _model.FAST_CLOCK = False
    _rules_prefilter.ESCAPES_FIRST = False
    _safetext.FAST = False
    _jevt.RAWTIME_BY_MINUTE = False
    _yamlload.CACHING = False
    try:
        yield
    finally:
        (_prefilter.SKIPPING, _sniff.FAST, _projection.PROJECTING, _projection.TYPED, _pipeline.FUSED,
         _counts.ONE_COLUMN, _screen.SCREENING, _blocks.RUNS, _fastscan.SIMD, _batches.BATCHES,
         _pipeline.COUNT_BLOCKS, _blockscreen.BLOCK_SCREEN, _jevt.FAST_RAWTIME, _leafcount.MEMO,
         _formatting.FAST_TEXT, _model.FAST_CLOCK, _rules_prefilter.ESCAPES_FIRST, _safetext.FAST, _jevt.RAWTIME_BY_MINUTE,
         _yamlload.CACHING) = saved


class Collect:
    """A sink that keeps what a scan printed: (line, raw) of events, (rule, line, raw) of alerts.

    With `columns` (field references, like `--fields`/`--count-by`), it says what it reads
    (`reads`, so the scan keeps projected objects on matched events) and keeps their values too;
    `outputs` keeps each alert's rendered output (rendered from the whole event).
    """

    done = False

    def __init__(self, columns: list[str] | None = None, *, declare: bool = True) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.alerts: list[tuple[str, int | None, bytes]] = []
        self.outputs: list[str] = []
        self.columns = [REG.resolve_ref(c) for c in columns or ()]
        if columns is not None and declare:  # undeclared: like -o table, it may read anything
            reads: set[tuple[str, ...]] | None = set()
            for b in self.columns:
                if b.reads is None:
                    reads = None
                    break
                reads.update(b.reads)  # type: ignore[union-attr]
            self.reads = None if reads is None else frozenset(reads)

    def event(self, ev: Any) -> None:
        if self.columns:
            self.events.append((ev.line, ev.raw, tuple(repr(b.extract(ev)) for b in self.columns)))
        else:
            self.events.append((ev.line, ev.raw))

    def alert(self, a: Any) -> None:
        self.alerts.append((a.rule, a.event.line, a.event.raw))
        self.outputs.append(a.output)


def run(path: Path, condition: str | None = None, rules: list[str] | None = None,
        columns: list[str] | None = None, declare: bool = True) -> Collect:
    """What `eksaudit filter` prints for this input (events, or alerts with -r), through the library."""
    cond = compile_condition(condition, REG) if condition is not None else None
    rs = load_rules(rules, REG, rule_matching="all") if rules else None
    required = None
    if rs is None and cond is not None:
        required = cond.required
    elif rs is not None and cond is None:
        required = rs.required
    sink = Collect(columns, declare=declare)
    scan(read_events([str(path)], required=required), sink, condition=cond, rules=rs)
    return sink


def both(path: Path, condition: str | None = None, rules: list[str] | None = None,
         columns: list[str] | None = None, declare: bool = True) -> tuple[Collect, Collect]:
    fast = run(path, condition, rules, columns, declare)
    with slow_path():
        slow = run(path, condition, rules, columns, declare)
    return fast, slow


def objects(c: Collect) -> list[Any]:
    """The printed events as parsed values (the same whatever their spelling)."""
    return [orjson.loads(raw) for _, raw in c.events]


def alert_counts(c: Collect) -> Counter[str]:
    return Counter(rule for rule, _, _ in c.alerts)


def write(tmp: Path, name: str, data: bytes, *, gz: bool = False) -> Path:
    p = tmp / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    return p


# --- events ---------------------------------------------------------------------------------------

_DEMO: list[dict[str, Any]] | None = None
_CONF: list[dict[str, Any]] | None = None


def demo_events() -> list[dict[str, Any]]:
    global _DEMO
    if _DEMO is None:
        _DEMO = list(generate_events(600, seed=11))
    return _DEMO


def conformance_events(root: Path | None) -> list[dict[str, Any]]:
    """Every audit event of the Falco trace files, then of the conformance datasets ([] when absent)."""
    global _CONF
    if _CONF is None:
        _CONF = []
        if root is not None:
            files = sorted((root / "falco" / "trace_files" / "k8s_audit").glob("*.json"))
            files += sorted(p for p in (root / "datasets").rglob("*") if p.suffix in (".log", ".jsonl")
                            and "expectations" not in p.name)
            for ev in read_events([str(p) for p in files]):
                o = ev.obj
                if isinstance(o, dict) and "auditID" in o:
                    _CONF.append(o)
    return _CONF


def trace_events(root: Path | None) -> list[dict[str, Any]]:
    """The events of Falco's k8s_audit trace files (each made to raise an alert of the upstream rules)."""
    if root is None:
        return []
    files = sorted((root / "falco" / "trace_files" / "k8s_audit").glob("*.json"))
    return [ev.obj for ev in read_events([str(p) for p in files]) if isinstance(ev.obj, dict)]


def sample(rng: random.Random, pool: list[Any], n: int) -> list[Any]:
    return [pool[rng.randrange(len(pool))] for _ in range(n)] if pool else []


def rules_named(name: str, root: Path | None) -> list[str]:
    """`-r` arguments for "eks" (built in) or "upstream" (Falco's k8s_audit_rules.yaml; skips when absent)."""
    if name == "eks":
        return ["eks"]
    if root is None or not (root / "falco" / "k8s_audit_rules.yaml").is_file():
        import pytest

        pytest.skip("conformance data not found (falco/k8s_audit_rules.yaml)")
    return [str(root / "falco" / "k8s_audit_rules.yaml")]
