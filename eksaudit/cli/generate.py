"""Files generated from the Typer app: shell completions and the CLI reference.

`python -m eksaudit.cli.generate` writes completions/eksaudit.{bash,zsh,fish} and docs/cli.md;
with `--check` it writes nothing and exits 1 when a committed file is stale (a test runs that).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
REPO = Path(__file__).resolve().parents[2]


def _invoke(args: list[str], *, name_the_shell: bool = False) -> str:
    from typer.testing import CliRunner

    from .app import app

    # Typer reads this when it builds the command: `--show-completion` then takes the shell's name
    var = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"
    if name_the_shell:
        os.environ[var] = "1"
    try:
        result = CliRunner().invoke(app, args, prog_name="eksaudit", terminal_width=100, env={"COLUMNS": "100"})
    finally:
        os.environ.pop(var, None)
    if result.exit_code != 0:
        raise RuntimeError(f"eksaudit {' '.join(args)} failed: {result.output}")
    return result.stdout


def completion_script(shell: str) -> str:
    """What `eksaudit --show-completion SHELL` prints, without depending on the calling shell."""
    return _invoke(["--show-completion", shell], name_the_shell=True).rstrip("\n") + "\n"


def cli_reference() -> str:
    """docs/cli.md: `--help` of the program and of every command."""
    from .app import COMMANDS, app

    # A module's app is one command, or a named group of subcommands (`sigma convert`).
    groups = {i.typer_instance.info.name: i.typer_instance for i in app.registered_groups
              if isinstance(i.typer_instance.info.name, str)}
    registered = {i.typer_instance.registered_commands[0].name for i in app.registered_groups
                  if i.typer_instance.info.name not in groups} | set(groups)
    parts = [
        "# Command reference\n",
        "Generated from `eksaudit --help` by `make docs`; a test fails when it is stale.\n",
        "```text\n" + _invoke(["--help"]).rstrip() + "\n```\n",
    ]
    for name in COMMANDS:
        if name in registered:
            parts.append(f"## eksaudit {name}\n\n```text\n" + _invoke([name, "--help"]).rstrip() + "\n```\n")
            for sub in groups[name].registered_commands if name in groups else ():
                parts.append(f"## eksaudit {name} {sub.name}\n\n```text\n"
                             + _invoke([name, str(sub.name), "--help"]).rstrip() + "\n```\n")
    return "\n".join(parts)


def generated_files() -> dict[Path, str]:
    files = {REPO / "completions" / f"eksaudit.{s}": completion_script(s) for s in SHELLS}
    files[REPO / "docs" / "cli.md"] = cli_reference()
    return files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    stale = []
    for path, text in generated_files().items():
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(REPO)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print("stale generated files (run `make docs`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
