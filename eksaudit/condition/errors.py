"""The one error the condition engine raises: what is wrong, in which text, at which position.

The parser and compiler know the column; the rules loader adds the file and YAML line around it;
the CLI only calls `render()`. Nothing else ever escapes `parse`, `compile_condition` or `matches`.
"""

from __future__ import annotations

from ..errors import ExpressionError
from .ast import Pos


def pos_at(text: str, idx: int) -> Pos:
    """Line and column of character `idx` in `text` (CR or LF each start a new line, as in Falco)."""
    idx = max(0, min(idx, len(text)))
    line = 1 + text.count("\n", 0, idx) + text.count("\r", 0, idx)
    last_break = max(text.rfind("\n", 0, idx), text.rfind("\r", 0, idx))
    return Pos(idx, line, idx - last_break)


#: `ConditionError.kind` of a check on a name that is no field (Falco's "unknown filter")
UNKNOWN_FIELD = "unknown-field"


class ConditionError(ExpressionError):
    """A condition that does not parse or compile.

    `message` says what is wrong, `source` is the condition text (None when compiled from an AST
    whose text is unknown), `pos` where it went wrong, `kind` what class of error it is when a
    caller acts on it (`UNKNOWN_FIELD`, else None). `str()` is a single line; `render()` adds
    the offending line of the condition and a caret under the column.
    """

    def __init__(self, message: str, source: str | None = None, pos: Pos | None = None,
                 suggestions: list[str] | None = None, *, kind: str | None = None) -> None:
        self.message = message
        self.source = source
        self.pos = pos
        self.suggestions = list(suggestions or [])
        self.kind = kind
        super().__init__(self._headline())

    def _headline(self) -> str:
        if self.pos is None:
            return self.message
        multiline = self.source is not None and ("\n" in self.source or "\r" in self.source)
        if multiline:
            return f"{self.message} at line {self.pos.line}, column {self.pos.col}"
        return f"{self.message} at column {self.pos.col}"

    def render(self) -> str:
        head = self._headline()
        if self.source is None or self.pos is None:
            return head
        # Falco counts "\r\n" as two line breaks; split by the same rule so line numbers agree.
        lines = _split_like_falco(self.source)
        line_no = min(max(self.pos.line, 1), len(lines))
        shown = lines[line_no - 1].replace("\t", " ")
        col = max(1, min(self.pos.col, len(shown) + 1))
        return f"{head}\n{shown}\n{' ' * (col - 1)}^"


def _split_like_falco(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    for c in text:
        if c == "\n" or c == "\r":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return out
