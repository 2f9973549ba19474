"""Imports follow the data: the condition engine knows no fields, the library never loads typer or boto3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _loaded_after(import_stmt: str) -> set[str]:
    code = f"import sys; {import_stmt}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_condition_engine_does_not_know_fields_or_cli():
    mods = _loaded_after("import eksaudit.condition")
    assert "eksaudit.fields" not in mods
    assert "typer" not in mods
    assert "boto3" not in mods


def test_library_does_not_load_typer_or_boto3():
    mods = _loaded_after("import eksaudit.fields, eksaudit.events, eksaudit.rules, eksaudit.pipeline")
    assert "typer" not in mods
    assert "boto3" not in mods


def test_public_api_is_lazy_and_complete():
    mods = _loaded_after("import eksaudit")
    assert not {"typer", "boto3", "orjson", "eksaudit.fields"} & mods
    code = "import eksaudit; print(all(callable(getattr(eksaudit, n)) for n in eksaudit.__all__))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_sigma_is_library_and_loaded_only_for_sigma_rules():
    mods = _loaded_after("import eksaudit.sigma")
    assert not {"typer", "boto3", "eksaudit.fields", "eksaudit.cli"} & mods
    assert "eksaudit.sigma" not in _loaded_after("import eksaudit.rules")


def test_output_is_library_and_the_cli_session_sits_on_it():
    """Output writers and the Console know nothing of the CLI; the CLI's OutputSession builds on them."""
    assert not {"typer", "boto3", "eksaudit.cli"} & _loaded_after("import eksaudit.output.sink, eksaudit.output.console")
    mods = _loaded_after("import eksaudit.cli.session")
    assert {"eksaudit.output.sink", "eksaudit.output.console"} <= mods
    assert "boto3" not in mods


def test_events_reader_modules_know_no_fields_conditions_or_cli():
    """The reader is split by job (byte scanner, block fast path, envelopes, line cap); none of its
    parts reaches up to fields, rules or the CLI (the anchors load the prefilter only when used)."""
    mods = _loaded_after("import eksaudit.events.readers")
    parts = {"jsonscan", "blocks", "envelopes", "linecap", "readers", "event", "kinds", "sniff", "slowjson"}
    assert {f"eksaudit.events.{p}" for p in parts} <= mods
    assert not {f"eksaudit.events.{p}" for p in parts} & _loaded_after("import eksaudit.events")  # names load on use
    assert not {"eksaudit.fields", "eksaudit.condition", "eksaudit.rules", "eksaudit.cli", "typer", "boto3"} & mods


def test_output_progress_is_terminal_ui_without_aws():
    mods = _loaded_after("import eksaudit.output.progress")
    assert not {"typer", "boto3", "botocore"} & mods
    assert not {m for m in mods if m.startswith("eksaudit.cloudwatch")}


def test_pushdown_reads_conditions_only():
    """The pushdown core and its two dialects need the condition engine, never AWS, fields or the CLI."""
    mods = _loaded_after("import eksaudit.cloudwatch.pushdown.pattern, eksaudit.cloudwatch.pushdown.insights")
    assert "eksaudit.condition.ast" in mods
    assert not {"typer", "boto3", "botocore", "eksaudit.fields", "eksaudit.cli", "eksaudit.output"} & mods
    assert {m for m in mods if m.startswith("eksaudit.cloudwatch.")} == {
        "eksaudit.cloudwatch.pushdown",
        "eksaudit.cloudwatch.pushdown.pattern",
        "eksaudit.cloudwatch.pushdown.insights",
    }


def _module_imports(path: Path) -> set[str]:
    """The eksaudit modules one source file imports (relative imports resolved), read statically."""
    import ast

    p = path
    package = "eksaudit." + ".".join(p.parent.relative_to(_ROOT / "eksaudit").parts)
    out: set[str] = set()
    for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("eksaudit"):
                out.add(mod)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("eksaudit"))
    return out


_ROOT = Path(__file__).resolve().parents[2]

# Within the condition engine and the rules loader, each module's job decides what it may import:
# reading a rules file is not compiling it, the macro resolver does not compile, a ruleset does
# not read files. (Only the modules of issue 11's split are listed; `__init__` wires them.)
_ALLOWED_INSIDE = {
    "condition/ast.py": set(),
    "condition/macros.py": {"eksaudit.condition.ast", "eksaudit.condition.errors"},
    "condition/operators.py": set(),
    "condition/predicates.py": {"eksaudit.condition.operators"},
    "condition/parser.py": {"eksaudit.condition.ast", "eksaudit.condition.errors", "eksaudit.condition.lexer",
                            "eksaudit.condition.operators"},
    "rules/collector.py": {"eksaudit.condition.operators", "eksaudit.errors", "eksaudit.rules.model"},
    "rules/reader.py": {"eksaudit.condition.lexer", "eksaudit.condition.operators", "eksaudit.errors",
                        "eksaudit.rules.collector", "eksaudit.rules.model", "eksaudit.rules.yamlload"},
    "rules/prefilter.py": {"eksaudit.condition.operators", "eksaudit.condition.prefilter"},
    "rules/ruleset.py": {"eksaudit.condition.ast", "eksaudit.condition.resolver", "eksaudit.errors",
                         "eksaudit.rules.blockscreen", "eksaudit.rules.formatting", "eksaudit.rules.model",
                         "eksaudit.rules.prefilter", "eksaudit.rules.screen", "eksaudit.rules.summary"},
    # the screen over a block of lines: decodes the block (events), never reads files or compiles
    "rules/blockscreen.py": {"eksaudit.events.event", "eksaudit.events.fastscan", "eksaudit.events.leaves",
                             "eksaudit.events.projection"},
    "rules/screen.py": {"eksaudit.condition.ast", "eksaudit.condition.compiler", "eksaudit.condition.resolver",
                        "eksaudit.errors"},
}


def test_condition_and_rules_modules_import_only_what_their_job_needs():
    for rel, allowed in _ALLOWED_INSIDE.items():
        got = _module_imports(_ROOT / "eksaudit" / rel)
        assert got <= allowed, f"{rel} imports {sorted(got - allowed)}"
    for p in (_ROOT / "eksaudit" / "condition").glob("*.py"):
        got = _module_imports(p)
        assert not {m for m in got if m.startswith(("eksaudit.rules", "eksaudit.fields", "eksaudit.cli"))}, p.name


def test_the_tail_algorithm_and_its_clock_know_no_aws():
    """The tail, its clock, its state (checkpoint.py) and the dedup keys are tested without AWS."""
    mods = _loaded_after("import eksaudit.cloudwatch.tail, eksaudit.cloudwatch.clock")
    assert {"eksaudit.cloudwatch.checkpoint", "eksaudit.cloudwatch.dedup"} <= mods
    assert not {"boto3", "botocore", "eksaudit.cloudwatch.client", "eksaudit.cloudwatch.watch"} & mods


def test_parallel_scan_is_library():
    """`--jobs` lives in the library: eksaudit.parallel loads the readers, scan and sinks, never the CLI."""
    mods = _loaded_after("import eksaudit.parallel")
    assert {"eksaudit.pipeline", "eksaudit.events.readers", "eksaudit.output.sink"} <= mods
    assert not {"typer", "boto3", "eksaudit.cli", "multiprocessing"} & mods
