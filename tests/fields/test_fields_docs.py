"""docs/fields.md is generated from the registry and must be current; `--check` reports staleness."""

from __future__ import annotations

from eksaudit import docsgen


def test_docs_fields_md_is_current(registry):
    assert docsgen.DOCS_PATH.read_text(encoding="utf-8") == docsgen.render_fields_md(registry), (
        "docs/fields.md is stale: run `make docs`"
    )


def test_render_lists_every_field_once_grouped_by_namespace(registry):
    text = docsgen.render_fields_md(registry)
    for d in registry:
        assert text.count(f"| `{docsgen.describe_field(d)['syntax']}` |") == 1, d.name
    order = [text.index(f"## `{ns}.*`") for ns in ("ka", "eks", "cw", "jevt", "json")]
    assert order == sorted(order)
    assert "| `ka.auth.decision` | string |  |  | `annotations[\"authorization.k8s.io/decision\"]` |" in text
    assert "uint64 (string ops)" in text


def test_check_mode(tmp_path, capsys):
    """One generator, one --check: it names every stale file, and writing makes the tree current."""
    assert docsgen.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "stale" in err and "docs/fields.md" in err and "docs/cli.md" in err and "completions/eksaudit.bash" in err
    assert docsgen.main(["--root", str(tmp_path)]) == 0
    assert docsgen.main(["--check", "--root", str(tmp_path)]) == 0
    out = tmp_path / "docs" / "fields.md"
    out.write_text(out.read_text() + "edited\n")
    assert docsgen.main(["--check", "--root", str(tmp_path)]) == 1
    assert "docs/fields.md" in capsys.readouterr().err
