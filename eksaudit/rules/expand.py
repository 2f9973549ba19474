"""The text rewriting Falco does to a rule's condition before parsing it (docs/rules.md).

Exceptions become `and not (...)` text and list names are substituted as text (so a list works
inside `in (...)`, next to other values, and even inside quotes, exactly where Falco's does); macros
are then spliced into the parsed AST by eksaudit.condition.macros. Doing these the way Falco does,
quirks included, is what lets unmodified Falco rules files produce the same compiled conditions.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..condition.operators import is_list_operator
from .collector import fail
from .model import ExceptionInfo, ListInfo

_BLANKS = " \t\n\r"
_DELIMS = _BLANKS + "(),="


def quote_item(s: str) -> str:
    """Double-quote a value that contains a space and does not already start with a quote."""
    if " " in s and not s.startswith(('"', "'")):
        return '"' + s + '"'
    return s


def paren_item(s: str) -> str:
    return s if s.startswith("(") else "(" + s + ")"


def exceptions_to_text(condition: str, exceptions: list[ExceptionInfo]) -> str:
    """`(cond) and not (...)` for each exception with values; values stay text, re-parsed later."""
    out = "(" + condition + ")"
    for ex in exceptions:
        assert ex.fields is not None and ex.comps is not None
        icond = ""
        if not ex.fields.is_list:
            for val in ex.values:
                if val.is_list:
                    raise fail(ex.where, "Expected values array to contain a list of strings")
                icond += ("(" + ex.fields.item + " " + ex.comps.item + " (") if not icond else ", "
                icond += quote_item(val.item)
            if icond:
                icond += "))"
        else:
            icond = "("
            for values in ex.values:
                if not values.is_list or len(values.items) != len(ex.fields.items):
                    raise fail(ex.where, "Fields and values lists must have equal length")
                icond += "" if icond == "(" else " or "
                icond += "("
                for k, fld in enumerate(ex.fields.items):
                    icond += "" if k == 0 else " and "
                    v = values.items[k]
                    comp = ex.comps.items[k].item
                    if v.is_list:
                        istr = "(" + ", ".join(quote_item(x.item) for x in v.items) + ")"
                    elif is_list_operator(comp):
                        istr = paren_item(v.item)
                    else:
                        istr = quote_item(v.item)
                    icond += " " + fld.item + " " + comp + " " + istr
                icond += ")"
            icond += ")"
            if icond == "()":
                icond = ""
        if icond:
            out += " and not " + icond
    return out


def expand_list_items(lists: Mapping[str, ListInfo]) -> dict[str, list[str]]:
    """Each list's items with references to lists defined before it replaced by their raw items."""
    out: dict[str, list[str]] = {}
    for lst in lists.values():
        items: list[str] = []
        for it in lst.items:
            ref = lists.get(it)
            if ref is not None and ref.index < lst.visibility:
                items.extend(ref.items)
            else:
                items.append(it)
        out[lst.name] = items
    return out


def substitute_list(cnd: str, name: str, items: list[str]) -> tuple[str, bool]:
    """Replace each delimited occurrence of a list name by its quoted items (libsinsp/Falco resolve_list)."""
    used = False
    n = len(name)
    if not n:
        return cnd, False
    start = cnd.find(name)
    while start != -1:
        end = start + n
        if (start == 0 or cnd[start - 1] in _DELIMS) and (end >= len(cnd) or cnd[end] in _DELIMS):
            while start > 0 and cnd[start - 1] in _BLANKS:
                start -= 1
            while end < len(cnd) and cnd[end] in _BLANKS:
                end += 1
            sub = ", ".join(quote_item(v) for v in items)
            if not sub:
                if start > 0 and cnd[start - 1] == ",":
                    start -= 1
                elif end < len(cnd) and cnd[end] == ",":
                    end += 1
            new = ""
            if start > 0:
                new += cnd[:start] + " "
            new += sub + " "
            new += cnd[end:]
            cnd = new
            start += len(sub) + 1
            used = True
        start = cnd.find(name, start + 1)
    return cnd, used


def substitute_lists(cond: str, lists: dict[str, list[str]], used: set[str]) -> str:
    """Apply every list, in first-definition order (no visibility limit: a rule may use a later list)."""
    for name, items in lists.items():
        if name in cond:
            cond, u = substitute_list(cond, name, items)
            if u:
                used.add(name)
    return cond
