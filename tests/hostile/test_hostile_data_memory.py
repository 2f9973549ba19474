"""Finding 6: memory stays bounded: a line cap on every reader, and --count-by within a budget.

Before: a 4.6 MB .gz holding one 1 GB line peaked at 3.1 GB (lines had no cap), and 2M distinct
`--count-by` values peaked at 9 GB. The 2M-value measurement is benchmarks/countby_memory.py;
these tests check the mechanisms with small inputs.
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import tracemalloc
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from eksaudit.cli.app import app
from eksaudit.events.event import AuditEvent
from eksaudit.events.readers import DEFAULT_MAX_LINE_BYTES, iter_source, read_events
from eksaudit.output.console import Console
from eksaudit.output.counts import Counter, CountsWriter
from eksaudit.output.options import OutputFormat

SMALL = Path(__file__).resolve().parent.parent / "data" / "small-audit.jsonl"
MB = 1 << 20


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(app, list(args), input=input, prog_name="eksaudit")


class EndlessLine(io.RawIOBase):
    """`head`, then a line of `size` bytes produced on the fly (never held anywhere), then `tail`."""

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self.parts = [head]
        self.left = size
        self.tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.parts:
            data = self.parts.pop()
        elif self.left:
            k = min(len(b), self.left, 1 << 16)
            self.left -= k
            data = b"x" * k
        elif self.tail:
            data, self.tail = self.tail, b""
        else:
            return 0
        k = min(len(b), len(data))
        b[:k] = data[:k]
        if k < len(data):
            self.parts.append(data[k:])
        return k


def _events_and_bad(stream, cap):
    bad = []
    evs = list(iter_source(stream, "src", on_bad=bad.append, max_line_bytes=cap))
    return evs, bad


def test_an_endless_line_is_never_held_whole():
    good = (SMALL.read_bytes().splitlines()[0]) + b"\n"
    stream = io.BufferedReader(EndlessLine(good + b'{"kind":"Event","pad":"', 64 * MB, b'"}\n' + good))
    tracemalloc.start()
    try:
        evs, bad = _events_and_bad(stream, MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [e.line for e in evs] == [1, 3]
    assert len(bad) == 1 and bad[0].line == 2 and "longer than the 1048576-byte line cap" in bad[0].reason
    assert peak < 8 * MB  # the cap plus the read buffers, not 64 MB


def test_the_line_cap_applies_to_gzip_and_reports_file_and_line(tmp_path):
    lines = SMALL.read_bytes().splitlines()
    data = b"\n".join([lines[0], b'{"kind":"Event","auditID":"' + b"y" * (8 * MB) + b'"}', *lines[1:]]) + b"\n"
    gz = tmp_path / "big.jsonl.gz"
    gz.write_bytes(gzip.compress(data, compresslevel=1))
    tracemalloc.start()
    try:
        bad = []
        evs = list(read_events([str(gz)], on_bad=bad.append, max_line_bytes=MB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(evs) == len(lines) and [e.line for e in evs][:2] == [1, 3]
    assert [(b.source, b.line) for b in bad] == [(str(gz), 2)]
    assert peak < 6 * MB


def test_the_cli_option_on_filter_fields_and_stdin(tmp_path):
    lines = SMALL.read_bytes().splitlines()
    data = b"\n".join([lines[0], b'{"kind":"Event","auditID":"' + b"z" * 5000 + b'"}', lines[1]]) + b"\n"
    p = tmp_path / "in.jsonl"
    p.write_bytes(data)
    r = run("filter", "ka.auditid exists", str(p), "--max-line-bytes", "4K")
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 2
    assert f"{p}:2: line of 5029 bytes skipped: longer than the 4096-byte line cap" in r.stderr
    r = run("fields", "ka.auditid", "--max-line-bytes", "4096", input=data)
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 2
    assert "<stdin>:2: line of 5029 bytes" in r.stderr
    r = run("filter", "ka.auditid exists", str(p))  # the default cap (16 MB) lets it through
    assert len(r.stdout.splitlines()) == 3
    r = run("filter", "ka.auditid exists", str(p), "--max-line-bytes", "lots")
    assert r.exit_code == 2 and "invalid --max-line-bytes 'lots'" in r.stderr and "Traceback" not in r.stderr


def test_default_cap_is_16_mb_and_a_longer_line_is_skipped():
    assert DEFAULT_MAX_LINE_BYTES == 16 * MB
    stream = io.BufferedReader(EndlessLine(b"", 16 * MB + 1, b"\n" + SMALL.read_bytes()))
    evs, bad = _events_and_bad(stream, DEFAULT_MAX_LINE_BYTES)
    assert len(bad) == 1 and bad[0].line == 1 and len(evs) == len(SMALL.read_bytes().splitlines())


# --- --count-by --------------------------------------------------------------------------------


def _ev(v):
    return AuditEvent(b"{}", obj={"v": v, "w": v if not isinstance(v, list) else len(v)})


def test_counts_keep_keys_not_events():
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is AuditEvent)
    c = Counter([("v", lambda e: e.obj["v"])])
    for i in range(2000):
        c.add(_ev(f"id-{i % 700}"))
    gc.collect()
    assert sum(1 for o in gc.get_objects() if type(o) is AuditEvent) == before
    assert all(type(k) is tuple and type(k[0]) is str for k in c.counts)


def test_a_tiny_budget_spills_and_counts_the_same():
    cols = [("v", lambda e: e.obj["v"])]
    small, big = Counter(cols, max_memory=2000), Counter(cols, max_memory=None)
    for i in range(3000):
        ev = _ev(f"id-{(i * 7) % 1000}")
        small.add(ev)
        big.add(ev)
    assert small.spills > 10 and big.spills == 0
    assert len(small.counts) < 20  # the rest is in the temporary file
    assert small.ranked() == big.ranked()


values = st.one_of(
    st.none(), st.sampled_from(["a", "b", "é", "", "x\ny", "🙂"]), st.integers(0, 3),
    st.lists(st.sampled_from(["p", "q"]), max_size=2),
)


def _render(seq, fmt, top, budget, two_columns):
    out = io.BytesIO()
    cols = [("v", lambda e: e.obj["v"])]
    if two_columns:
        cols.append(("w", lambda e: e.obj["w"]))
    w = CountsWriter(Console(out, io.StringIO(), False, False), cols, fmt, top=top, max_memory=budget)
    for v in seq:
        w.event(_ev(v))
    w.close()
    return out.getvalue(), w.counter.spills


@settings(max_examples=150, deadline=None)
@given(st.lists(values, max_size=60), st.sampled_from([OutputFormat.JSONL, OutputFormat.CSV, OutputFormat.TABLE]),
       st.one_of(st.none(), st.integers(1, 6)), st.integers(1, 2000), st.booleans())
def test_spilled_counts_print_exactly_as_in_memory(seq, fmt, top, budget, two_columns):
    spilled, _ = _render(seq, fmt, top, budget, two_columns)  # budgets this small spill often
    in_memory, none = _render(seq, fmt, top, None, two_columns)
    assert none == 0
    assert spilled == in_memory


def test_cli_max_memory(tmp_path):
    args = ["filter", "ka.verb exists", str(SMALL), "--count-by", "ka.user.name,ka.verb"]
    default = run(*args)
    tiny = run(*args, "--max-memory", "1K")
    assert tiny.exit_code == 0 and tiny.stdout == default.stdout
    assert [json.loads(x)["count"] for x in default.stdout.splitlines()]
    bad = run(*args, "--max-memory", "-5")
    assert bad.exit_code == 2 and "invalid --max-memory" in bad.stderr and "Traceback" not in bad.stderr


def test_a_compressed_subscription_blob_cannot_expand_without_bound():
    import base64

    bomb = gzip.compress(b'{"logEvents":[' + b" " * (40 * MB) + b"]}")  # ~40 KB that inflate to 40 MB
    line = json.dumps({"awslogs": {"data": base64.b64encode(bomb).decode()}}).encode() + b"\n"
    bad = []
    tracemalloc.start()
    try:
        evs = list(iter_source(io.BytesIO(line + SMALL.read_bytes()), "src", on_bad=bad.append,
                               max_document_bytes=MB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(evs) == len(SMALL.read_bytes().splitlines())
    assert [b.line for b in bad] == [1] and "decompresses to more than 1048576 bytes" in bad[0].reason
    assert peak < 8 * MB
