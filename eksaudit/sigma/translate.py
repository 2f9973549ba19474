"""Sigma detection items as Falco condition text over `jevt.value[/pointer]` fields.

The text is what runs (through the rules engine) and what `sigma convert` prints, so both give
the same verdicts. Each Sigma semantic maps to an operator Falco has:

* case-insensitive equality -> `iglob` on the glob-escaped value (`=`/`in` when the value has no
  ASCII letter, so plain values still become the engine's index guards);
* `contains`/`startswith`/`endswith` -> `icontains` or `iglob` (`contains`, `startswith`,
  `endswith` when cased or letter-free); other wildcards -> `iglob`/`glob`;
* `re` -> `regex` (RE2, full match) wrapped as `(.|\\n)*(RE)(.|\\n)*` for Sigma's search semantics;
* `null` -> absent, JSON null or empty; `exists` -> `exists`; a missing field fails every check.

Case folding is ASCII (as Falco's `iglob`/`icontains`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ------------------------------------------------------------------------------------------- IR


class Wild(str):
    """A wildcard token of a Sigma string (`*` or `?`), as opposed to literal text.

    It compares equal to the plain text `"*"`: tell them apart by type or identity, never by `==`.
    """


STAR = Wild("*")
QMARK = Wild("?")

Pattern = tuple[str, ...]  # literal strings and Wild tokens


@dataclass(frozen=True)
class FieldTest:
    """`path` compared to each pattern (or regex) with `kind`; values joined by `join` (or/and)."""

    path: tuple[str, ...]
    kind: str  # "match" (wildcard pattern) or "re"
    values: tuple[Pattern | str, ...]
    cased: bool = False
    join: str = "or"


@dataclass(frozen=True)
class NullTest:
    path: tuple[str, ...]


@dataclass(frozen=True)
class ExistsTest:
    path: tuple[str, ...]
    expected: bool


@dataclass(frozen=True)
class KeywordTest:
    """Keywords searched in the whole event (its compact JSON text), joined by `join`."""

    values: tuple[Pattern, ...]
    cased: bool = False
    join: str = "or"


@dataclass(frozen=True)
class And:
    items: tuple[object, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[object, ...]


@dataclass(frozen=True)
class Not:
    item: object


# ------------------------------------------------------------------------------- Sigma strings


def parse_sigma_string(s: str) -> Pattern:
    """Sigma's escaping: `\\*` `\\?` `\\\\` are literals, any other backslash is itself; `*` `?` wild."""
    out: list[str] = []
    acc: list[str] = []
    escaped = False
    for c in s:
        if escaped:
            acc.append(c if c in "*?\\" else "\\" + c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in "*?":
            if acc:
                out.append("".join(acc))
                acc = []
            out.append(STAR if c == "*" else QMARK)
        else:
            acc.append(c)
    if escaped:
        acc.append("\\")
    if acc:
        out.append("".join(acc))
    return tuple(out)


def literal(text: str) -> Pattern:
    return (text,) if text else ()


# ---------------------------------------------------------------------------------- text output

_BARE_ARG_RE = re.compile(r"[A-Za-z0-9_./~:-]+\Z")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
_STR_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# After one of these keys, the rest of a dotted path is a single key: annotation, label and
# user.extra keys hold dots themselves (`annotations.authorization.k8s.io/decision`).
FLAT_MAPS = frozenset(("annotations", "labels", "extra"))
# Newline-proof `.*` for the regex wrapper (RE2 POSIX syntax has no `(?s)`).
_ANY = "(.|\\n)*"


def split_path(name: str) -> tuple[str, ...]:
    parts = name.split(".")
    for i, p in enumerate(parts[:-1]):
        if p in FLAT_MAPS:
            return (*parts[: i + 1], ".".join(parts[i + 1 :]))
    return tuple(parts)


def quote(s: str) -> str:
    """A double-quoted condition string (control characters other than \\n\\r\\t\\b\\f as \\xHH)."""
    out = []
    for c in s:
        e = _STR_ESCAPES.get(c)
        if e is not None:
            out.append(e)
        elif ord(c) < 0x20 or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def field_ref(path: tuple[str, ...]) -> str:
    pointer = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path) if path else ""
    if _BARE_ARG_RE.match(pointer):
        return f"jevt.value[{pointer}]"
    return f"jevt.value[{quote(pointer)}]"


WHOLE_EVENT = 'jevt.value[""]'


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\\])", r"\\\1", text)


def _has_letters(p: Pattern) -> bool:
    return any(not isinstance(t, Wild) and _ASCII_LETTER_RE.search(t) for t in p)


def _one(field: str, p: Pattern, cased: bool) -> tuple[str, str | None]:
    """(condition text, exact literal or None) for one wildcard pattern."""
    exact = cased or not _has_letters(p)
    lits = [t for t in p if not isinstance(t, Wild)]
    # Falco's lexer cannot end a quoted string with a backslash (`"a\\"` does not close): a
    # literal that ends with one goes through glob, whose last backslash is written `[\\]`.
    if any(t.endswith("\\") for t in lits):
        glob = "".join(t if isinstance(t, Wild) else glob_escape(t) for t in p)
        if glob.endswith("\\\\"):
            glob = glob[:-2] + "[\\\\]"
        return f"{field} {'glob' if exact else 'iglob'} {quote(glob)}", None
    if not any(isinstance(t, Wild) for t in p):
        text = "".join(p)
        if exact:
            return f"{field} = {quote(text)}", text
        return f"{field} iglob {quote(glob_escape(text))}", None
    if len(p) == 3 and p[0] is STAR and p[2] is STAR and len(lits) == 1:
        return f"{field} {'contains' if cased else 'icontains'} {quote(lits[0])}", None
    if exact and len(p) == 2 and len(lits) == 1:
        if p[1] is STAR:
            return f"{field} startswith {quote(lits[0])}", None
        if p[0] is STAR:
            return f"{field} endswith {quote(lits[0])}", None
    if len(p) == 1 and p[0] is STAR:  # identity: a Wild equals the plain text "*"
        return f"{field} exists", None
    glob = "".join(t if isinstance(t, Wild) else glob_escape(t) for t in p)
    return f"{field} {'glob' if exact else 'iglob'} {quote(glob)}", None


def _join(parts: list[str], op: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return "(" + f" {op} ".join(parts) + ")"


def _patterns(field: str, values: tuple[Pattern, ...], cased: bool, join: str) -> str:
    texts: list[str] = []
    exact: list[str] = []
    for p in values:
        t, lit = _one(field, p, cased)
        if lit is not None and join == "or":
            exact.append(lit)
        else:
            texts.append(t)
    if len(exact) == 1:
        texts.insert(0, f"{field} = {quote(exact[0])}")
    elif exact:
        texts.insert(0, f"{field} in ({', '.join(quote(e) for e in exact)})")
    return _join(texts, join)


def regex_text(pattern: str) -> str:
    """Sigma's `re` searches; Falco's `regex` must match the whole value."""
    return f"{_ANY}({pattern}){_ANY}"


def to_condition(node: object, top: bool = True) -> str:
    """The Falco condition text of an IR node."""
    if isinstance(node, FieldTest):
        field = field_ref(node.path)
        if node.kind == "re":
            parts = [f"{field} regex {quote(regex_text(v))}" for v in node.values if isinstance(v, str)]
            return _join(parts, node.join)
        return _patterns(field, node.values, node.cased, node.join)  # type: ignore[arg-type]
    if isinstance(node, NullTest):
        field = field_ref(node.path)
        return f'(not {field} exists or {field} in ("", "null"))'
    if isinstance(node, ExistsTest):
        field = field_ref(node.path)
        return f"{field} exists" if node.expected else f"not {field} exists"
    if isinstance(node, KeywordTest):
        values = tuple((STAR, *p, STAR) for p in node.values)
        return _patterns(WHOLE_EVENT, values, node.cased, node.join)
    if isinstance(node, Not):
        inner = to_condition(node.item, False)
        return f"not {inner}" if inner.startswith("(") or " " not in inner else f"not ({inner})"
    if isinstance(node, (And, Or)):
        op = "and" if isinstance(node, And) else "or"
        parts = [to_condition(i, False) for i in node.items]
        if len(parts) == 1:
            return parts[0]
        text = f" {op} ".join(parts)
        return text if top else f"({text})"
    raise TypeError(f"not a Sigma IR node: {node!r}")
