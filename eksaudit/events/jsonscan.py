"""The JSON byte scanner: finds where multi-line (or concatenated) JSON documents close.

The readers pass most lines on unparsed; a line that opens a document that does not close on it
(a pretty-printed `filter-log-events` page, subscription envelopes one after another) is gathered
here. The items of a document's `events` / `logEvents` / `items` array (or of a top-level array)
are reported as each one closes, so a multi-gigabyte dump is streamed rather than held whole.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

import orjson

from .event import nonempty_str

# structural characters outside strings; quote and backslash inside strings
_OUT = re.compile(rb'[\[\]{}"]')
_IN = re.compile(rb'["\\]')
_NONWS = re.compile(rb"[^ \t\r\n]")
_CONTAINER_KEY = re.compile(rb'"(events|logEvents|items)"\s*:\s*\Z')
_STR_MEMBER = {
    k: re.compile(rb'"' + k.encode() + rb'"\s*:\s*("(?:[^"\\]|\\.)*")')
    for k in ("logGroup", "logStream", "messageType")
}


def _metadata_complete(skeleton: bytes) -> bool:
    """The envelope text before `logEvents`'s array names all its metadata keys, none spelled with escapes."""
    return b"\\u" not in skeleton and all(rx.search(skeleton) for rx in _STR_MEMBER.values())


@dataclass(frozen=True)
class Container:
    """The array whose items are streamed, and the envelope metadata that applies to them."""

    name: str  # events, logEvents, items, or "" for a top-level array
    group: str | None = None
    stream: str | None = None
    control: bool = False


class Accumulator:
    """Gathers the lines of multi-line (or concatenated) JSON documents and finds where each closes.

    The scan only stops at structural characters (regex jumps), keeps its state between lines
    (depth, inside a string, pending escape) so every byte is scanned once, and reports actions:
    ("doc", a, b) a complete top-level value, ("elem", a, b) a complete item of a streamed array,
    ("garbage", a, b) text between documents.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.offs: list[int] = []  # start offset of each fed line in buf
        self.nums: list[int] = []  # its line number
        self.pos = 0
        self.depth = 0
        self.in_str = False
        self.esc = False
        self.start = -1  # offset of the open top-level value, -1 when none is open
        self.start_line = 0
        self.top = 0
        self.container_depth = 0  # depth of the items of the streamed array (0: none)
        self.elem_start = -1
        self.elem_index = 0
        self.streamed = False  # items were (or will be) emitted one by one: never parse the whole
        self.ctx = Container("")

    def add(self, n: int, line: bytes) -> None:
        self.offs.append(len(self.buf))
        self.nums.append(n)
        self.buf += line

    def line_of(self, off: int) -> int:
        i = bisect.bisect_right(self.offs, off) - 1
        return self.nums[max(i, 0)]

    def lines_after(self, lineno: int) -> list[tuple[int, bytes]]:
        out = []
        offs, buf = self.offs, self.buf
        for i, num in enumerate(self.nums):
            if num > lineno:
                end = offs[i + 1] if i + 1 < len(offs) else len(buf)
                out.append((num, bytes(buf[max(offs[i], 0) : end])))
        return out

    @property
    def open(self) -> bool:
        return self.start >= 0

    def held_bytes(self) -> int:
        """Bytes that must stay in memory: the open item when streaming, else the whole open value."""
        if not self.streamed:
            return len(self.buf)
        return len(self.buf) - (self.elem_start if self.elem_start >= 0 else self.pos)

    def _open_container(self, name: str, skeleton: bytes) -> None:
        if name == "logEvents" and not _metadata_complete(skeleton):
            # the envelope's logGroup/logStream/messageType may come after the array (keys sorted)
            # or be spelled with escapes: parse the whole document instead of streaming its items
            return
        self.container_depth = 2 if self.top == 0x7B else 1
        self.elem_index = 0
        self.streamed = True
        group = stream = None
        control = False
        for key, rx in _STR_MEMBER.items():
            found = rx.findall(skeleton)
            if found:
                try:
                    val = orjson.loads(found[-1])  # duplicate keys: the last one wins, as in parsing
                except orjson.JSONDecodeError:
                    continue
                if key == "logGroup":
                    group = nonempty_str(val)
                elif key == "logStream":
                    stream = nonempty_str(val)
                else:
                    control = val == "CONTROL_MESSAGE"
        self.ctx = Container(name, group, stream, control)

    def _between(self, buf: bytearray, pos: int, n: int, out: list[tuple[str, int, int, Any]]) -> int:
        """Outside any value: open the next one, or report the text up to the line's end as garbage."""
        m = _NONWS.search(buf, pos)
        if m is None:
            return n
        p = m.start()
        c = buf[p]
        if c == 0x7B or c == 0x5B:  # { [
            self.start, self.start_line, self.top, self.depth = p, self.line_of(p), c, 1
            self.streamed = False
            self.container_depth = 0
            if c == 0x5B:
                self._open_container("", b"")
            return p + 1
        nl = buf.find(b"\n", p)
        end = n if nl < 0 else nl + 1
        out.append(("garbage", p, end, None))
        return end

    def scan(self) -> list[tuple[str, int, int, Any]]:
        """Actions found in the bytes added since the last scan, each with the context it needs
        (several documents may close in one scan, so nothing is read from `self` afterwards)."""
        buf = self.buf
        n = len(buf)
        pos = self.pos
        out: list[tuple[str, int, int, Any]] = []
        while pos < n:
            if self.depth == 0:
                pos = self._between(buf, pos, n, out)
                continue
            if self.esc:
                self.esc = False
                pos += 1
                continue
            if self.in_str:
                m = _IN.search(buf, pos)
                if m is None:
                    pos = n
                    break
                if buf[m.start()] == 0x22:
                    self.in_str = False
                    pos = m.end()
                elif m.end() < n:
                    pos = m.end() + 1
                else:
                    self.esc = True
                    pos = n
                continue
            m = _OUT.search(buf, pos)
            if m is None:
                pos = n
                break
            p = m.start()
            c = buf[p]
            pos = p + 1
            if c == 0x22:
                self.in_str = True
            elif c == 0x7B or c == 0x5B:
                if self.container_depth and self.depth == self.container_depth:
                    if self.elem_start < 0:
                        self.elem_start = p
                elif c == 0x5B and self.depth == 1 and self.top == 0x7B and not self.container_depth:
                    km = _CONTAINER_KEY.search(buf, max(self.start, p - 200), p)
                    if km and not self.streamed:
                        self._open_container(km.group(1).decode(), bytes(buf[self.start : p]))
                self.depth += 1
            else:
                self.depth -= 1
                if self.elem_start >= 0 and self.depth == self.container_depth:
                    out.append(("elem", self.elem_start, pos, (self.ctx, self.elem_index)))
                    self.elem_index += 1
                    self.elem_start = -1
                elif self.container_depth and self.depth < self.container_depth:
                    self.container_depth = 0
                if self.depth <= 0:
                    self.depth = 0
                    out.append(("doc", self.start, pos, (self.streamed, self.start_line)))
                    self.start = -1
        self.pos = pos
        return out

    def compact(self) -> None:
        """Drop what is no longer needed (everything before the open value, or before the open item)."""
        if self.start < 0:
            keep = self.pos
        elif self.streamed:
            keep = self.elem_start if self.elem_start >= 0 else self.pos
        else:
            keep = self.start
        if keep < (1 << 16):
            return
        del self.buf[:keep]
        i = max(bisect.bisect_right(self.offs, keep) - 1, 0)
        self.offs = [o - keep for o in self.offs[i:]]
        self.nums = self.nums[i:]
        self.pos -= keep
        if self.start >= 0:
            self.start = max(self.start - keep, 0)
        if self.elem_start >= 0:
            self.elem_start -= keep
