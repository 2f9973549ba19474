"""Substring search and counting over a block of bytes, with SIMD (StringZilla) where it pays.

The anchored block reader (`blocks.py`) spends its time in two questions about a megabyte of
JSON lines: where is the next occurrence of a literal, and how many lines lie before it. CPython's
`bytes.find`/`count` answer at about 1.3 GB/s (`count(b"\\n")` 2.2 GB/s) on audit events, whose
bytes repeat the needle's characters (`"` is a tenth of them); StringZilla's SIMD search and
count answer at 6 to 12 GB/s, measured on both benchmark data sets (benchmarks/projection.py).

`find(buf, needle, start, end)` and `count(buf, needle, start, end)` are `bytes.find`/`count`
for what the reader asks: a non-empty needle and `0 <= start <= end <= len(buf)` (StringZilla
reads negative offsets differently, so callers never pass them). `SIMD = False` is the slow twin
(bytes' own methods); tests/events/test_fastscan.py compares the two on random bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["SIMD", "functions", "lines", "simd"]

SIMD = True  # the slow twin: False searches and counts with bytes' own methods

Find = Callable[[Any, bytes, int, int], int]


def _find(buf: Any, needle: bytes, start: int, end: int) -> int:
    return buf.find(needle, start, end)  # type: ignore[no-any-return]


def _count(buf: Any, needle: bytes, start: int, end: int) -> int:
    return buf.count(needle, start, end)  # type: ignore[no-any-return]


def functions() -> tuple[Find, Find]:
    """(find, count) as `SIMD` says now: StringZilla's, or bytes' own (also when it cannot load)."""
    if SIMD:
        try:
            import stringzilla
        except ImportError:  # a platform without its wheel: the same answers, slower
            return _find, _count
        return stringzilla.find, stringzilla.count
    return _find, _count


def simd() -> bool:
    """True when `functions()` gives StringZilla's (SIMD on, and its wheel loads)."""
    return functions()[0] is not _find


def lines(block: Any) -> Any:
    """The lines of `block` (complete lines: it ends with a newline), each without its newline, and
    an empty last item: as `bytes(block).split(b"\\n")`, but with SIMD only offsets are kept (an
    item is cut out when asked for: `bytes(lines(block)[i])`)."""
    if simd():
        import stringzilla

        return stringzilla.Str(block).split("\n")
    return bytes(block).split(b"\n")
