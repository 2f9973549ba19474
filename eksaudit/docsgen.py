"""Every generated file, from the code it documents, so no reference can drift from the code.

docs/fields.md comes from the field registry; docs/cli.md (every `--help`) and
completions/eksaudit.{bash,zsh,fish} from the Typer app. `python -m eksaudit.docsgen` (what
`make docs` runs) rewrites them; `--check` writes nothing and exits 1 naming the stale files (a
test runs it). `describe_field` is also what `eksaudit fields --describe/--json` show.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .fields.describe import describe_field
from .fields.registry import FieldDef, FieldRegistry

__all__ = ["cli_reference", "completion_script", "describe_field", "generated_files", "main", "render_fields_md"]

REPO = Path(__file__).resolve().parent.parent
DOCS_PATH = REPO / "docs" / "fields.md"
SHELLS = ("bash", "zsh", "fish")

_NAMESPACES = {
    "ka": (
        "Kubernetes audit fields",
        "Falco's k8saudit fields (same names and meaning, including the deprecated ones) plus eksaudit's "
        "additions `ka.level`, `ka.target.apigroup`, `ka.user.uid`, `ka.user.extra[KEY]`, "
        "`ka.annotation[KEY]` and `ka.latency`. Every `ka.*` field needs an audit event: without an "
        "`auditID` key none of them has a value.",
    ),
    "eks": (
        "EKS fields",
        "The cluster an event came from (`eks.cluster`, from its CloudWatch log group), and the IAM "
        "identity EKS records in `user.extra`, as plain strings (the first value of the key). Like "
        "`ka.*` fields the identity fields need an audit event (an `auditID` key).",
    ),
    "cw": (
        "CloudWatch metadata fields",
        "Present only for events that came from CloudWatch Logs (`fetch`, `watch`, `-o cw` records, "
        "AWS CLI output, exports and subscription envelopes); no value for plain audit files.",
    ),
    "jevt": (
        "JSON fields (Falco json plugin)",
        "Read any JSON event, with no `auditID` requirement.",
    ),
    "json": (
        "JSON fields, json.* spelling",
        "Identical to the `jevt.*` fields above.",
    ),
}

_NOTES = """\
## Values

* String fields give text; `uint64` fields give integers; list fields give one or more values.
  A JSON value that is not a string is shown as compact JSON (`true`, `1000`, `{"a":"b"}`).
* Missing data is **no value**: every comparison on it is false (also `!=`); only `not` flips that.
  An empty list is no value too. A JSON value of the wrong type gives no value, never an error.
* Arguments: `[N]` is an optional index (digits, no leading zero) that selects one element;
  `[KEY]` is a required key taken as written (`ka.uri.param[command]`, `jevt.value[/stage]`).
  An index does not make a list field scalar.
* List fields accept `in` (every value in the set), `intersects` (some value in the set) and `exists`.

## Where eksaudit deliberately differs from the Falco plugin

* `ka.response.code` is `uint64`, so `>= 400` works; string operators (`startswith 2`,
  `in (401, 403)`) apply to its decimal text, so Falco's rules work unchanged.
* `ka.sourceips` reads the top-level `sourceIPs` (the plugin reads a wrong path and is always empty).
* `eff_run_as_user` / `eff_run_as_group`: the container's `securityContext`, else the pod's
  `securityContext`, else `0` (the plugin skips `securityContext` and so always says 0).
* `*.image.repository` keeps a registry port: `localhost:5000/app:1` gives `localhost:5000/app`.
* `*.add_capabilities` is one value per capability (`NET_ADMIN`), not one JSON array per container.
* `ka.req.service.ports` is one value per port (each port object as compact JSON); `[N]` selects.
* `ka.req.binding.subject.has_name` always returns `N/A`.

## Tolerated differences

Falco re-emits non-string JSON with its original text; eksaudit re-serialises the parsed value.
Key order is kept and integers are exact, but floats are re-spelled (`1e3` gives `1000.0`), string
escapes are re-spelled (`\\u0026` gives `&`, non-ASCII stays UTF-8) and a duplicated key keeps its
last value. This matters only for `contains` on JSON-valued fields such as `ka.req.configmap.obj`.
Times (`jevt.rawtime`, `ka.latency`) also accept a space instead of `T` and a missing zone (UTC).
"""


def _cell(text: str | None) -> str:
    if not text:
        return ""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    return f"`{_cell(text)}`" if text else ""


def render_fields_md(registry: FieldRegistry) -> str:
    """The whole docs/fields.md text: notes, then one table per namespace."""
    groups: dict[str, list[FieldDef]] = {}
    for defn in registry:
        groups.setdefault(defn.namespace, []).append(defn)
    lines = [
        "# Field reference",
        "",
        "<!-- Generated from the field registry by `make docs` (python -m eksaudit.docsgen). Do not edit. -->",
        "",
        f"eksaudit knows {len(registry)} fields. Use them in conditions and rules "
        "(`eksaudit filter 'ka.verb = delete'`), in `--fields` and `--count-by`, and with "
        "`eksaudit fields NAME` on events.",
        "",
        "Namespaces: " + ", ".join(f"[`{ns}.*`](#{ns}) ({len(defs)})" for ns, defs in groups.items()) + ".",
        "",
        _NOTES,
    ]
    for ns, defs in groups.items():
        title, intro = _NAMESPACES.get(ns, (f"{ns}.* fields", ""))
        lines += [f'<a id="{ns}"></a>', "", f"## `{ns}.*`: {title}", ""]
        if intro:
            lines += [intro, ""]
        lines += [
            "| Field | Type | List | Argument | JSON path | Description | Example |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for d in defs:
            info = describe_field(d)
            desc = info["description"]
            if d.deprecated and not desc.lower().startswith("deprecated"):
                desc = "Deprecated. " + desc
            lines.append(
                "| "
                + " | ".join(
                    [
                        _code(info["syntax"]),
                        info["type"] + (" (string ops)" if d.string_ops else ""),
                        "yes" if d.is_list else "",
                        info["argument_text"],
                        _code(info["path"]),
                        _cell(desc),
                        _code(info["example"]),
                    ]
                )
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def _invoke(args: list[str], *, name_the_shell: bool = False) -> str:
    from typer.testing import CliRunner

    from .cli.app import app

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
    from .cli.app import COMMANDS, app

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


def generated_files(root: Path = REPO) -> dict[Path, str]:
    """Every generated file under `root` (the repository by default) and the text it must hold."""
    from .fields import default_registry

    files = {root / "docs" / "fields.md": render_fields_md(default_registry())}
    files[root / "docs" / "cli.md"] = cli_reference()
    files.update({root / "completions" / f"eksaudit.{s}": completion_script(s) for s in SHELLS})
    return files


def stale_files(root: Path = REPO) -> list[str]:
    """The generated files under `root` that are missing or differ from what would be written."""
    return [
        str(path.relative_to(root))
        for path, text in generated_files(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Write every generated file, or with `--check` exit 1 naming those that are stale."""
    parser = argparse.ArgumentParser(prog="python -m eksaudit.docsgen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale, write nothing")
    parser.add_argument("--root", type=Path, default=REPO, help=f"repository to write into (default {REPO})")
    args = parser.parse_args(argv)
    root: Path = args.root
    if args.check:
        stale = stale_files(root)
        if stale:
            print("stale generated files (run `make docs`): " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    for path, text in generated_files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
