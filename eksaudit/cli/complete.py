"""Shell-completion callbacks: field names, built-in rulesets and rules files, priorities."""

from __future__ import annotations

import os

PRIORITIES = ["EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"]


def _field_names() -> list[str]:
    from ..fields import default_registry

    out = []
    for d in default_registry():
        arg = d.arg.value
        out.append(d.name if arg == "none" else d.name + "[")
        if arg == "index":
            out.append(d.name)
    return out


def complete_field(incomplete: str) -> list[str]:
    """One field name (`fields FIELD`)."""
    return [n for n in _field_names() if n.startswith(incomplete)]


def complete_field_list(incomplete: str) -> list[str]:
    """The last item of a comma-separated field list (`--fields`, `--count-by`)."""
    head, sep, last = incomplete.rpartition(",")
    prefix = head + sep
    return [prefix + n for n in _field_names() if n.startswith(last)]


def complete_rules(incomplete: str) -> list[str]:
    """Built-in ruleset names, then YAML files matching what is typed."""
    try:
        from ..rules import builtin_rulesets

        names = [n for n in builtin_rulesets() if n.startswith(incomplete)]
    except ImportError:  # pragma: no cover - rules package always present once installed
        names = []
    import glob  # here, not at the top: every command loads this module to declare its options

    files = [
        p + ("/" if os.path.isdir(p) else "")
        for p in sorted(glob.glob(glob.escape(incomplete) + "*"))
        if os.path.isdir(p) or p.endswith((".yaml", ".yml"))
    ]
    return names + files


def complete_priority(incomplete: str) -> list[str]:
    return [p for p in PRIORITIES if p.startswith(incomplete.upper())]
