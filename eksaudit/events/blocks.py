"""The block fast path: a plain JSON-lines file read a megabyte at a time, event lines sliced out.

A plain event line (`{"kind":"Event",...}` ending right before its newline, read while no
multi-line document is open) becomes an event at once, unparsed. With the condition's required
literals (`anchors`), such lines that hold none of them are skipped unread: they could only
have become events that the prefilter rejects. Every other line goes to the source reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import batches, fastscan
from .event import AuditEvent, plain_event

if TYPE_CHECKING:
    from .readers import SourceReader

_BLOCK = 1 << 20
# `read_blocks` reads 64 KB first and doubles up to `_BLOCK`: what learns from the first events (the
# rules' prefilter and screen: a few hundred) is done in a block or two, and the block after it is
# taken whole, where a first block of 1 MB (900 events) went line by line, learned or not.
_FIRST_BLOCK = 1 << 16
_NL = b"\n"
# The slow twin of skipping runs of plain event lines with two counts (`_plain_run`): when False,
# the anchored reader looks at each line between two anchors (tests compare the two)
RUNS = True
_RBRACE = 0x7D  # `}`, the last byte of a plain event line


class Anchor:
    """A group of required literals, found in a block: the next literal, or escape that may spell one.

    Escapes (`EscapeScan`) are looked for only before the next literal, so a block costs one
    search per literal (SIMD, `fastscan`) plus one RE2 pass for the escapes that could spell them
    (the API server's `\\u0026` cannot spell most literals).
    """

    __slots__ = ("rx", "lits", "escapes", "pattern")

    def __init__(self, lits: list[bytes]) -> None:
        from ..condition.prefilter import escape_scan

        self.pattern = b"|".join(re.escape(lit) for lit in lits)
        self.rx = re.compile(self.pattern)
        self.lits = tuple(lits)
        self.escapes = escape_scan(lits)

    def find(self, buf: Any, pos: int, end: int) -> int:
        """Offset of the next literal or spelling escape in `buf[pos:end]`, `end` when there is none."""
        return self.finder()(buf, pos, end)

    def finder(self) -> Callable[[Any, int, int], int]:
        """`find` for one block: calls come with the same `buf` and `end` and `pos` never smaller.

        Each literal is searched on its own, and its next offset remembered until `pos` passes
        it, so a block costs one pass per literal; so is the next spelling escape (one RE2 pass
        per block, not one call per anchor: escapes are rare, anchors are not). Without SIMD
        (`fastscan.SIMD`, the slow twin) one literal is searched with `bytes.find` and several
        with one regex, and escapes before each literal found, as before.
        """
        search = fastscan.functions()[0]
        lits, escapes = self.lits, self.escapes
        if len(lits) == 1:
            lit = lits[0]

            def first(buf: Any, pos: int, end: int) -> int:
                stop = search(buf, lit, pos, end)
                return end if stop < 0 else stop  # type: ignore[no-any-return]

        elif not fastscan.simd():
            rx = self.rx

            def first(buf: Any, pos: int, end: int) -> int:
                m = rx.search(buf, pos, end)
                return m.start() if m is not None else end

        else:
            nxt = [-1] * len(lits)  # each literal's next offset at or after the last `pos` (end: none)
            pairs = list(enumerate(lits))

            def first(buf: Any, pos: int, end: int) -> int:
                stop = end
                for i, lit in pairs:
                    j = nxt[i]
                    if j < pos:
                        j = search(buf, lit, pos, end)
                        nxt[i] = j = end if j < 0 else j
                    if j < stop:
                        stop = j
                return stop

        if escapes is None:
            return first
        if not fastscan.simd():

            def find(buf: Any, pos: int, end: int) -> int:
                stop = first(buf, pos, end)
                if stop > pos:
                    i = escapes.find(buf, pos, stop)
                    if i >= 0:
                        return i
                return stop

            return find
        esc = [-1]  # the next spelling escape at or after the last `pos` (end: none), looked for once

        def find_remembered(buf: Any, pos: int, end: int) -> int:
            stop = first(buf, pos, end)
            e = esc[0]
            if e < pos:
                e = escapes.find(buf, pos, end)
                esc[0] = e = end if e < 0 else e
            return e if e < stop else stop

        return find_remembered

    def hits(self, sample: Any) -> int:
        n = len(self.rx.findall(sample))
        if self.escapes is not None:
            n += 1 if self.escapes.find(sample) >= 0 else 0
        return n


def anchor_patterns(required: Sequence[Iterable[bytes]] | None) -> list[Anchor]:
    """One anchor per usable group of literals (a literal spanning lines could not anchor a line).

    The anchor also stops at every escape that could spell a character of the group's literals: a
    line that writes `delete` as `\\u0064elete` is read, not skipped. The API server's `\\u0026` is
    not such an escape for most literals, so those lines are still skipped.
    """
    out: list[Anchor] = []
    for group in required or ():
        lits = sorted(set(group), key=len, reverse=True)
        if lits and all(lits) and not any(b"\n" in lit or b"\r" in lit for lit in lits):
            out.append(Anchor(lits))
    return out


def _rarest(patterns: list[Anchor], sample: Any) -> Anchor:
    """The anchor with the fewest hits in `sample` (the first block): fewer lines to turn into events."""
    if len(patterns) == 1:
        return patterns[0]
    data = bytes(sample)
    return min(patterns, key=lambda a: a.hits(data))


def read_blocks(reader: SourceReader, f: Any) -> Iterator[AuditEvent]:
    """Events of the lines after the first, read in blocks; the hot path of a plain JSON-lines file.

    A plain event line (`{"kind":"Event",...}` ending right before its newline, no document
    open) becomes an event at once, sliced out of the block; any other line goes through the
    same steps as in `SourceReader._process`. Lines are found with `find` (memchr), so line numbers stay
    exact at little cost. With anchors, see `_anchored_blocks`. A read error ends the events; it
    is noted in `reader.io_error` (reported after the source's last event, by `SourceReader`).
    """
    if reader.anchors:
        yield from _anchored_blocks(reader, f)
        return
    src = reader.source
    event = plain_event
    prefix = reader.prefix
    nl = _NL
    rbrace = _RBRACE
    slot = reader.slot if batches.BATCHES else None
    run = _plain_run(prefix) if slot is not None else None
    n = 1  # lines already numbered
    rest: list[bytes] = []  # the start of a line not yet ended (a line may span many blocks)
    size = min(_FIRST_BLOCK, _BLOCK)
    while True:
        try:
            buf = f.read(size)
            size = min(size << 1, _BLOCK)
        except OSError as e:  # the line cut by the error is lost; `SourceReader._end` reports it
            reader.io_error = (None, f"read error: {e}")
            return
        if not buf:
            if rest:
                yield from reader.other(n + 1, b"".join(rest))
            return
        find = buf.find
        p = 0
        if rest:  # the line cut by the block edge, joined with its end
            q = find(nl)
            if q < 0:
                rest.append(buf)
                continue
            rest.append(buf[: q + 1])
            line = b"".join(rest)
            rest = []
            n += 1
            p = q + 1
            if line.startswith(prefix) and line.endswith(b"}\n") and reader.acc is None:
                yield event(line[:-1], src, n)
            else:
                yield from reader.other(n, line)
        end = buf.rfind(nl) + 1
        if end <= p:
            if p < len(buf):
                rest.append(buf[p:])
            continue
        if end < len(buf):
            rest.append(buf[end:])
        if run is not None and slot.take is not None and end > p and reader.acc is None:  # type: ignore[union-attr]
            k, g = run(buf, p, end)  # g == end: the block's complete lines, when all are plain
            if k and slot.take(memoryview(buf)[p:g], src, n + 1, k):  # type: ignore[union-attr]
                n += k
                p = g
        starts = buf.startswith
        while p < end:
            q = find(nl, p)
            n += 1
            if starts(prefix, p) and buf[q - 1] == rbrace and reader.acc is None:
                yield event(buf[p:q], src, n)
            else:
                yield from reader.other(n, buf[p : q + 1])
            p = q + 1


def _anchored_blocks(reader: SourceReader, f: Any) -> Iterator[AuditEvent]:
    """`read_blocks` with anchors: plain event lines without the anchor are skipped unread.

    Such a line could only have become an event that the prefilter rejects. The anchor (the group
    of required literals with the fewest hits in the first block) is found with one search per
    literal and block (`Anchor.finder`); the lines before it are skipped at once when all are plain
    event lines (`_plain_run`), else one by one. Blocks go into one reused buffer (a fresh megabyte
    per block makes the allocator hand memory back and fault it in again, block after block).
    """
    src = reader.source
    event = plain_event
    prefix = reader.prefix
    nl = _NL
    rbrace = _RBRACE
    anchor: Anchor | None = None
    run: Any = None
    n = 1  # lines already numbered
    buf = bytearray(_BLOCK)
    view = memoryview(buf)
    keep = 0  # bytes at the start of buf that belong to a line not yet ended
    while True:
        try:
            got = f.readinto(view[keep:])
        except OSError as e:  # as in read_blocks
            reader.io_error = (None, f"read error: {e}")
            return
        if not got:
            if keep:
                yield from reader.other(n + 1, bytes(buf[:keep]))
            return
        filled = keep + got
        if anchor is None:
            anchor = _rarest(reader.anchors, view[:filled])
            run = _plain_run(prefix) if RUNS else None
        end = buf.rfind(nl, 0, filled) + 1
        if end == 0:  # no line ends yet: read on, into a larger buffer if this one is full
            keep = filled
            if filled == len(buf):
                view.release()
                buf.extend(bytes(len(buf)))
                view = memoryview(buf)
            continue
        nlfind = buf.find
        starts = buf.startswith
        find = anchor.finder()
        p = 0
        mpos = find(buf, 0, end)
        tried = 0  # lines before this offset are not all plain: no run is looked for there
        while p < end:
            if run is not None and mpos > p >= tried and reader.acc is None:
                k, g = run(buf, p, mpos)  # a run of plain event lines without the anchor: skipped at once
                n, p, tried = (n + k, g, tried) if k else (n, p, g)
                if p >= end:
                    break
            q = nlfind(nl, p)
            n += 1
            if q <= mpos and starts(prefix, p) and buf[q - 1] == rbrace and reader.acc is None:
                p = q + 1  # a plain event line without the anchor: cannot match
                continue
            if q > mpos:
                mpos = find(buf, q + 1, end)
            if starts(prefix, p) and buf[q - 1] == rbrace and reader.acc is None:
                yield event(view[p:q].tobytes(), src, n)
            else:
                yield from reader.other(n, view[p : q + 1].tobytes())
            p = q + 1
        keep = filled - end
        if keep:
            buf[:keep] = bytes(view[end:filled])  # a copy: the two ranges may overlap


def _plain_run(prefix: bytes) -> Callable[[Any, int, int], tuple[int, int]]:
    """`run(buf, p, mpos)`: (k, g) when the k lines of `buf[p:g]` are all plain event lines, `g`
    the start of the line that holds offset `mpos`; (0, g) when one of them is not (or none is there).

    What the line loop of `_anchored_blocks` would decide line by line (starts with `prefix`, a `}`
    before its newline), from two counts: the run's newlines, and the newlines that end a line
    with `}` and start one with `prefix`. Every newline of the run but its last is such a joint
    exactly when every line is plain (a joint holds one newline and fits inside the lines it
    joins), so the counts are equal less one; the first line's start and the last line's `}` are
    checked apart.
    """
    count = fastscan.functions()[1]
    joint = b"}\n" + prefix
    rbrace = _RBRACE

    def run(buf: Any, p: int, mpos: int) -> tuple[int, int]:
        g = buf.rfind(_NL, p, mpos) + 1
        if g <= p:
            return 0, p
        k = count(buf, _NL, p, g)
        if not buf.startswith(prefix, p) or buf[g - 2] != rbrace or (k > 1 and count(buf, joint, p, g - 1) != k - 1):
            return 0, g
        return k, g

    return run
