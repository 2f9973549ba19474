"""Writers that turn matched events and alerts into lines: jsonl, cw, table, csv, falco, falco-json, counts."""

from .options import ColorMode, OutputFormat, OutputOptions

__all__ = ["ColorMode", "OutputFormat", "OutputOptions"]
