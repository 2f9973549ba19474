"""Output formats and the options every printing command shares (one dataclass, not a dozen flags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class OutputFormat(str, Enum):
    JSONL = "jsonl"
    CW = "cw"
    TABLE = "table"
    CSV = "csv"
    FALCO = "falco"
    FALCO_JSON = "falco-json"


class ColorMode(str, Enum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass
class OutputOptions:
    """How matches are printed. `format` None means the command's default (jsonl, or falco with rules)."""

    format: OutputFormat | None = None
    fields: list[str] = field(default_factory=list)  # --fields F1,F2 (field references)
    count_by: list[str] = field(default_factory=list)  # --count-by F1,F2
    top: int | None = None  # --top N (with --count-by)
    limit: int | None = None  # --limit N: stop after N matches
    query: str | None = None  # --query JMESPATH, applied to each JSON output object
    color: ColorMode = ColorMode.AUTO
    quiet: bool = False  # -q: print nothing, only the exit status tells
    max_memory: int | None = None  # --max-memory: --count-by's budget in bytes (None: the default)
