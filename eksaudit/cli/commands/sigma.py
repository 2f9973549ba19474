"""`eksaudit sigma convert FILE...`: Sigma rules as a Falco rules file on stdout."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import sys
from pathlib import Path
from typing import Annotated

import typer

from ...errors import UsageError
from ...status import ExitStatus
from ..runtime import command_runner, warn

app = typer.Typer(
    name="sigma",
    help="Sigma rules: `-r` of filter/fetch/watch runs them directly; `sigma convert` prints them as Falco rules.",
    no_args_is_help=True,
)


@app.command(
    "convert",
    help=(
        "Print the Falco rules (YAML) equivalent to Sigma rule files, for Falco with the k8saudit and json "
        "plugins or for `eksaudit filter -r`. A directory stands for its *.yml/*.yaml files. Rules whose "
        "logsource is not Kubernetes audit are skipped with a warning.\n\n"
        "Example: eksaudit sigma convert rules/ > sigma_rules.yaml"
    ),
)
@command_runner
def convert_command(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Sigma rule files or directories.")],
) -> ExitStatus:
    from ...sigma import SigmaSkip, read_sigma_file, to_falco_yaml
    from ...sigma.reader import SigmaError

    rules = []
    for name in files:
        p = Path(name)
        paths = sorted(f for f in p.iterdir() if f.suffix in (".yml", ".yaml") and f.is_file()) if p.is_dir() else [p]
        if p.is_dir() and not paths:
            raise UsageError(f"{p}: no Sigma rule files (*.yml, *.yaml) in this directory")
        for f in paths:
            for r in read_sigma_file(f):
                if isinstance(r, SigmaSkip):
                    warn(r.message)
                    continue
                for w in r.warnings:
                    warn(w)
                if any(x.title == r.title for x in rules):
                    raise SigmaError(f"{f}:{r.line}: Sigma rule '{r.title}': a rule of that name is already converted")
                rules.append(r)
    if not rules:
        return ExitStatus.NO_MATCH
    sys.stdout.write(to_falco_yaml(rules))
    return ExitStatus.MATCHED
