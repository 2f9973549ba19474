"""Property: an alert's text line from the compiled renderer and clock is the plain one.

Two shortcuts of `-o falco`, each against its slow twin:
- the output format compiled to one function with the walks of plain-path tokens inlined
  (`formatting.FAST_TEXT`, `OutputFormatter._compile_text`) against `render_text`, token by token;
- the time from the `stageTimestamp` text (`model.FAST_CLOCK`, `_fast_clock_text`) against
  `format_time_text(event_time_ns(...))`.

Formats are random over every field of the registry (with arguments, transformers and widths);
events are demo and conformance events, the same with odd JSON at the paths the walks read
(null, numbers, floats, booleans, arrays, objects, big and negative integers, missing members,
no `auditID`), objects that are not plain dicts (a dict subclass at the top or inside), and no
object at all. Timestamps are the API server's form and near misses of it: other digits than
ASCII, an offset, a space in front, impossible dates, before the epoch; in several zones.
"""

from __future__ import annotations

import copy
import os
import random
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soundness_kit import REG, conformance_events, demo_events
from support.conformance import conformance_dir
from support.objects import parent_at

from eksaudit.events.event import AuditEvent
from eksaudit.fields.registry import ArgKind
from eksaudit.rules import formatting, model
from eksaudit.rules.formatting import FormatError, OutputFormatter
from eksaudit.rules.model import Alert, Priority, event_time_ns, format_time_text

_WALKED = [("verb",), ("requestURI",), ("user", "username"), ("objectRef", "name"), ("objectRef", "resource"),
           ("objectRef", "namespace"), ("responseStatus", "code"), ("responseStatus", "reason"), ("auditID",),
           ("objectRef",), ("user",), ("responseStatus",), ("stageTimestamp",)]
_ODD: list[Any] = [None, 0, 1, -1, 1.0, 200.0, 200.5, True, False, "", "x", [], ["a"], {}, {"a": 1}, 200, "200",
                   2**64 - 1, 2**64, 2**70, -(2**63), "ü\x00\n"]
_KEYS = {"ka.user.extra": "arn", "ka.annotation": "authorization.k8s.io/decision", "jevt.value": "/user/username",
         "json.value": "/objectRef/name", "ka.req.pod.containers.image": None, "ka.uri.param": "watch"}


class _Sub(dict):
    """A dict that is not `dict` itself: the compiled walk must hand it to the getter."""


_POOL: list[dict[str, Any]] = []


def _pool() -> list[dict[str, Any]]:
    if not _POOL:
        _POOL.extend(demo_events() + conformance_events(conformance_dir()))
    return _POOL


def _tokens() -> list[str]:
    out = []
    for d in REG:
        if d.arg is ArgKind.NONE:
            out.append(d.name)
        elif d.arg is ArgKind.KEY:
            out.append(f"{d.name}[{_KEYS.get(d.name) or 'name'}]")
        else:
            out += [d.name, f"{d.name}[0]"]
    return out


def _format(rng: random.Random, tokens: list[str]) -> str:
    parts = [rng.choice(["", "x=", " (", "{}", "}{", " a b "])]
    for _ in range(rng.randint(1, 7)):
        t = rng.choice(tokens)
        if rng.random() < 0.15:
            t = f"{rng.choice(['tolower', 'toupper', 'len'])}({t})"
        elif rng.random() < 0.15:
            t = f"{rng.randint(0, 30)}{t}"
        parts += ["%" + t, rng.choice([" ", "/", " x={", "} ", ",", ""])]
    return "".join(parts)


def _odd(rng: random.Random, obj: dict[str, Any]) -> Any:
    o = copy.deepcopy(obj)
    for path in rng.sample(_WALKED, rng.randint(1, 4)):
        node = parent_at(o, path)
        r = rng.random()
        if r < 0.2:
            node.pop(path[-1], None)
        elif r < 0.3 and isinstance(node.get(path[-1]), dict):
            node[path[-1]] = _Sub(node[path[-1]])
        else:
            node[path[-1]] = copy.deepcopy(rng.choice(_ODD))  # never shared: later paths write into it
    r = rng.random()
    if r < 0.05:
        return _Sub(o)
    if r < 0.08:
        return rng.choice([None, [o], "text", 7])
    return o


def _timestamp(rng: random.Random) -> Any:
    secs = rng.choice([rng.randrange(1, 4_102_444_800), rng.randrange(-2_000_000_000, 0), 0,
                       rng.randrange(1_700_000_000, 1_800_000_000)])
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) if secs >= -62135596800 else "0001-01-01T00:00:00"
    frac = f"{rng.randrange(10**6):06d}"
    ts = f"{base}.{frac}Z"
    r = rng.random()
    if r < 0.5:
        return ts
    variants = [
        " " + ts[1:], ts[:-1] + "z", ts[:-1] + "+00:00", base + "." + frac[:5] + "Z", base + "." + frac + "0Z",
        ts.replace(ts[20], "\u0661", 1), ts.replace("T", "t"), ts[:5] + "02-30" + ts[10:], ts[:11] + "24" + ts[13:],
        ts[:14] + "60" + ts[16:], ts[:17] + "61" + ts[19:], "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:01.000000Z",
        "1969-12-31T23:59:59.999999Z", ts.replace("-", "/"), None, 17, ts + " ", "0000-01-01T00:00:00.000000Z",
        ts[:13] + "." + ts[14:], ts[:16] + "." + ts[17:], ts[:13] + "\u0663" + ts[14:], ts[:14] + "\u0663" + ts[15:],
    ]
    return rng.choice(variants)


def _events(rng: random.Random, n: int) -> list[AuditEvent]:
    pool = _pool()
    out = []
    for i in range(n):
        base = pool[rng.randrange(len(pool))]
        obj: Any = _odd(rng, base) if rng.random() < 0.6 else copy.deepcopy(base)
        if isinstance(obj, dict) and rng.random() < 0.5:
            obj["stageTimestamp"] = _timestamp(rng)
        out.append(AuditEvent(b"{}", obj=obj, source="t", line=i + 1))
    return out


_ALL_TOKENS: list[str] = []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32))
def test_the_compiled_renderer_writes_what_render_text_writes(seed: int) -> None:
    rng = random.Random(seed)
    if not _ALL_TOKENS:
        _ALL_TOKENS.extend(_tokens())
    events = _events(rng, 40)
    for _ in range(4):
        try:
            fmt = OutputFormatter(_format(rng, _ALL_TOKENS), REG)
        except FormatError:  # a transformer of a field it does not take (`len` of a number)
            continue
        fast = fmt._compile_text()
        for ev in events:
            assert fast(ev) == fmt.render_text(ev), (fmt.format, ev.obj)


def test_the_walks_are_compiled_for_the_upstream_outputs() -> None:
    """The fast path is taken: the common tokens of Falco's outputs declare their walks."""
    for name in ("ka.user.name", "ka.target.name", "ka.target.resource", "ka.verb", "ka.uri", "ka.response.code"):
        assert getattr(REG.resolve(name).extract, "walk", None) is not None, name


def test_the_switch_selects_the_plain_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = OutputFormatter("u=%ka.user.name", REG)
    assert fmt.text_renderer != fmt.render_text
    monkeypatch.setattr(formatting, "FAST_TEXT", False)
    assert fmt.text_renderer == fmt.render_text


@pytest.mark.parametrize("name", ["UTC", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe"])
def test_the_alert_clock_from_the_timestamp_text_is_the_plain_one(zone, name: str) -> None:
    if not os.path.exists(f"/usr/share/zoneinfo/{name}"):
        pytest.skip(f"no zoneinfo for {name} on this machine")
    zone(name)
    rng = random.Random(name)
    fast_taken = 0
    for _ in range(3000):
        obj = {"stageTimestamp": _timestamp(rng), "requestReceivedTimestamp": _timestamp(rng)}
        ev = AuditEvent(b"{}", obj=obj)
        clock = model._fast_clock_text(ev)
        plain = format_time_text(event_time_ns(ev))
        if clock is not None:
            fast_taken += 1
            assert clock == plain, obj
        a = Alert("r", Priority.WARNING, "k8s_audit", output="o", event=ev)
        line = a.format_text()
        a2 = Alert("r", Priority.WARNING, "k8s_audit", output="o", event=ev)
        a2._time_ns = event_time_ns(ev)  # the plain way: the time in ns first
        assert line == a2.format_text()
    assert fast_taken > 600


def test_the_clock_cache_sees_a_change_of_zone(zone) -> None:
    ev = AuditEvent(b"{}", obj={"stageTimestamp": "2026-01-01T10:00:00.000005Z"})
    zone("UTC")
    assert model._fast_clock_text(ev) == "10:00:00.000005000"
    zone("Asia/Kathmandu")
    assert model._fast_clock_text(ev) == "15:45:00.000005000"


def _changes(start: int, end: int) -> list[int]:
    """The UTC hours (in seconds) in [start, end) in which the local zone's offset changes."""
    out = []
    for h in range(start, end, 3600):
        if time.localtime(h).tm_gmtoff != time.localtime(h + 3599).tm_gmtoff:
            out.append(h)
    return out


@pytest.mark.parametrize("name", ["Africa/Monrovia", "Europe/Amsterdam", "America/St_Johns", "Australia/Lord_Howe"])
def test_every_second_of_a_minute_has_its_own_clock(zone, name: str) -> None:
    """A minute's 60 clocks are written at once when the hour has one offset of whole minutes, one by
    one otherwise (an hour with a change; Monrovia's -0:44:30 until 1972): each is the plain clock."""
    if not os.path.exists(f"/usr/share/zoneinfo/{name}"):
        pytest.skip(f"no zoneinfo for {name} on this machine")
    zone(name)
    rng = random.Random(name)
    hours = _changes(0, 3 * 365 * 86400) + _changes(1_767_225_600, 1_767_225_600 + 365 * 86400)  # 1970-72, 2026
    hours += [rng.randrange(0, 4_102_444_800) // 3600 * 3600 for _ in range(20)] + [0]
    checked = 0
    for hour in hours:
        for minute in rng.sample(range(60), 6) + [0, 59]:
            for second in range(60):
                secs = hour + minute * 60 + second
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rng.randrange(10**6):06d}Z"
                ev = AuditEvent(b"{}", obj={"stageTimestamp": ts})
                clock = model._fast_clock_text(ev)
                if clock is None:
                    assert secs <= 0, ts  # only the epoch's own second is not taken
                    continue
                assert clock == format_time_text(event_time_ns(ev)), ts
                checked += 1
    assert checked > 10_000
