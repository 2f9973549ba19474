"""Property: blocks of plain event lines decoded whole (events/batches.py) print what lines print.

`--count-by`, `--fields` and plain `-o jsonl` after a condition, and `eksaudit fields`, take whole
blocks of plain event lines from the reader, decode them with one `decode_lines` call and run the condition on one reused event. The
slow twin (`batches.BATCHES = False`) makes an event of every line. The inputs mix valid plain
lines with every plain line the block path must not take at face value (not JSON, two values on
one line, values the typed decoder declines: integers beyond 64 bits, deep values, a string where
the path goes on, `null`), duplicate keys, escapes, and lines that are not plain (CRLF, blank,
wrappers, documents over several lines, a stray brace); blocks from a few bytes up; one process
and workers; `--count-by` of one column counted a block at a time (`Counter.bulk`), also while it
spills. Output, stderr (bad lines with their numbers) and exit status must be the same.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soundness_kit import conformance_events, demo_events, sample
from support.conformance import conformance_dir
from support.jobs import run_jobs
from support.respell import go_spell, respell

from eksaudit.events import batches, blocks

_USERS = ["alice", "bob", "system:node:n1", "system:kube-scheduler", "caf\\u00e9", "x\\/y"]


def _plain(i: int, verb: str, user: str, extra: str = "") -> bytes:
    return (f'{{"kind":"Event","auditID":"a{i}","verb":"{verb}","user":{{"username":"{user}"}}{extra},'
            '"stage":"ResponseComplete"}').encode()


def _lines(kind: int, i: int) -> list[bytes]:
    """One item: mostly valid plain lines (kinds 0-85: whole blocks of them are common), then each
    kind of line the blocks must not take whole, or that the reader must read apart."""
    verb = ["get", "list", "delete", "create"][i % 4]
    user = _USERS[i % len(_USERS)]
    if kind <= 85:
        return [_plain(i, verb, user, ',"pad":"%s"' % ("p" * (i % 9) * 30) if kind % 5 == 0 else "")]
    return [
        [b'{"kind":"Event","auditID":"b%d","verb":"get",oops}' % i],  # plain, not JSON
        [_plain(i, verb, user) + b" " + _plain(i + 1, verb, user)],  # two values on one line
        [b'{"kind":"Event","auditID":"c%d","verb":"get","user":{"username":18446744073709551616}}' % i],
        [b'{"kind":"Event","auditID":"d%d","verb":"get","user":{"username":[[[["deep"]]]]}}' % i],
        [b'{"kind":"Event","auditID":"e%d","verb":"get","user":"not an object"}' % i],
        [b'{"kind":"Event","auditID":"f%d","verb":null,"user":null}' % i],
        [b'{"kind":"Event","auditID":"g%d","verb":"get","verb":"delete","user":{"username":"u","username":"v"}}' % i],
        [b'{"kind":"Event","verb":"get","user":{"username":"no audit id"}}'],
        [_plain(i, verb, user) + b"\r"],  # CRLF
        [b""],
        [b'{"logStreamName":"s","timestamp":1,"message":"{\\"kind\\":\\"Event\\",\\"auditID\\":\\"w\\",\\"verb\\":\\"get\\"}"}'],
        [b"[", _plain(i, verb, user) + b",", _plain(i + 1, verb, user), b"]"],  # plain-looking lines in a document
        [b"{"],  # a stray brace: the lines after it are read again one by one
        [b'{"kind":"Event","auditID":"h%d","verb":"get","user":{"username":"\xff\xfe"}}' % i],  # invalid UTF-8
    ][kind - 86]


_ARGS = [
    ["filter", "ka.verb exists", "--count-by", "ka.user.name"],
    ["filter", "not ka.verb in (get, list)", "--count-by", "ka.user.name", "--top", "3"],
    ["filter", "ka.user.name startswith system:", "--count-by", "ka.verb,ka.user.name"],
    ["filter", "ka.verb exists", "--fields", "ka.user.name,ka.verb"],
    # spills to the temporary file every few keys, in the middle of a block counted at once
    ["filter", "not ka.verb in (get, list)", "--count-by", "ka.user.name", "--max-memory", "1K"],
    ["filter", "not ka.verb in (get, list)"],  # matched events printed as read: their lines cut out
    ["filter", "ka.verb exists"],
    ["fields", "ka.user.name", "ka.verb"],  # no condition: every event is a match
]


def _run(args: list[str], path: Path, jobs: int, on: bool) -> tuple[int, bytes, bytes]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batches, "BATCHES", on)
        return run_jobs([*args, str(path)], jobs=jobs, chunk=2048)


# segments: a run of valid plain lines (long enough to fill whole blocks), then one other line
_SEGMENTS = st.lists(st.tuples(st.integers(0, 80), st.integers(86, 100)), min_size=1, max_size=8)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=_SEGMENTS, args=st.sampled_from(_ARGS), block=st.sampled_from([7, 300, 2000, 4096, 1 << 20]),
       first=st.sampled_from([5, 300, 1 << 16]), jobs=st.sampled_from([1, 2]), last_newline=st.booleans())
def test_blocks_taken_whole_print_what_lines_print(tmp_path: Path, segments, args, block, first, jobs, last_newline):
    kinds = [k for n, special in segments for k in [0] * n + ([special] if special < 100 else [])]
    if not kinds:
        kinds = [0]
    body = b"\n".join(line for i, k in enumerate(kinds) for line in _lines(k, i * 10 + (k == 0) * (i % 4)))
    path = tmp_path / "audit.jsonl"
    path.write_bytes(body + b"\n" if last_newline else body)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        mp.setattr(blocks, "_FIRST_BLOCK", first)  # reads grow from it (by doubling) to `_BLOCK`
        assert _run(args, path, jobs, on=True) == _run(args, path, jobs, on=False)


def test_blocks_are_taken_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """On plain lines the condition runs on the block's decoded values, not on an event per line."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join(_plain(i, "get", _USERS[i % 3]) for i in range(3000)) + b"\n")
    made = []
    real = blocks.plain_event

    def counting(*a, **k):
        made.append(1)
        return real(*a, **k)

    monkeypatch.setattr(blocks, "plain_event", counting)
    status, out, err = run_jobs(["filter", "ka.verb exists", "--count-by", "ka.user.name", str(path)], jobs=1,
                                chunk=1 << 30)
    assert status == 0 and err == b""
    assert out.count(b'"count":1000') == 3
    assert len(made) < 10  # the first line (read alone) and the lines of a block's edge, not 3,000 events


@pytest.mark.parametrize("special", range(86, 100))
@pytest.mark.parametrize("block", [4096, 1 << 20])
@pytest.mark.parametrize("jobs", [1, 2])
def test_each_kind_of_line_inside_a_run_of_plain_lines(tmp_path: Path, special: int, block: int, jobs: int):
    """Every line the blocks must not take at face value, alone among plain lines (the case where
    a block is offered whole and must be declined, or taken only when it reads as lines do)."""
    kinds = [0] * 40 + [special] + [0] * 40
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join(line for i, k in enumerate(kinds) for line in _lines(k, i * 10 + (k == 0) * (i % 4))) + b"\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        for args in _ARGS:
            assert _run(args, path, jobs, on=True) == _run(args, path, jobs, on=False), args


_REAL_ARGS = [
    ["filter", "ka.verb exists", "--count-by", "ka.target.resource"],
    ["filter", "not ka.verb in (get, list, watch)", "--fields", "ka.user.name,ka.target.name,ka.uri"],
    ["filter", "ka.response.code >= 400"],
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), respelled=st.sampled_from([0.0, 0.05, 0.3]), args=st.sampled_from(_REAL_ARGS),
       block=st.sampled_from([4096, 1 << 20]), jobs=st.sampled_from([1, 2]))
def test_real_events_respelled(tmp_path: Path, seed, respelled, args, block, jobs):
    """Demo and conformance events, written as the API server writes them (some with Go's `\\u0026`),
    some re-spelled (escapes anywhere, whitespace, shuffled keys: not plain, read line by line)."""
    rng = random.Random(seed)
    pool = demo_events() + conformance_events(conformance_dir())
    lines = []
    for v in sample(rng, pool, 300):
        if rng.random() < respelled:
            lines.append(respell(v, rng).encode("utf-8", "surrogatepass"))
        else:
            line = orjson.dumps(v)
            lines.append(go_spell(line) if rng.random() < 0.5 else line)
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        assert _run(args, path, jobs, on=True) == _run(args, path, jobs, on=False)
