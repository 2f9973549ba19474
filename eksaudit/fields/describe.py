"""Field descriptions for people and programs: `eksaudit fields --describe/--json` and docs/fields.md."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from .registry import ArgKind, FieldDef

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEY_NAMES = {"jevt.value": "/POINTER", "json.value": "/POINTER"}


def path_text(path: Sequence[str] | None) -> str | None:
    """A JSON path for people: `user.username`, `annotations["authorization.k8s.io/decision"]`."""
    if not path:
        return None
    out = ""
    for i, k in enumerate(path):
        if _IDENT_RE.match(k):
            out += k if i == 0 else "." + k
        else:
            out += "[" + json.dumps(k, ensure_ascii=False) + "]"
    return out


def display_path(defn: FieldDef) -> str | None:
    """The field's JSON path as text; for key fields such as `ka.annotation` it ends in `[KEY]`."""
    if defn.path is not None:
        return path_text(defn.path)
    if defn.arg_path is not None:
        keys = defn.arg_path("KEY")
        if keys and len(keys) > 1:
            return f"{path_text(keys[:-1])}[KEY]"
    return None


def argument_syntax(defn: FieldDef) -> str:
    """What goes between the brackets: `N`, `KEY`, `/POINTER`, or "" for no argument."""
    if defn.arg is ArgKind.INDEX:
        return "N"
    if defn.arg is ArgKind.KEY:
        return _KEY_NAMES.get(defn.name, "KEY")
    return ""


def argument_text(defn: FieldDef) -> str:
    if defn.arg is ArgKind.INDEX:
        return "[N] optional"
    if defn.arg is ArgKind.KEY:
        return f"[{argument_syntax(defn)}] required"
    return ""


def syntax(defn: FieldDef) -> str:
    """How the field is written: `ka.verb`, `ka.sourceips[N]`, `ka.uri.param[KEY]`."""
    a = argument_syntax(defn)
    return f"{defn.name}[{a}]" if a else defn.name


def describe_field(defn: FieldDef) -> dict[str, Any]:
    """A JSON-ready description of one field."""
    return {
        "name": defn.name,
        "syntax": syntax(defn),
        "type": defn.type.value,
        "list": defn.is_list,
        "argument": defn.arg.value,
        "argument_syntax": argument_syntax(defn),
        "argument_text": argument_text(defn),
        "path": display_path(defn),
        "description": defn.description,
        "example": defn.example,
        "deprecated": defn.deprecated,
        "string_ops": defn.string_ops,
    }


def describe_text(defn: FieldDef) -> str:
    """A few lines describing one field, for `eksaudit fields --describe NAME`."""
    d = describe_field(defn)
    kind = d["type"] + (" list" if d["list"] else "")
    if d["string_ops"]:
        kind += " (string operators apply to its decimal text)"
    lines = [d["syntax"] + ("  (deprecated)" if d["deprecated"] else ""), f"  type:      {kind}"]
    if d["argument_text"]:
        lines.append(f"  argument:  {d['argument_text']}")
    if d["path"]:
        lines.append(f"  JSON path: {d['path']}")
    if d["example"]:
        lines.append(f"  example:   {d['example']}")
    lines.append(f"  {d['description']}")
    return "\n".join(lines) + "\n"
