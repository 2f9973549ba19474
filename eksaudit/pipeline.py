"""The scan loop shared by filter, fetch and watch: events → (window, condition or rules) → sink.

Kept in one place because it is the hot path: the literal prefilter runs on raw bytes before any
JSON is parsed, the time window is checked next, and only then the compiled condition or ruleset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .events import batches, fastscan
from .events.batches import BlockSlot
from .events.event import UNPARSED, AuditEvent
from .events.projection import Projection, projection_for
from .timestamps import ts_ms
from .timewindow import Window

# The slow twin of counting a taken block's matches at once (`Counter.bulk`): when False, each
# match of a block is counted through `sink.direct()`'s function, as any other match.
COUNT_BLOCKS = True

# The slow twin of the condition loop's fused projection and of sinks' `direct()` writers: when
# False, a projected condition runs through `Projector.matcher` and every match through `sink.event`.
FUSED = True


class Sink(Protocol):
    done: bool

    def event(self, ev: AuditEvent) -> None: ...

    def alert(self, alert: Any) -> None: ...


class Condition(Protocol):
    prefilter: Callable[[bytes], bool] | None

    def matches(self, event: Any) -> bool: ...


class Rules(Protocol):
    prefilter: Callable[[bytes], bool] | None

    def match(self, event: Any) -> list[Any]: ...


@dataclass
class ScanStats:
    """What a scan saw: events read, events that matched, alerts raised."""

    events: int = 0
    matched: int = 0
    alerts: int = 0


def event_time_ms(ev: AuditEvent) -> int | None:
    """The event's time for local windows: `stageTimestamp`, else the CloudWatch timestamp."""
    obj = ev.obj
    if isinstance(obj, dict):
        ms = ts_ms(obj.get("stageTimestamp") or obj.get("requestReceivedTimestamp"))
        if ms is not None:
            return ms
    if ev.cw is not None and ev.cw.timestamp is not None:
        return ev.cw.timestamp
    return None


def in_window(ev: AuditEvent, window: Window) -> bool:
    ms = event_time_ms(ev)
    return ms is not None and window.contains(ms)


def scan(
    events: Iterable[AuditEvent],
    sink: Sink,
    *,
    condition: Condition | None = None,
    rules: Rules | None = None,
    window: Window | None = None,
    on_alert: Callable[[Any], None] | None = None,
    on_unparsable: Callable[[AuditEvent], None] | None = None,
    stats: ScanStats | None = None,
    slot: BlockSlot | None = None,
) -> ScanStats:
    """Feed matching events (or, with rules, their alerts) to `sink` until the input or `--limit` ends.

    With both a condition and rules, an event must pass the condition before the rules see it.
    `on_alert` sees every alert (the end-of-run summary counts them). `on_unparsable` hears of
    events found not to be JSON when evaluated (readers do not parse event lines).

    When the condition, the rules, the window and the sink all say which JSON paths they read
    (`reads`), events are decoded through a projection of those paths (events/projection.py).
    `slot`: the `BlockSlot` of `events`' reader (`read_events(slot=...)`), through which a scan
    may take whole blocks of plain event lines (events/batches.py).
    """
    st = stats if stats is not None else ScanStats()
    project = projector(condition, rules, window, sink)
    if rules is None and window is None:  # no condition (`fields`, `fetch`): every event is a match
        return _scan_condition(events, sink, condition or _EVERY, on_unparsable, st, project, slot)
    prefilter = _both_prefilters(condition, rules)
    cond_match = condition.matches if condition is not None else None
    rules_match = rules.match if rules is not None else None
    emit_event = sink.event
    emit_alert = sink.alert
    n = st.events
    deliver = _deliverer(st, on_alert, emit_alert)
    taken = _offer_rule_blocks(slot, sink, condition, rules, window, deliver, on_unparsable)
    try:
        for ev in events:
            n += 1
            if prefilter is not None and not prefilter(ev.raw):
                continue
            projected = project is not None and project.prepare(ev)
            if window is not None and not in_window(ev, window):
                continue
            if cond_match is not None and not cond_match(ev):
                if on_unparsable is not None and ev.failed_to_parse:
                    on_unparsable(ev)
                continue
            if rules_match is not None:
                alerts = rules_match(ev)
                if not alerts:
                    if on_unparsable is not None and ev.failed_to_parse:
                        on_unparsable(ev)
                    continue
                if projected:
                    ev._obj = UNPARSED  # alerts render their output from the whole event, always
                deliver(alerts)
            else:
                if projected:
                    project.release(ev)  # type: ignore[union-attr]
                st.matched += 1
                emit_event(ev)
            if sink.done:
                break
    finally:
        if taken is not None:
            slot.take = None  # type: ignore[union-attr]
            n += taken[0]
        st.events = n
        _flush(sink)
    return st


def _deliverer(st: ScanStats, on_alert: Callable[[Any], None] | None,
               emit_alert: Callable[[Any], None]) -> Callable[[list[Any]], None]:
    """What becomes of a matched event's alerts: counted in `st`, heard by `on_alert`, emitted."""

    def deliver(alerts: list[Any]) -> None:
        st.matched += 1
        for a in alerts:
            st.alerts += 1
            if on_alert is not None:
                on_alert(a)
            emit_alert(a)

    return deliver


def _offer_rule_blocks(slot: BlockSlot | None, sink: Any, condition: Any, rules: Any, window: Window | None,
                       deliver: Callable[[list[Any]], None],
                       on_unparsable: Callable[[AuditEvent], None] | None) -> list[int] | None:
    """Put the rules' block taker (rules/blockscreen.py) in `slot` for a scan of rules alone into
    a sink without `--limit`; the [events] it will have handled (None: nothing offered)."""
    if slot is None or not batches.BATCHES or condition is not None or window is not None:
        return None
    if getattr(sink, "limit", None) is not None:
        return None
    block_screen = getattr(rules, "block_screen", None)
    screen = block_screen() if block_screen is not None else None
    if screen is None:
        return None
    taken = [0]
    slot.take = screen.taker(deliver, on_unparsable, taken, partial=bool(getattr(sink, "alerts_only", False)))
    return taken


class _Every:
    """The condition of a scan without one (`eksaudit fields`, `fetch` without `--filter`): every
    event matches (what reads the events is the sink alone: `projector` was given no condition)."""

    prefilter = None

    @staticmethod
    def matches(event: Any) -> bool:
        return True


_EVERY = _Every()


def _flush(sink: Any) -> None:
    """What a sink holds back (a batch of printed events) written, also when the scan was interrupted."""
    flush = getattr(sink, "flush", None)
    if flush is not None:
        flush()


def _both_prefilters(condition: Any, rules: Any) -> Callable[[bytes], bool] | None:
    """The condition's and the rules' raw-bytes prefilters as one (None: neither has one)."""
    prefilters = [p for p in (getattr(condition, "prefilter", None), getattr(rules, "prefilter", None)) if p]
    if len(prefilters) == 2:
        pf_cond, pf_rules = prefilters
        return lambda raw: pf_cond(raw) and pf_rules(raw)
    return prefilters[0] if prefilters else None


def _scan_condition(
    events: Iterable[AuditEvent],
    sink: Sink,
    condition: Condition,
    on_unparsable: Callable[[AuditEvent], None] | None,
    st: ScanStats,
    project: Projector | None,
    slot: BlockSlot | None = None,
) -> ScanStats:
    """`scan` for the common case, a condition alone (no rules, no window): one test per event.

    Same results as the general loop; the prefilter (if any) runs on the raw bytes first. A
    projection is decoded here (`Projector.matcher`, inlined); a sink that offers `direct()` gets
    its writer's function, counted at the end; a `batchable` one, whole blocks (`_offer_blocks`).
    """
    pre = getattr(condition, "prefilter", None)
    if project is None or not FUSED:
        match = condition.matches if project is None else project.matcher(condition.matches)
        return _scan_matching(events, sink, match, pre, on_unparsable, st)
    match = condition.matches
    decode, second, errors = project.projection.parts()
    keep = project.keep
    unparsed = UNPARSED
    direct = getattr(sink, "direct", None)
    emit = direct() if direct is not None else None
    emit, direct = (sink.event, None) if emit is None else (emit, direct)
    first = st.events + 1
    n, matched = first - 1, 0  # n: events seen so far (the loop variable, read in finally)
    taken = _offer_blocks(slot, sink, project, condition, emit) if pre is None and direct is not None else [0, 0]
    try:
        for n, ev in enumerate(events, first):  # noqa: B007 (n is read in finally)
            if pre is not None and not pre(ev.raw):
                continue
            if ev._obj is unparsed:
                try:
                    part = decode(ev.raw)
                except errors:
                    part = None
                    if second is not None:
                        try:
                            part = second(ev.raw)
                        except errors:
                            part = None  # parsed whole by the fields that read it, as without a projection
                if part is not None:
                    ev._obj = part
                    if match(ev):
                        if not keep:
                            ev._obj = unparsed
                        matched += 1
                        emit(ev)
                        if direct is None and sink.done:
                            break
                    continue
            if match(ev):
                matched += 1
                emit(ev)
                if direct is None and sink.done:
                    break
            elif on_unparsable is not None and ev.failed_to_parse:
                on_unparsable(ev)
    finally:
        if slot is not None:
            slot.take = None
        st.events = n + taken[0]
        matched += taken[1]
        st.matched += matched
        if direct is not None:
            sink.counted(matched)  # type: ignore[attr-defined]
        _flush(sink)
    return st


def _offer_blocks(slot: BlockSlot | None, sink: Any, project: Projector, condition: Any,
                  emit: Callable[[Any], None]) -> list[int]:
    """Put a block taker in `slot` when the sink may take whole blocks (`batchable`: it reads only
    projected fields or the raw text); the [events, matches] the taker will have handled.

    A one-column `--count-by` whose condition and column read only scalar leaves is decided once
    per combination of them (leafcount.py), with the projection's blocks as the fallback."""
    taken = [0, 0]
    lines = project.projection.lines()
    if slot is None or not batches.BATCHES or not project.keep or lines is None or not getattr(sink, "batchable", False):
        return taken
    match = condition.matches
    bulk = sink.bulk() if COUNT_BLOCKS else None
    take = _block_taker(lines, project.projection.parts()[2], match, emit, taken, sink.needs_raw, bulk)
    if bulk is not None:
        from .leafcount import count_taker

        presence = _joint_presence(condition, sink) if condition is not _EVERY else getattr(sink, "presence_reads", None)
        paths = project.projection.paths
        tables = getattr(condition, "tables", None)
        column = tuple(getattr(sink.writer, "names", ()))
        table = tables.setdefault((column, paths, presence), {}) if tables is not None and column else {}
        memo = count_taker(paths, presence, match, bulk, taken, take, table)
        take = memo if memo is not None else take
    slot.take = take
    return taken


def _joint_presence(condition: Any, sink: Any) -> frozenset[tuple[str, ...]] | None:
    """The paths that the condition and the sink both read, if at all, only for being there."""
    parts = [(getattr(x, "reads", None), getattr(x, "presence_reads", None)) for x in (condition, sink)]
    if any(r is None or p is None for r, p in parts):
        return None
    values = set().union(*(r - p for r, p in parts))
    return frozenset(set().union(*(p for _, p in parts)) - values)


class _Decoded:
    """The one event a taken block's values pass through, in turn: `obj` is the decoded value as
    a plain attribute (an `AuditEvent` computes it in a property), no raw text (not printed)."""

    __slots__ = ("obj", "_obj", "raw", "cw", "source", "line")

    def __init__(self) -> None:
        self.obj = self._obj = None
        self.raw = b""
        self.cw = None
        self.source: str | None = None
        self.line: int | None = None

    @property
    def failed_to_parse(self) -> bool:
        return False  # every value of a taken block decoded


def _block_taker(lines: Callable[[Any], list[Any]], errors: tuple[type, ...], match: Callable[[Any], bool],
                 emit: Callable[[Any], None], taken: list[int], raw: bool,
                 bulk: tuple[Callable[[Any], Any], Callable[[list[Any]], None]] | None = None,
                 ) -> Callable[[Any, str, int, int], bool]:
    """`BlockSlot.take` for `_scan_condition`: a block's k plain lines decoded in one call
    (`Projection.lines`), the condition run on one reused event, matches handed to `emit` (with
    `raw`, each with its line's text, cut out of the block for it alone; with `bulk`, a one-column
    `--count-by`, the matches' values collected and counted at once: `Counter.bulk`).

    False (the reader goes on line by line) when the block is not k values the typed decoder reads;
    see events/batches.py for why k values are then the k lines. `taken` adds up what it handled.
    """
    ev = _Decoded()
    cut = fastscan.lines

    def take(block: Any, source: str, first: int, k: int) -> bool:
        try:
            parts = lines(block)
        except errors:
            return False
        if len(parts) != k:
            return False
        texts: Any = None  # the block's lines (k and an empty last one), split at the first match printed
        ev.source = source
        m = 0
        line = first - 1
        if bulk is not None:
            get, add_values = bulk
            values: list[Any] = []
            keep = values.append
            try:
                for line, part in enumerate(parts, first):  # noqa: B007 (read in finally)
                    ev.obj = ev._obj = part
                    ev.line = line
                    if match(ev):
                        keep(get(ev))
            finally:
                add_values(values)
                taken[0] += line - first + 1
                taken[1] += len(values)
            return True
        try:
            for line, part in enumerate(parts, first):  # noqa: B007 (read in finally)
                ev.obj = ev._obj = part
                ev.line = line
                if match(ev):
                    m += 1
                    if raw:
                        if texts is None:
                            texts = cut(block)
                        ev.raw = bytes(texts[line - first])
                    emit(ev)
        finally:
            taken[0] += line - first + 1
            taken[1] += m
        return True

    return take


def _scan_matching(
    events: Iterable[AuditEvent],
    sink: Sink,
    match: Callable[[AuditEvent], bool],
    pre: Callable[[bytes], bool] | None,
    on_unparsable: Callable[[AuditEvent], None] | None,
    st: ScanStats,
) -> ScanStats:
    """`_scan_condition`'s loop with `match` called per event (the condition, or a projecting matcher)."""
    emit = sink.event
    first = st.events + 1
    n = first - 1  # events seen so far (the loop variable, read in finally)
    matched = 0
    try:
        for n, ev in enumerate(events, first):  # noqa: B007 (n is read in finally)
            if pre is not None and not pre(ev.raw):
                continue
            if match(ev):
                matched += 1
                emit(ev)
                if sink.done:
                    break
            elif on_unparsable is not None and ev.failed_to_parse:
                on_unparsable(ev)
    finally:
        st.events = n
        st.matched += matched
        _flush(sink)
    return st


_WINDOW_READS = frozenset({("stageTimestamp",), ("requestReceivedTimestamp",)})  # event_time_ms


class Projector:
    """Puts a projected partial object on events before they are matched (events/projection.py).

    `keep`: the sink reads only paths of the projection, so a matched event keeps its partial
    object; otherwise `release` gives it back its lazy full parse before it is printed. An event
    that raised alerts always gets it back (an alert renders its output from the whole event).
    An event whose JSON is already parsed (from an envelope) is left alone; one the projection
    cannot serve is parsed whole, as without it.
    """

    __slots__ = ("projection", "keep")

    def __init__(self, projection: Projection, keep: bool) -> None:
        self.projection = projection
        self.keep = keep

    def prepare(self, ev: AuditEvent) -> bool:
        """Put the partial object on `ev`; False when it is parsed whole instead (or already)."""
        if ev._obj is UNPARSED:
            part = self.projection(ev.raw)
            if part is not None:
                ev._obj = part
                return True
        return False

    def release(self, ev: AuditEvent) -> None:
        """A matched event that `prepare` projected, before it is printed."""
        if not self.keep:
            ev._obj = UNPARSED

    def matcher(self, match: Callable[[Any], bool]) -> Callable[[Any], bool]:
        """`match` on the projected event (one closure: the hot path of a condition alone)."""
        decode, second, errors = self.projection.parts()  # Projection.__call__, inlined
        keep = self.keep
        unparsed = UNPARSED

        def projected(ev: AuditEvent) -> bool:
            if ev._obj is not unparsed:
                return match(ev)
            try:
                part = decode(ev.raw)
            except errors:
                if second is None:
                    return match(ev)
                try:
                    part = second(ev.raw)
                except errors:
                    return match(ev)
            ev._obj = part
            if match(ev):
                if not keep:
                    ev._obj = unparsed
                return True
            return False

        return projected


def projector(condition: Any, rules: Any, window: Window | None, sink: Any) -> Projector | None:
    """A Projector when everything that reads events says what it reads (None: parse events whole).

    Without a condition or rules, only a sink that reads fields (`fields`, `--fields`) needs one.
    """
    if condition is None and rules is None and not getattr(sink, "reads", None):
        return None
    parts = [getattr(x, "reads", None) for x in (condition, rules) if x is not None]
    if window is not None:
        parts.append(_WINDOW_READS)
    if any(p is None for p in parts):
        return None
    paths: set[tuple[str, ...]] = set().union(*parts)
    sink_reads = getattr(sink, "reads", None)
    if sink_reads is not None:
        paths |= sink_reads
    projection = projection_for(paths)
    return None if projection is None else Projector(projection, keep=sink_reads is not None)


def build_matching(
    expr: str | None,
    rules: list[str] | None,
    registry: Any,
    *,
    min_priority: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> tuple[Any, Any]:
    """Compile `--filter`/EXPR and load `-r` rules files against `registry`: (condition, ruleset), either None."""
    condition = None
    ruleset = None
    if expr is not None:
        from .condition import compile_condition

        condition = compile_condition(expr, registry)
    if rules:
        from .rules import load_rules

        ruleset = load_rules(rules, registry, min_priority=min_priority, on_warning=on_warning)
    elif min_priority is not None:
        from .errors import UsageError

        raise UsageError("--min-priority needs rules (-r RULES)")
    return condition, ruleset
