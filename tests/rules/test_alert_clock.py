"""`%evt.time`'s local clock (rules/model.py) from a per-hour UTC offset, against `strftime`.

The shortcut assumes that no zone changes its UTC offset twice within one hour; these zones have
offsets of odd minutes, half-hour daylight saving, negative daylight saving and changes at odd
hours, and every second around each of their changes is compared.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from eksaudit.rules import model

_ZONES = ["UTC", "Europe/Dublin", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kathmandu",
          "Pacific/Chatham", "Africa/Monrovia", "America/Sao_Paulo", "Europe/Moscow", "Antarctica/Troll"]


def _changes(start: int, end: int) -> list[int]:
    """UTC seconds where the local offset changes (found hour by hour, then narrowed to the second)."""
    out = []
    prev = time.localtime(start).tm_gmtoff
    for t in range(start + 3600, end, 3600):
        off = time.localtime(t).tm_gmtoff
        if off != prev:
            lo, hi = t - 3600, t
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if time.localtime(mid).tm_gmtoff == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            prev = off
    return out


@pytest.mark.parametrize("name", _ZONES)
def test_the_clock_is_strftimes_around_every_offset_change(zone, name):
    if not os.path.exists(f"/usr/share/zoneinfo/{name}"):
        pytest.skip(f"no zoneinfo for {name} on this machine")
    zone(name)
    model._hour_offset.cache_clear()
    start, end = 631_152_000, 1_893_456_000  # 1990 to 2030
    changes = _changes(start, end)[:200]
    rng = random.Random(name)
    seconds = [c + d for c in changes for d in range(-3700, 3700, 31)]
    seconds += [rng.randrange(-2_000_000_000, 4_000_000_000) for _ in range(2000)]
    for s in seconds:
        assert model._local_clock(s) == time.strftime("%H:%M:%S", time.localtime(s)), (name, s)


def test_a_tzset_to_another_zone_is_seen(zone):
    zone("UTC")
    t = 1_767_261_600  # 2026-01-01T10:00:00Z
    assert model.format_time_text(t * 1_000_000_000 + 5) == "10:00:00.000000005"
    zone("Asia/Kathmandu")
    assert model.format_time_text(t * 1_000_000_000 + 5) == "15:45:00.000000005"


def test_zones_of_the_same_names_are_told_apart(zone):
    """America/Chicago and America/Havana both name their times `CST`/`CDT`, an hour apart."""
    t = 1_767_261_600  # 2026-01-01T10:00:00Z
    zone("America/Chicago")
    assert model.format_time_text(t * 1_000_000_000) == "04:00:00.000000000"
    zone("America/Havana")
    assert model.format_time_text(t * 1_000_000_000) == "05:00:00.000000000"
