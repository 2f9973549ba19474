"""Sigma rules (SigmaHQ's detection format) as a rules source for Kubernetes audit events.

A Sigma rule file is recognised by content (a YAML mapping with `detection` and `logsource`).
Each rule is translated, by our own small translator (see docs/sigma.md for why not pySigma),
into a Falco rule over `jevt.value[/json/pointer]` fields: `read_sigma_text` gives `SigmaRule`s
whose `rule_info()` goes into the same rules Collector as Falco rules, so Sigma rules run
through the same engine, alerts, summaries and outputs; `to_falco_yaml` prints the same rules as a
Falco rules file (`eksaudit sigma convert`). The condition text is one translation for both, so
the converted file gives the alerts the Sigma rules give.
"""

from __future__ import annotations

from .convert import to_falco_yaml
from .reader import SigmaRule, SigmaSkip, looks_like_sigma, read_sigma_file, read_sigma_text

__all__ = ["SigmaRule", "SigmaSkip", "looks_like_sigma", "read_sigma_file", "read_sigma_text", "to_falco_yaml"]
