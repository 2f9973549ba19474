"""An alert's text rendered alone equals the text rendered together with its output_fields."""

from __future__ import annotations

from pathlib import Path

from eksaudit.events.readers import read_events
from eksaudit.fields import default_registry
from eksaudit.rules import load_rules

SMALL = Path(__file__).resolve().parent.parent / "data" / "small-audit.jsonl"


def test_text_alone_matches_text_with_fields():
    rs = load_rules(["eks"], default_registry())
    alerts = [a for ev in read_events([str(SMALL)]) for a in rs.match(ev)]
    assert alerts, "the fixture should raise alerts"
    for a in alerts:
        text_only = a.output  # rendered through the text-only path
        assert a._renderer is not None
        text, fields = a._renderer(a.event)
        assert text_only == text
        assert a.output_fields == fields
