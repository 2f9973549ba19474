"""docs/architecture.md names modules; they must exist, so the map stays true as the house changes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("events", "fields", "condition", "rules", "sigma", "cloudwatch", "output", "cli", "demo")

def named_paths(text: str) -> set[str]:
    """Every module or package the page names: `eksaudit/x/y.py`, `x/y.py`, `x/` and `x.y` spellings."""
    names: set[str] = set()
    pkg = "|".join(PACKAGES)
    for code in re.findall(r"`([^`\n]+)`", text):
        code = code.strip()
        if m := re.fullmatch(rf"(?:eksaudit/)?((?:{pkg})(?:/\w+)*)(/|\.py)?", code):
            path, tail = m.groups()
            if tail == ".py" or tail == "/" or "/" in path:
                names.add(f"eksaudit/{path}.py" if tail == ".py" else f"eksaudit/{path}")
        elif m := re.fullmatch(r"eksaudit/(\w+\.py)", code):
            names.add(f"eksaudit/{m.group(1)}")
        elif m := re.fullmatch(rf"((?:{pkg})(?:\.\w+)+)", code):
            path = "eksaudit/" + m.group(1).replace(".", "/")
            names.add(path if (ROOT / path).is_dir() else path + ".py")  # a package, else a module
        elif m := re.fullmatch(r"tests/[\w/]+\.py", code):
            names.add(code)
    return names


def _exists(name: str) -> bool:
    p = ROOT / name
    return p.exists() or (not name.endswith(".py") and p.with_suffix(".py").exists())


def test_every_module_the_architecture_page_names_exists():
    names = named_paths(DOC.read_text(encoding="utf-8"))
    assert len(names) > 40  # the extraction works: the page names most modules
    missing = sorted(n for n in names if not _exists(n))
    assert missing == [], f"docs/architecture.md names modules that do not exist: {missing}"


def test_the_extraction_sees_each_spelling():
    text = "`eksaudit/pipeline.py` `fields/ka.py` `cli/commands/` `output.sink` `tests/cli/x.py` `OutputFormat`"
    assert named_paths(text) == {
        "eksaudit/pipeline.py", "eksaudit/fields/ka.py", "eksaudit/cli/commands", "eksaudit/output/sink.py",
        "tests/cli/x.py",
    }
