"""Sigma rules as a Falco rules file (what `eksaudit sigma convert` prints).

The rules are exactly the ones eksaudit runs for the Sigma files (same name, condition, output,
priority, tags), so `eksaudit filter -r converted.yaml` raises the alerts `-r sigma_rule.yml`
raises. Fields are the json plugin's `jevt.value[...]`, which Falco offers for k8s_audit events
with the k8saudit and json plugins loaded (hence the `required_plugin_versions` item).
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from .reader import SigmaRule

_HEADER = (
    "# Falco rules converted from Sigma rules by `eksaudit sigma convert`.\n"
    "# Sigma semantics kept: case-insensitive values (ASCII, via iglob/icontains), `re` as a search,\n"
    "# null = absent, JSON null or empty. Needs the k8saudit and json plugins (jevt.value fields).\n"
)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, s: str) -> yaml.Node:
    style = "|" if "\n" in s else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


_Dumper.add_representer(str, _str)


def to_falco_yaml(rules: Iterable[SigmaRule]) -> str:
    """A Falco rules file (YAML text) holding one rule per Sigma rule, in order."""
    items: list[dict[str, object]] = [
        {"required_plugin_versions": [{"name": "k8saudit", "version": "0.1.0"}, {"name": "json", "version": "0.1.0"}]}
    ]
    body = []
    for r in rules:
        item: dict[str, object] = {
            "rule": r.title,
            "desc": r.description,
            "condition": r.condition,
            "output": r.output,
            "priority": r.priority.name,
            "source": "k8s_audit",
        }
        if r.tags:
            item["tags"] = list(r.tags)
        origin = f"# from {r.file}:{r.line}" + (f" (Sigma id {r.rule_id})" if r.rule_id else "") + "\n"
        body.append(origin + yaml.dump([item], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**9))
    head = yaml.dump(items, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**9)
    return _HEADER + head + "\n" + "\n".join(body)
