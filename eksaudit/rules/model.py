"""What a rules file is made of (lists, macros, rules, exceptions) and what a match produces (Alert).

The collected items keep their file and YAML line, so every load error can say where it is. `Alert`
renders exactly as Falco prints alerts: the text line `HH:MM:SS.nnnnnnnnn: Priority output` and the
JSON object with sorted keys, so tools written for Falco's output read eksaudit's unchanged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Any

import orjson

from ..timestamps import SECOND_SLOTS, minute_seconds, ts_ns


class Priority(IntEnum):
    """Falco's priorities, most severe first (a lower value is more severe)."""

    EMERGENCY = 0
    ALERT = 1
    CRITICAL = 2
    ERROR = 3
    WARNING = 4
    NOTICE = 5
    INFORMATIONAL = 6
    DEBUG = 7

    @classmethod
    def parse(cls, text: str) -> Priority:
        """Falco's parsing: the long names, case-insensitive, plus `info` for Informational."""
        t = str(text).strip().lower()
        if t == "info":
            return cls.INFORMATIONAL
        for p in cls:
            if p.name.lower() == t:
                return p
        raise ValueError(f"invalid priority {text!r}: use one of {', '.join(p.long_name for p in cls)}")

    @property
    def long_name(self) -> str:
        """As in alert lines and JSON: `Warning`, `Informational`."""
        return _LONG_NAMES[self]  # per alert: an enum's `name` is a descriptor call

    @property
    def short_name(self) -> str:
        """As in the end-of-run summary: `WARNING`, `INFO`."""
        return "INFO" if self is Priority.INFORMATIONAL else self.name


_LONG_NAMES = tuple(p.name.capitalize() for p in sorted(Priority))  # by value: 0 is EMERGENCY


@dataclass
class Where:
    """Where an item was read: file name, YAML line, and the item's kind and name for messages."""

    file: str
    line: int
    kind: str = ""
    name: str | None = None

    def describe(self) -> str:
        if not self.kind:
            return ""
        return f"{self.kind} '{self.name}'" if self.name is not None else self.kind

    def prefix(self, line: int | None = None) -> str:
        ln = line or self.line
        loc = f"{self.file}:{ln}" if ln else self.file
        what = self.describe()
        return f"{loc}: {what}: " if what else f"{loc}: "


@dataclass
class ExceptionEntry:
    """An exception's `fields`, `comps` or one `values` element: a scalar or a sequence of entries."""

    is_list: bool
    item: str = ""
    items: list[ExceptionEntry] = field(default_factory=list)


@dataclass
class ExceptionInfo:
    name: str
    where: Where
    fields: ExceptionEntry | None = None
    comps: ExceptionEntry | None = None
    values: list[ExceptionEntry] = field(default_factory=list)


@dataclass
class ListInfo:
    name: str
    items: list[str]
    where: Where
    index: int = 0
    visibility: int = 0
    used: bool = False


@dataclass
class MacroInfo:
    name: str
    cond: str
    where: Where
    cond_line: int = 0
    index: int = 0
    visibility: int = 0
    used: bool = False


@dataclass
class RuleInfo:
    """A rule as collected: after append/replace, before list, macro and exception expansion."""

    name: str
    cond: str
    output: str
    desc: str
    priority: Priority
    where: Where
    source: str = "syscall"
    enabled: bool = True
    tags: set[str] = field(default_factory=set)
    exceptions: list[ExceptionInfo] = field(default_factory=list)
    warn_evttypes: bool = True
    skip_if_unknown_filter: bool = False
    capture: bool = False
    capture_duration: int = 0
    cond_line: int = 0
    output_line: int = 0
    unknown_source: bool = False
    index: int = 0
    visibility: int = 0


@dataclass(frozen=True)
class RuleSummary:
    """A loaded rule as `Ruleset.rules` lists it (also Falco's `rule_info` keys)."""

    name: str
    priority: Priority
    enabled: bool
    source: str
    file: str
    line: int
    desc: str
    condition: str
    output: str
    tags: tuple[str, ...]
    capture: bool = False
    capture_duration: int = 0


# ---------------------------------------------------------------------------------------- alerts

def parse_rfc3339_ns(text: Any) -> int | None:
    """RFC 3339 (any number of fraction digits, `Z` or an offset) to ns since the epoch, else None."""
    return ts_ns(text.strip()) if isinstance(text, str) else None


TIME_READS = frozenset({("stageTimestamp",), ("requestReceivedTimestamp",), ("timestamp",)})  # what it reads


def event_time_ns(event: Any) -> int:
    """The event time Falco gives a k8s audit event: its `stageTimestamp`, as the k8saudit plugin gives it.

    The k8saudit plugin drops events without a readable `stageTimestamp`; eksaudit keeps them, so it
    falls back to `requestReceivedTimestamp`, the v1beta1 `timestamp`, then the CloudWatch timestamp,
    and finally 0.
    """
    obj = getattr(event, "obj", event)
    if isinstance(obj, dict):
        for key in ("stageTimestamp", "requestReceivedTimestamp", "timestamp"):
            ns = parse_rfc3339_ns(obj.get(key))
            if ns is not None:
                return ns
    cw = getattr(event, "cw", None)
    if cw is not None and cw.timestamp is not None:
        return int(cw.timestamp) * 1_000_000
    return 0


def default_hostname() -> str:
    """`$FALCO_HOSTNAME`, else the machine's host name (as Falco does)."""
    name = os.environ.get("FALCO_HOSTNAME")
    if name:
        return name
    if hasattr(os, "uname"):  # what gethostname() returns on POSIX, without importing socket (2 ms)
        return os.uname().nodename
    import socket

    return socket.gethostname()


def format_time_text(time_ns: int, *, iso8601: bool = False) -> str:
    """`%evt.time`: local `HH:MM:SS.nnnnnnnnn`; with iso8601 `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000` (UTC)."""
    secs, ns = divmod(time_ns, 1_000_000_000)
    if iso8601:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns:09d}+0000"
    return f"{_local_clock(secs)}.{ns:09d}"


def _local_clock(secs: int) -> str:
    """`HH:MM:SS` of `secs` in the local zone, as `strftime` of `localtime` gives it.

    Alerts come one or many to a second, and `localtime` with `strftime` costs more than the rest
    of the line, so the zone's UTC offset is looked up once per hour (`_hour_offset`) and the clock
    computed from it. Where the offset is not the same at both ends of the hour (a change of
    daylight saving time inside it), every second asks `localtime`.
    """
    off = _hour_offset(secs // 3600, (time.tzname, time.timezone, time.altzone))
    if off is None:
        return time.strftime("%H:%M:%S", time.localtime(secs))
    m, s = divmod((secs + off) % 86400, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


@lru_cache(maxsize=64)
def _hour_offset(hour: int, zone: tuple[Any, ...]) -> int | None:
    """The local zone's UTC offset (seconds) throughout UTC hour `hour`, None when it changes in it.

    `zone` (`time.tzname` and the standard and daylight offsets: America/Chicago and America/Havana
    are both `CST`/`CDT`) is part of the key so that a `tzset()` to another zone is seen. Equal
    offsets at the hour's first and last second mean one offset all hour, assuming no zone changes
    its offset twice within an hour (tests/rules/test_alert_clock.py compares with `strftime`
    around the changes of zones with odd offsets).
    """
    first = time.localtime(hour * 3600).tm_gmtoff
    last = time.localtime(hour * 3600 + 3599).tm_gmtoff
    return first if first == last else None


FAST_CLOCK = True  # the slow twin: False, a text alert's time always from `event_time_ns`


def _fast_clock_text(event: Any) -> str | None:
    """`format_time_text(event_time_ns(event))` when the event's `stageTimestamp` is in the API
    server's form (`2026-11-30T10:00:00.123456Z`), else None (ask `event_time_ns`).

    That form (a digit first, `Z` last: nothing for `strip` to take) is parsed by `parse_ts_ns` as
    its second plus the six digits in microseconds, so the text is the second's clock (cached per
    minute and zone: a log has a new second every few events) and the digits with `000`
    (tests/soundness/test_render_property.py compares the two).
    """
    obj = getattr(event, "obj", event)
    if type(obj) is not dict:
        return None
    ts = obj.get("stageTimestamp")
    if type(ts) is not str or len(ts) != 27 or ts[19] != "." or ts[26] != "Z" or ts[10] != "T":
        return None
    frac = ts[20:26]
    s = _SLOT.get(ts[17:19])  # the second's slot: None unless two ASCII digits below 60
    if s is None or not (frac.isdigit() and frac.isascii() and ts[0].isdigit() and ts[16] == ":"):
        return None
    if time.tzname is not _ZONE_SEEN[0]:  # a tzset() since the tables were made (it sets a new tuple)
        _CLOCKS.clear()
        _ZONE_SEEN[0] = time.tzname
    minute = ts[:16]
    clocks = _CLOCKS.get(minute)
    if clocks is None:
        clocks = _minute_clocks(minute, (time.tzname, time.timezone, time.altzone))
        if clocks is None:
            return None
        if len(_CLOCKS) >= 1024:
            _CLOCKS.clear()
        _CLOCKS[minute] = clocks
    clock = clocks[s]
    if clock is None:
        secs = clocks[0] + s - 1
        if secs <= 0:
            return None
        clock = clocks[s] = _local_clock(secs)
    return f"{clock}.{frac}000"


@lru_cache(maxsize=256)
def _minute_clocks(prefix: str, zone: tuple[Any, ...]) -> list[Any] | None:
    """For minute `YYYY-MM-DDTHH:MM` (UTC): its first second since the epoch, then the local
    `HH:MM:SS` of each of its seconds (`zone`: as in `_hour_offset`, so that a `tzset()` is seen);
    None when `_second_ns` would not read its seconds digit by digit.

    The 60 clocks are written at once when the zone's offset is the same all hour and a whole number
    of minutes (then the minute's seconds are local seconds 00 to 59 of one local minute: a log
    has a new second every few events); else each slot is filled when first asked, by
    `_local_clock` (the offsets of some zones before 1972 have seconds).
    """
    base = minute_seconds(prefix)
    if base is None:
        return None
    if base > 0:
        off = _hour_offset(base // 3600, zone)
        if off is not None and off % 60 == 0:
            m = (base + off) % 86400 // 60  # `base` is a whole minute: so is its local time
            head = f"{m // 60:02d}:{m % 60:02d}:"
            return [base, *(head + ss for ss in _SECONDS)]
    return [base] + [None] * 60


_SECONDS = tuple(SECOND_SLOTS)  # "00" to "59"
# `_minute_clocks` of the zone in force, by minute: a plain dict, as the cache's own key (the minute
# and the zone's names and offsets) cost more to hash and compare than the rest of an alert's time
_CLOCKS: dict[str, list[Any]] = {}
_ZONE_SEEN: list[Any] = [None]  # the `time.tzname` tuple `_CLOCKS` was filled under
_SLOT = {ss: s + 1 for ss, s in SECOND_SLOTS.items()}  # `SS` -> its slot in `_minute_clocks`


def format_time_json(time_ns: int) -> str:
    """The JSON alert's `time`: UTC ISO 8601 with nanoseconds and `Z`."""
    secs, ns = divmod(time_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns:09d}Z"


_UNSET: Any = object()
_new_alert = object.__new__


class Alert:
    """One rule match, as Falco reports it.

    `output` is the rendered rule output (the message); `output_fields` maps each field token of the
    output format to its value (None when missing, a list for list fields). `time_ns` is the event
    time (`stageTimestamp`, see `event_time_ns`). The rules engine builds alerts with a `renderer`
    instead of `output`/`output_fields`, so nothing is formatted unless someone reads them (counting
    alerts for a summary, or `-q`, costs no formatting).
    """

    __slots__ = ("rule", "priority", "source", "tags", "hostname", "event", "_output", "_fields", "_time_ns",
                 "_renderer", "_text_renderer")

    def __init__(
        self,
        rule: str,
        priority: Priority,
        source: str,
        output: str | None = None,
        output_fields: dict[str, Any] | None = None,
        tags: tuple[str, ...] = (),
        time_ns: int | None = None,
        hostname: str = "",
        event: Any = None,
        *,
        renderer: Callable[[Any], tuple[str, dict[str, Any]]] | None = None,
        text_renderer: Callable[[Any], str] | None = None,
    ) -> None:
        self.rule = rule
        self.priority = priority
        self.source = source
        self.tags = tuple(tags)
        self.hostname = hostname
        self.event = event
        self._output = _UNSET if output is None and renderer is not None else (output or "")
        self._fields = _UNSET if output_fields is None and renderer is not None else dict(output_fields or {})
        self._time_ns = _UNSET if time_ns is None else time_ns
        self._renderer = renderer
        self._text_renderer = text_renderer  # the output text alone: `-o falco` needs no output_fields

    @classmethod
    def lazy(cls, rule: str, priority: Priority, source: str, tags: tuple[str, ...], hostname: str, event: Any,
             renderer: Callable[[Any], tuple[str, dict[str, Any]]], text_renderer: Callable[[Any], str]) -> Alert:
        """An alert of the rules engine, rendered when first read: what `Alert(...)` with a `renderer`
        makes, without its keyword handling (once per alert: 1 µs of 2 here)."""
        a = _new_alert(cls)
        a.rule, a.priority, a.source, a.tags, a.hostname, a.event = rule, priority, source, tags, hostname, event
        a._output = a._fields = a._time_ns = _UNSET
        a._renderer, a._text_renderer = renderer, text_renderer
        return a

    def _render(self) -> None:
        assert self._renderer is not None
        self._output, self._fields = self._renderer(self.event)

    @property
    def output(self) -> str:
        if self._output is _UNSET:
            if self._text_renderer is not None:
                self._output = self._text_renderer(self.event)
            else:
                self._render()
        return self._output

    @property
    def output_fields(self) -> dict[str, Any]:
        if self._fields is _UNSET:
            self._render()
        return self._fields

    @property
    def time_ns(self) -> int:
        if self._time_ns is _UNSET:
            self._time_ns = event_time_ns(self.event)
        return self._time_ns

    def __repr__(self) -> str:
        return f"Alert(rule={self.rule!r}, priority={self.priority.long_name})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Alert):
            return NotImplemented
        return (self.rule, self.priority, self.source, self.output, self.output_fields, self.tags, self.time_ns,
                self.hostname) == (other.rule, other.priority, other.source, other.output, other.output_fields,
                                   other.tags, other.time_ns, other.hostname)

    __hash__ = None  # type: ignore[assignment]

    def format_text(self, *, iso8601: bool = False) -> str:
        """Falco's text alert line, without the newline: `HH:MM:SS.nnnnnnnnn: Priority output`."""
        if FAST_CLOCK and not iso8601 and self._time_ns is _UNSET:
            clock = _fast_clock_text(self.event)
            if clock is not None:
                return f"{clock}: {self.priority.long_name} {self.output}"
        return f"{format_time_text(self.time_ns, iso8601=iso8601)}: {self.priority.long_name} {self.output}"

    def to_dict(self, *, iso8601: bool = False) -> dict[str, Any]:
        """Falco's JSON alert as a dict (`output_fields` also holds `evt.time` in ns, as Falco's does)."""
        fields = dict(self.output_fields)
        fields["evt.time.iso8601" if iso8601 else "evt.time"] = self.time_ns
        return {
            "hostname": self.hostname,
            "output": self.format_text(iso8601=iso8601),
            "output_fields": fields,
            "priority": self.priority.long_name,
            "rule": self.rule,
            "source": self.source,
            "tags": sorted(self.tags),
            "time": format_time_json(self.time_ns),
        }

    def to_json(self, *, iso8601: bool = False) -> str:
        """One compact JSON line with keys sorted (as nlohmann::json prints them), non-ASCII kept."""
        return orjson.dumps(self.to_dict(iso8601=iso8601), option=orjson.OPT_SORT_KEYS).decode()


class RuleWarning(str):
    """A load warning: the text is the full message (`file:line: rule 'X': ...`); `code` classifies it.

    Codes: `unknown-key`, `deprecated`, `unknown-source`, `unused-list`, `unused-macro`, `invalid-name`,
    `exception`, `compile`, `unknown-item`, `skipped-rule`, `sigma-field`, `other`. The reader and
    compiler set the code where the warning arises; nothing reads it back from the text.
    """

    code: str
    message: str

    def __new__(cls, text: str, code: str, message: str) -> RuleWarning:
        w = super().__new__(cls, text)
        w.code = code
        w.message = message
        return w
