"""Property: `--count-by` of one column decided once per combination of leaves (eksaudit/leafcount.py)
counts what the block path without it counts, and what lines count.

Conditions and columns over leaf fields (plain paths, the gate, a field that reads `auditID`'s
value, one that is not a path), and random conditions over every field; events from the demo and
the conformance data, with odd values at tested paths (null, numbers, booleans, big integers,
objects), without `auditID`, with paths cut short by a `null` or a missing member, and the odd lines
of the whole-block property. Tables as small as one combination, given up early or never.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.jobs import run_jobs
from test_batches_property import _lines as odd_lines
from test_blockscreen_property import _CUTS, _compact, _pool
from test_screen_property import _odd
from test_soundness_property import compiled_conditions

from eksaudit import leafcount
from eksaudit.events import batches, blocks

_CONDITIONS = ["ka.verb exists", "ka.target.resource in (pods, secrets, null)", "not ka.user.name startswith system:",
               "ka.response.code >= 400", "jevt.value[/stage] = ResponseComplete", "ka.target.namespace exists",
               "ka.auditid exists", "jevt.rawtime exists", "ka.verb = get or not ka.target.resource exists"]
_COLUMNS = ["ka.user.name", "ka.verb", "ka.target.resource", "ka.response.code", "ka.auditid",
            "jevt.value[/objectRef/name]", "ka.target.subresource", "jevt.value[/stage]"]


def _events(rng: random.Random, n: int) -> bytes:
    pool = _pool()
    lines: list[bytes] = []
    for i in range(n):
        o = dict(pool[rng.randrange(len(pool))])
        r = rng.random()
        if r < 0.1:
            o = _odd(rng, o)
        elif r < 0.15:
            o.pop("auditID", None)
        elif r < 0.22:
            o.update(rng.choice(_CUTS))
        elif r < 0.25:
            lines.extend(odd_lines(rng.randint(86, 99), i))
            continue
        lines.append(_compact(o))
    return b"\n".join(lines) + b"\n"


def _run(args: list[str], path: Path, jobs: int, memo: bool, batched: bool = True) -> tuple[int, bytes, bytes]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(leafcount, "MEMO", memo)
        mp.setattr(batches, "BATCHES", batched)
        return run_jobs([*args, str(path)], jobs=jobs, chunk=4096)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), jobs=st.sampled_from([1, 2]), block=st.sampled_from([600, 4096, 1 << 20]),
       cap=st.sampled_from([1, 3, 4096]), trial=st.sampled_from([0, 8]), random_condition=st.booleans())
def test_counts_decided_per_combination_are_the_counts(tmp_path: Path, seed: int, jobs: int, block: int, cap: int,
                                                       trial: int, random_condition: bool) -> None:
    rng = random.Random(seed)
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_events(rng, rng.choice([50, 400, 1500])))
    if random_condition:
        condition = compiled_conditions(rng, _pool()[:80], 1)[0]
    else:
        condition = rng.choice(_CONDITIONS)
    args = ["filter", condition, "--count-by", rng.choice(_COLUMNS)]
    if rng.random() < 0.3:
        args += ["--top", "3"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        mp.setattr(leafcount, "CAP", cap)
        mp.setattr(leafcount, "TRIAL", trial)
        fast = _run(args, path, jobs, True)
        assert fast == _run(args, path, jobs, False), args
        assert fast == _run(args, path, jobs, False, batched=False), args


def test_the_table_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On demo events, `ka.verb exists` by user is decided once per (verb, user, gate): few misses."""
    from soundness_kit import demo_events

    path = tmp_path / "demo.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(o) for o in demo_events() * 4) + b"\n")
    decided: list[Any] = []
    real = leafcount.count_taker

    def spy(*a: Any) -> Any:
        take = real(*a)
        decided.append(take)
        return take

    monkeypatch.setattr(leafcount, "count_taker", spy)
    monkeypatch.setattr(blocks, "_BLOCK", 8192)
    status, out, _ = run_jobs(["filter", "ka.verb exists", "--count-by", "ka.user.name", str(path)], jobs=1, chunk=1 << 30)
    assert status == 0 and out
    assert decided and decided[0] is not None  # the leaves were servable: the table path ran
