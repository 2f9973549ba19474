"""Start-up stays cheap: a command loads what it uses, and `main` builds only the command it runs.

Every question pays the start-up (issue 10), so this guards what it loads, not how long it takes:
`filter` on a file never loads AWS, rules, Sigma, JMESPath (without --query), RE2 (without a regex
or a required literal) or another command's module; `--help` loads no reader, field or condition.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eksaudit.cli import app as cli_app

SMALL = str(Path(__file__).resolve().parents[1] / "data" / "small-audit.jsonl")

_RUN = (
    "import sys\n"
    "sys.argv = ['eksaudit', *sys.argv[1:]]\n"
    "from eksaudit.cli.app import {entry}\n"
    "try:\n"
    "    {call}\n"
    "except SystemExit as e:\n"
    "    print('\\nSTATUS', e.code)\n"
    "print('\\nMODULES', ' '.join(sorted(sys.modules)))\n"
)


def _run(*args: str, whole_app: bool = False) -> tuple[str, set[str]]:
    """What `eksaudit ARGS` prints on stdout (then its exit status), and every module it loaded.

    `whole_app`: run the app with every command built, instead of `main` (the console script).
    """
    code = _RUN.format(entry="app", call="app(prog_name='eksaudit')") if whole_app else _RUN.format(entry="main", call="main()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("_EKSAUDIT_COMPLETE")}
    env["COLUMNS"] = "100"
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                         stdin=subprocess.DEVNULL, timeout=120)
    text, _, mods = out.stdout.rpartition("\nMODULES ")
    return text, set(mods.split())


def _prefixed(mods: set[str], *packages: str) -> set[str]:
    """The modules in `mods` that are one of `packages` or inside one."""
    return {m for m in mods if m in packages or m.startswith(tuple(p + "." for p in packages))}


NEVER = ("boto3", "botocore", "rich", "yaml", "tabulate", "moto", "multiprocessing", "eksaudit.cloudwatch",
         "eksaudit.rules", "eksaudit.sigma", "eksaudit.demo")
OTHER_COMMANDS = ("eksaudit.cli.commands.fetch", "eksaudit.cli.commands.watch", "eksaudit.cli.commands.sigma",
                  "eksaudit.cli.commands.demo")
NEVER_FOR_FILES = NEVER + OTHER_COMMANDS


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_filter_on_files_loads_no_aws_rules_or_other_commands(tmp_path: Path, jobs: str) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    text, mods = _run("filter", "--jobs", jobs, "ka.verb=delete and ka.target.resource=secrets", SMALL, str(empty))
    assert text.count('"verb":"delete"') == 2  # it did run
    assert {"eksaudit.events.readers", "eksaudit.condition.compiler"} <= mods
    assert not _prefixed(mods, *NEVER_FOR_FILES, "jmespath")
    assert "eksaudit.parallel.worker" not in mods  # files this small are read in one process


def test_filter_loads_jmespath_only_with_query_and_re2_only_when_it_searches() -> None:
    text, mods = _run("filter", "not ka.verb in (get, list, watch)", SMALL)
    assert text.count("\n") >= 2
    assert not _prefixed(mods, *NEVER_FOR_FILES, "jmespath", "re2")
    text, mods = _run("filter", "--query", "verb", "ka.verb glob 'del*'", SMALL)
    assert text.split() == ['"delete"', '"delete"', 'STATUS', '0']
    assert "jmespath" in mods
    assert "re2" not in mods
    _, mods = _run("filter", "ka.user.name regex 'ali.e'", SMALL)
    assert "re2" in mods


def test_fields_extraction_loads_no_conditions_aws_or_other_commands() -> None:
    text, mods = _run("fields", "ka.verb", SMALL)
    assert '"delete"' in text
    assert not _prefixed(mods, *NEVER_FOR_FILES, "jmespath", "re2", "eksaudit.condition.compiler")


@pytest.mark.parametrize("args", [["--help"], ["filter", "--help"], ["fields", "--help"]])
def test_help_loads_no_reader_field_condition_or_writer(args: list[str]) -> None:
    text, mods = _run(*args)
    assert "Usage: eksaudit" in text
    assert not _prefixed(mods, *NEVER, "jmespath", "re2", "orjson", "msgspec", "eksaudit.events",
                         "eksaudit.fields", "eksaudit.condition", "eksaudit.output.sink", "eksaudit.pipeline",
                         "eksaudit.parallel")


@pytest.mark.parametrize("command", cli_app.COMMANDS)
def test_main_runs_a_command_as_the_whole_app_does(command: str) -> None:
    """`main` builds only the command named first (the fast path); the whole app is its twin."""
    text, mods = _run(command, "--help")
    others = {f"eksaudit.cli.commands.{c}" for c in cli_app.COMMANDS if c != command}
    assert not others & mods
    whole, whole_mods = _run(command, "--help", whole_app=True)
    assert others <= whole_mods
    assert text == whole and "STATUS 0" in text


def test_a_bad_option_reads_as_with_the_whole_app() -> None:
    code = "import sys; sys.argv = ['eksaudit', 'filter', '--bogus']; from eksaudit.cli.app import {}; {}"
    fast = subprocess.run([sys.executable, "-c", code.format("main", "main()")], capture_output=True, text=True)
    whole = subprocess.run([sys.executable, "-c", code.format("app", "app(prog_name='eksaudit')")],
                           capture_output=True, text=True)
    assert (fast.returncode, fast.stdout, fast.stderr) == (whole.returncode, whole.stdout, whole.stderr)
    assert fast.returncode == 2 and "No such option: --bogus" in fast.stderr


def test_command_signatures_are_not_strings() -> None:
    """Typer evaluates string annotations at every start-up: command modules do not defer them."""
    app = cli_app.build_app()
    callbacks = [app.registered_callback.callback] if app.registered_callback else []
    for group in app.registered_groups:
        callbacks += [c.callback for c in group.typer_instance.registered_commands]
    assert len(callbacks) >= len(cli_app.COMMANDS)
    for fn in callbacks:
        fn = inspect.unwrap(fn)
        strings = {k: v for k, v in fn.__annotations__.items() if isinstance(v, str)}
        assert not strings, f"{fn.__module__}.{fn.__name__}: {strings}"
