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
    out = tmp_path / "fields.md"
    assert docsgen.main(["--check", "--output", str(out)]) == 1
    assert "stale" in capsys.readouterr().err
    assert docsgen.main(["--output", str(out)]) == 0
    assert docsgen.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text() + "edited\n")
    assert docsgen.main(["--check", "--output", str(out)]) == 1
