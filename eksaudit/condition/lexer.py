"""Falco's condition tokens, matched at a cursor the way libsinsp's parser does it.

Falco has no separate token stream: which token comes next depends on the grammar position (the
same text `in` is an operator after a field and a bare string after `=`). So the "lexer" is a
cursor with one `lex_*` method per token kind; the parser decides which to try, in Falco's order.
Every `lex_*` consumes and returns True on success (the text is then in `last`), or leaves the
cursor untouched.
"""

from __future__ import annotations

import re

# Token patterns, as libsinsp's parser has them. Python's leftmost-greedy matching gives the longest match for these
# patterns, as RE2's POSIX mode does in libsinsp. Falco's `[a-zA-Z]+[a-zA-Z0-9_]*` is written
# `[a-zA-Z][a-zA-Z0-9_]*` (the same language): two adjacent loops over the same letters made a
# failed match backtrack through every split of a long word, quadratic in its length; now a
# loop can only end where its class ends, so a match or failure costs one pass.
_SPACE = " \t\n\v\f\r"
RGX_NOT_BLANK = re.compile(r"not[ \t\n\v\f\r]+")
RGX_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
RGX_FIELD_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+")
RGX_FIELD_ARG_BARE = re.compile(r"[^\]\[\"' \t\n\v\f\r]+")
RGX_HEX_NUM = re.compile(r"0[xX][0-9a-fA-F]+")
RGX_NUMBER = re.compile(r"[+-]?[0-9]+\.?[0-9]*(?:[eE][+-][0-9]+)?")
RGX_BARE_STR = re.compile(r"[^()\"' \t\n\v\f\r=,]+")

BLANKS = frozenset(" \t\b\r\n")  # what libsinsp's lex_blank skips (no \v or \f)

_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", " ": "\\", "/": "/"}
_HEX = frozenset("0123456789abcdefABCDEF")


class LexError(Exception):
    """Internal: a lexing/parsing failure at a character index (turned into ConditionError)."""

    def __init__(self, message: str, idx: int) -> None:
        super().__init__(message)
        self.message = message
        self.idx = idx


def unescape_str(quoted: str, start: int) -> str:
    """Unescape a quoted token (quotes included), per Falco's table.

    `\\xHH` is accepted (libs main, unreleased in Falco 0.44) and gives the character U+00HH.
    """
    delim = quoted[0]
    out: list[str] = []
    i = 1
    end = len(quoted) - 1
    while i < end:
        c = quoted[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= end:  # a trailing lone backslash cannot happen (the quote would be escaped)
            break
        e = quoted[i]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
        elif e == '"':
            if delim != '"':
                raise LexError("invalid \\\" escape in '-quoted string", start + i - 1)
            out.append('"')
        elif e == "'":
            if delim != "'":
                raise LexError("invalid \\' escape in \"-quoted string", start + i - 1)
            out.append("'")
        elif e == "x" and i + 2 < end and quoted[i + 1] in _HEX and quoted[i + 2] in _HEX:
            out.append(chr(int(quoted[i + 1 : i + 3], 16)))
            i += 2
        else:
            raise LexError(f"unsupported string escape sequence: \\{e}", start + i - 1)
        i += 1
    return "".join(out)


class Scanner:
    """A cursor over the condition text with Falco's lexing primitives."""

    __slots__ = ("text", "i", "n", "last")

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.n = len(text)
        self.last = ""  # the last token lexed (blanks excepted), for "unexpected token after ..."

    def blank(self) -> bool:
        """Skip blanks; True if at least one was skipped (lex_blank never sets `last`)."""
        text, i, n = self.text, self.i, self.n
        start = i
        while i < n and text[i] in BLANKS:
            i += 1
        self.i = i
        return i > start

    def at_blank(self) -> bool:
        return self.i < self.n and self.text[self.i] in BLANKS

    def peek(self, s: str) -> bool:
        return self.text.startswith(s, self.i)

    def lex_str(self, s: str) -> bool:
        if self.text.startswith(s, self.i):
            self.i += len(s)
            self.last = s
            return True
        return False

    def lex_rgx(self, rgx: re.Pattern[str]) -> bool:
        m = rgx.match(self.text, self.i)
        if m is None or m.end() == self.i:
            return False
        self.last = m.group(0)
        self.i = m.end()
        return True

    def lex_identifier(self) -> bool:
        return self.lex_rgx(RGX_IDENTIFIER)

    def lex_field_name(self) -> bool:
        return self.lex_rgx(RGX_FIELD_NAME)

    def lex_field_arg_bare(self) -> bool:
        return self.lex_rgx(RGX_FIELD_ARG_BARE)

    def lex_hex_num(self) -> bool:
        return self.lex_rgx(RGX_HEX_NUM)

    def lex_num(self) -> bool:
        return self.lex_rgx(RGX_NUMBER)

    def lex_bare_str(self) -> bool:
        return self.lex_rgx(RGX_BARE_STR)

    def lex_quoted_str(self) -> bool:
        """A quoted string ends at the first same quote whose preceding raw character is not `\\`."""
        text, i, n = self.text, self.i, self.n
        if i >= n or text[i] not in "'\"":
            return False
        delim = text[i]
        j = i + 1
        prev = delim
        while j < n:
            c = text[j]
            if c == delim and prev != "\\":
                raw = text[i : j + 1]
                value = unescape_str(raw, i)
                self.i = j + 1
                self.last = value
                return True
            prev = c
            j += 1
        return False
