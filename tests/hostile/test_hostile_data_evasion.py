"""Finding 1: an attacker-shaped object (deep nesting, `1e999`, odd encodings) cannot hide its event.

orjson rejects such events; before the fallback parser they were skipped with a warning and no rule
saw them. Each probe checks that the alerts of the same event with a benign payload still fire, and
that rendering the hostile value (alert output, fields, jevt.obj, --query, jsonl) works.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hostile_data_kit import DEPTH, PAYLOADS, binding_line
from support.conformance import conformance_dir
from typer.testing import CliRunner

from eksaudit.cli.app import app


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(app, list(args), input=input, prog_name="eksaudit")


def write(tmp_path: Path, data: bytes, name: str = "in.jsonl") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def alert_rules(rules: str, path: str) -> list[str]:
    r = run("filter", "-r", rules, "-o", "falco-json", "-q", path)
    assert "Traceback" not in r.stderr
    r = run("filter", "-r", rules, "-o", "falco-json", path)
    assert "unreadable" not in r.stderr and "not valid JSON" not in r.stderr, r.stderr
    return sorted(json.loads(line)["rule"] for line in r.stdout.splitlines())


HOSTILE = [k for k in PAYLOADS if k != "benign"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_builtin_rules_still_fire(tmp_path, kind):
    benign = alert_rules("eks", write(tmp_path, binding_line(PAYLOADS["benign"]) + b"\n", "b.jsonl"))
    assert "EKS ClusterRoleBinding to cluster-admin" in benign
    hostile = alert_rules("eks", write(tmp_path, binding_line(PAYLOADS[kind]) + b"\n"))
    assert hostile == benign


def test_upstream_rules_still_fire(tmp_path):
    conf = conformance_dir()
    if conf is None:
        pytest.skip("conformance data not found")
    rules = str(conf / "falco" / "k8s_audit_rules.yaml")
    benign = alert_rules(rules, write(tmp_path, binding_line(PAYLOADS["benign"]) + b"\n", "b.jsonl"))
    assert benign
    for kind in HOSTILE:
        assert alert_rules(rules, write(tmp_path, binding_line(PAYLOADS[kind]) + b"\n")) == benign, kind


def test_invalid_utf8_inside_a_string_is_read(tmp_path):
    line = binding_line('"\xff\xfe"'.encode("latin-1").decode("latin-1")).replace("ÿþ".encode(), b"\xff\xfe")
    assert b"\xff\xfe" in line
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(line)
    benign = alert_rules("eks", write(tmp_path, binding_line(PAYLOADS["benign"]) + b"\n", "b.jsonl"))
    assert alert_rules("eks", write(tmp_path, line + b"\n")) == benign
    r = run("fields", "jevt.value[/requestObject/metadata/annotations/note]", write(tmp_path, line + b"\n"))
    assert json.loads(r.stdout)["jevt.value[/requestObject/metadata/annotations/note]"] == "\ufffd\ufffd"


@pytest.mark.parametrize("kind", HOSTILE)
def test_falco_text_output_renders_the_value(tmp_path, kind):
    path = write(tmp_path, binding_line(PAYLOADS[kind]) + b"\n")
    r = run("filter", "-r", "eks", path)
    assert r.exit_code == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if "ClusterRoleBinding to cluster-admin" in ln]
    assert len(lines) == 1
    if kind == "huge-number":
        assert '"extra":1e999' in lines[0]
    if kind == "deep-array":
        assert "[" * DEPTH + "]" * DEPTH in lines[0]


def test_jsonl_prints_the_raw_bytes_unchanged(tmp_path):
    data = b"".join(binding_line(PAYLOADS[k], f"id-{k}") + b"\n" for k in HOSTILE)
    r = run("filter", "ka.verb=create and ka.target.resource=clusterrolebindings", write(tmp_path, data))
    assert r.exit_code == 0
    assert r.stdout_bytes == data


def test_huge_number_is_its_text_in_fields_and_comparisons(tmp_path):
    path = write(tmp_path, binding_line(PAYLOADS["huge-number"]) + b"\n")
    ptr = "jevt.value[/requestObject/metadata/annotations/note]"
    r = run("fields", ptr, "ka.req.binding.subjects", path)
    obj = json.loads(r.stdout)
    assert obj[ptr] == "1e999"
    assert obj["ka.req.binding.subjects"] == ['{"kind":"User","name":"mallory","extra":1e999}']
    for cond in (f"{ptr} = 1e999", f"{ptr} startswith 1e9", f"{ptr} contains 999", f"{ptr} in (1e999, x)"):
        assert run("filter", "-q", cond, path).exit_code == 0, cond
    assert run("filter", "-q", f"{ptr} = inf", path).exit_code == 1
    # -o jsonl --query writes the number back as it came
    r = run("filter", "ka.verb=create", "--query", "requestObject.metadata.annotations", path)
    assert r.stdout.strip() == '{"note":1e999}'


def test_huge_number_is_no_value_for_a_numeric_field(tmp_path):
    line = binding_line(PAYLOADS["benign"]).replace(b'"code":201', b'"code":1e999')
    path = write(tmp_path, line + b"\n")
    assert run("filter", "-q", "ka.verb=create", path).exit_code == 0
    assert run("filter", "-q", "ka.response.code exists", path).exit_code == 1
    assert run("filter", "-q", "jevt.value[/responseStatus/code] = 1e999", path).exit_code == 0


@pytest.mark.parametrize("kind", ["deep-array", "deep-object"])
def test_deep_values_render_in_fields_jevt_obj_and_query(tmp_path, kind):
    line = binding_line(PAYLOADS[kind])
    path = write(tmp_path, line + b"\n")
    ptr = "jevt.value[/requestObject/metadata/annotations/note]"
    r = run("fields", ptr, path)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[ptr] == PAYLOADS[kind]
    r = run("fields", "jevt.obj", path)
    assert r.exit_code == 0, r.stderr
    text = json.loads(r.stdout)["jevt.obj"]
    # indentation stops at orjson's depth limit (255): each of the two deep values adds ~2 x 255^2 spaces
    assert len(text) < 2 * len(line) + 2 * (2 * 256 * 256)
    assert text.replace(" ", "").replace("\n", "") == line.decode()
    r = run("filter", "ka.verb=create", "--query", "requestObject.metadata.annotations.note", path)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == PAYLOADS[kind]


def test_wrapped_events_are_read_too(tmp_path):
    """EventList on one line, and pretty-printed (items streamed), holding a deep event."""
    ev = binding_line(PAYLOADS["deep-array"])
    one_line = b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[' + ev + b"]}\n"
    pretty = b'{\n  "kind": "EventList",\n  "items": [\n    ' + ev + b"\n  ]\n}\n"
    benign = alert_rules("eks", write(tmp_path, binding_line(PAYLOADS["benign"]) + b"\n", "b.jsonl"))
    for data in (one_line, pretty):
        assert alert_rules("eks", write(tmp_path, data)) == benign
    r = run("filter", "ka.verb=create", write(tmp_path, one_line))
    assert r.stdout_bytes == ev + b"\n"  # re-serialised exactly (compact, as it came)
