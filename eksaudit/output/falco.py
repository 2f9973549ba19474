"""`-o falco` / `-o falco-json`: alerts exactly as Falco prints them (rules.model.Alert renders them).

With colour, only the priority word of a text alert is coloured (red for Error and worse, yellow
for Warning, cyan for Notice), so the line stays greppable and identical without colour.
A text alert is always exactly one line: control characters in it (an attacker's `\\r\\n` or ESC
in a User-Agent) are printed as visible escapes (see `eksaudit.safetext`); JSON alerts are exact.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..safetext import encode_line, escape_controls
from .console import CYAN, RED, YELLOW, Console
from .jsonl import JsonObjectWriter
from .query import Query

# Falco priority numbers: 0 Emergency .. 3 Error, 4 Warning, 5 Notice, 6 Informational, 7 Debug
_COLOR_BY_LEVEL = {0: RED, 1: RED, 2: RED, 3: RED, 4: YELLOW, 5: CYAN}


def priority_name(priority: Any) -> str:
    name = getattr(priority, "long_name", None)
    if isinstance(name, str):
        return name
    return str(getattr(priority, "name", priority)).capitalize()


def priority_color(priority: Any) -> str:
    try:
        return _COLOR_BY_LEVEL.get(int(priority), "")
    except (TypeError, ValueError):
        return ""


def alert_text(alert: Any, console: Console | None = None) -> str:
    """The alert's text line, control characters escaped, the priority coloured when asked."""
    line = escape_controls(alert.format_text())
    if console is not None and console.color:
        name = priority_name(alert.priority)
        code = priority_color(alert.priority)
        marker = f": {name} "
        if code and marker in line:
            line = line.replace(marker, f": {console.paint(name, code)} ", 1)
    return line


def alert_json(alert: Any, query: Query | None = None) -> bytes:
    """Falco's JSON alert line; with --query, the query applied to that object."""
    if query is not None:
        obj = alert.to_dict() if hasattr(alert, "to_dict") else _as_obj(alert.to_json())
        return query.dumps(obj)
    data = alert.to_json()
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, bytes):
        return data
    return orjson.dumps(data)


def _as_obj(data: Any) -> Any:
    return orjson.loads(data) if isinstance(data, (str, bytes)) else data


class FalcoTextWriter:
    def __init__(self, console: Console) -> None:
        self.console = console

    def alert_line(self, alert: Any) -> bytes:
        """The alert's line, without its newline (`Sink` batches them)."""
        return encode_line(alert_text(alert, self.console))

    def alert(self, alert: Any) -> None:
        self.console.write_line(self.alert_line(alert))

    def close(self) -> None:
        pass


class FalcoJsonWriter(JsonObjectWriter):
    """One Falco JSON alert per line (`--query` reshapes it)."""

    def alert_line(self, alert: Any) -> bytes:
        return alert_json(alert, self.query)

    def alert(self, alert: Any) -> None:
        self.console.write_line(self.alert_line(alert))
