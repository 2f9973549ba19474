"""A block of plain event lines decoded in one C call, for a scan loop that can take it whole.

Counting (`--count-by`) spends most of its time around the decoder, not in it: an event object
per line, the loop, two calls per event. When the scan loop has nothing to do per event but test
the condition and hand the match to a writer that reads only projected fields (or only the raw
text, which is then cut out of the block for each match), the block reader offers it whole
blocks instead: every complete line of a block, when each is a plain event line
(`{"kind":"Event",` ... `}`, no document open: what the reader would pass on unparsed). The loop
decodes the block with the projection's `decode_lines` and runs the condition on the partial
objects through one reused event.

Why this is the per-line result: msgspec reads a buffer of JSON values separated by whitespace,
and a value never spans two plain lines (a `}` then a line break then `{` is never inside a valid
JSON value: after a `}` comes `,` `]` `}` or the end), so when it returns exactly as many values
as there are lines, value i is line i decoded on its own. Anything else (a line that is not
valid JSON, two values on a line, a value the typed decoder declines) makes the whole block fall
back to the line by line path, which reports exactly what it always does.

`BATCHES = False` is the slow twin (no block is ever offered); tests compare the two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["BATCHES", "BlockSlot"]

BATCHES = True  # the slow twin: False, readers never offer blocks (every line becomes an event)

Take = Callable[[Any, str, int, int], bool]


class BlockSlot:
    """What a reader and a scan loop share: the loop puts `take` here while it runs.

    `take(block, source, first_line, k)` gets the k lines of `block` (numbered from `first_line`),
    all plain event lines, and returns True when it handled them as their k events (else the
    reader yields them one by one, as without the slot).
    """

    __slots__ = ("take",)

    def __init__(self) -> None:
        self.take: Take | None = None
