"""Loading rules files: sources, built-ins, errors that say where, warnings, priorities, YAML typing."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksaudit.errors import RulesError
from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import Priority, RulesLoader, builtin_rulesets, load_rules
from eksaudit.rules.yamlload import YMap, load_documents

REG = default_registry()

BASE = """\
- list: deleters
  items: [alice, "bob smith", 010, yes]

- macro: is_delete
  condition: ka.verb = delete

- rule: Delete By Listed User
  desc: a listed user deleted something
  condition: is_delete and ka.user.name in (deleters)
  output: "%ka.user.name deleted %ka.target.resource/%ka.target.name"
  priority: warning
  source: k8s_audit
  tags: [test, k8s]
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def ev(verb: str, user: str, resource: str = "secrets", name: str = "s1") -> AuditEvent:
    return AuditEvent.from_obj({
        "kind": "Event", "auditID": "a1", "stage": "ResponseComplete", "verb": verb,
        "user": {"username": user}, "objectRef": {"resource": resource, "name": name, "namespace": "ns"},
        "stageTimestamp": "2026-03-01T10:00:00.5Z", "responseStatus": {"code": 200},
    })


def test_yaml_scalars_keep_their_text() -> None:
    (doc,) = load_documents("- list: x\n  items: [010, 1.0, yes, 0x10, ~, '']\n", "f.yaml")
    item = doc[0]
    assert isinstance(item, YMap) and item.line == 1
    assert item["items"] == ["010", "1.0", "yes", "0x10", None, ""]


def test_lists_macros_and_rules_work_end_to_end(tmp_path: Path) -> None:
    rs = load_rules([write(tmp_path, "r.yaml", BASE)], REG)
    expected = '(ka.verb = delete and ka.user.name in (alice, "bob smith", 010, yes))'
    assert rs.compiled_condition("Delete By Listed User") == expected
    (alert,) = rs.match(ev("delete", "bob smith"))
    assert alert.rule == "Delete By Listed User" and alert.priority is Priority.WARNING
    assert alert.output == "bob smith deleted secrets/s1"
    assert alert.tags == ("k8s", "test")
    assert rs.match(ev("delete", "010")) and rs.match(ev("delete", "yes"))  # YAML 1.1 typing not applied
    assert rs.match(ev("get", "alice")) == [] and rs.match(ev("delete", "carol")) == []
    (r,) = rs.rules
    assert (r.name, r.enabled, r.source, r.line) == ("Delete By Listed User", True, "k8s_audit", 7)


def test_overlay_files_append_and_override(tmp_path: Path) -> None:
    overlay = write(tmp_path, "o.yaml", """\
- list: deleters
  items: [carol]
  override: {items: append}
- rule: Delete By Listed User
  exceptions:
    - name: not_configmaps
      fields: [ka.target.resource]
      values: [[configmaps]]
  override: {exceptions: append}
""")
    rs = load_rules([write(tmp_path, "r.yaml", BASE), overlay], REG)
    assert rs.match(ev("delete", "carol"))
    assert rs.match(ev("delete", "carol", resource="configmaps")) == []
    assert rs.compiled_condition("Delete By Listed User").endswith("and not ka.target.resource = configmaps)")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("- rule: R\n  desc: d\n  condition: ka.verb = (\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
         ["bad.yaml:3: rule 'R': condition:", "^"]),
        ("- rule: R\n  desc: d\n  condition: ka.nosuch = x\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
         ["bad.yaml:3: rule 'R': condition: unknown field 'ka.nosuch'"]),
        ("- rule: R\n  desc: d\n  condition: ka.verb = x\n  output: o\n  priority: LOUD\n  source: k8s_audit\n",
         ["bad.yaml:5: rule 'R': Invalid priority"]),
        ("- rule: R\n  desc: d\n  condition: undefined_macro\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
         ["rule 'R'", "Undefined macro 'undefined_macro' used in filter."]),
        ("- rule: R\n  desc: d\n  condition: ka.verb = x\n  output: '%ka.nosuch'\n  priority: INFO\n  source: k8s_audit\n",
         ["bad.yaml:4: rule 'R': output:"]),
        ("- macro: m\n  condition: ka.verb in (a\n", ["bad.yaml:2: macro 'm': condition:"]),
        ("- list: l\n  items: [a, [b]]\n", ["bad.yaml:2: list 'l': sequence value is not scalar"]),
        ("- rule: R\n  condition: and x\n  append: true\n", ["no rule by that name already exists"]),
        ("rule: R\n", ["bad.yaml:1: Rules content is not yaml array of objects"]),
        ("- [a]\n", ["Unexpected element type"]),
        ("- rule: R\n  desc: [\n", ["bad.yaml:", "invalid YAML"]),
        ("- required_engine_version: 1.0.0\n", ["Rules require engine version 1.0.0"]),
        ("- required_plugin_versions:\n  - name: k8saudit\n    version: 9.0.0\n",
         ["Plugin 'k8saudit' version '0.18.0' is not compatible with required plugin version '9.0.0'"]),
    ],
)
def test_errors_name_file_item_and_line(tmp_path: Path, text: str, fragments: list[str]) -> None:
    with pytest.raises(RulesError) as e:
        load_rules([write(tmp_path, "bad.yaml", text)], REG)
    msg = e.value.render()
    for frag in fragments:
        assert frag in msg, msg


def test_upstream_plugin_requirements_are_met(tmp_path: Path) -> None:
    text = """\
- required_engine_version: 15
- required_plugin_versions:
  - name: k8saudit
    version: 0.7.0
    alternatives:
      - name: k8saudit-eks
        version: 0.2.0
  - name: json
    version: 0.7.0
"""
    rs = load_rules([write(tmp_path, "req.yaml", text)], REG)
    assert rs.rules == []


def test_other_sources_are_skipped_with_one_warning_per_source(tmp_path: Path) -> None:
    text = BASE + "".join(
        f"- rule: S{i}\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n" for i in range(3)
    )
    warnings = []
    rs = load_rules([write(tmp_path, "mixed.yaml", text)], REG, on_warning=warnings.append)
    assert [r.name for r in rs.rules] == ["Delete By Listed User"]
    skipped = [w for w in warnings if w.code == "unknown-source"]
    assert len(skipped) == 1 and "3 rule(s) with source 'syscall'" in skipped[0]


def test_builtins_and_unknown_names(tmp_path: Path) -> None:
    assert "eks" in builtin_rulesets()
    with pytest.raises(RulesError) as e:
        load_rules(["nosuchset"], REG)
    assert "built-in: eks" in str(e.value)
    with pytest.raises(RulesError, match="not found"):
        load_rules([str(tmp_path / "missing.yaml")], REG)


def test_min_priority_and_enabled(tmp_path: Path) -> None:
    text = BASE + """\
- rule: Any Get
  desc: d
  condition: ka.verb = get
  output: get
  priority: DEBUG
  source: k8s_audit
- rule: Disabled
  desc: d
  condition: ka.verb = get
  output: x
  priority: EMERGENCY
  source: k8s_audit
  enabled: false
"""
    path = write(tmp_path, "p.yaml", text)
    rs = load_rules([path], REG)
    assert [r.enabled for r in rs.rules] == [True, True, False]
    assert rs.match(ev("get", "x"))[0].rule == "Any Get"
    rs = load_rules([path], REG, min_priority="notice")
    assert [r.enabled for r in rs.rules] == [True, False, False]
    assert rs.match(ev("get", "x")) == []
    with pytest.raises(RulesError, match="invalid priority"):
        load_rules([path], REG, min_priority="loud")


def test_first_match_versus_all(tmp_path: Path) -> None:
    text = BASE + """\
- rule: Any Delete
  desc: d
  condition: ka.verb = delete
  output: any
  priority: INFO
  source: k8s_audit
"""
    path = write(tmp_path, "m.yaml", text)
    assert [a.rule for a in load_rules([path], REG).match(ev("delete", "alice"))] == ["Delete By Listed User"]
    both = load_rules([path], REG, rule_matching="all").match(ev("delete", "alice"))
    assert [a.rule for a in both] == ["Delete By Listed User", "Any Delete"]


def test_skip_if_unknown_filter(tmp_path: Path) -> None:
    text = BASE + """\
- rule: Future Field
  desc: d
  condition: ka.future.field = x
  output: o
  priority: INFO
  source: k8s_audit
  skip-if-unknown-filter: true
"""
    warnings = []
    rs = load_rules([write(tmp_path, "s.yaml", text)], REG, on_warning=warnings.append)
    assert [r.name for r in rs.rules] == ["Delete By Listed User"]
    assert any(w.code == "skipped-rule" for w in warnings)


def test_rules_loader_accepts_text() -> None:
    loader = RulesLoader({"k8s_audit": REG})
    loader.add_text(BASE, "inline")
    assert loader.finish().enabled_count == 1


def test_upstream_ruleset_loads_unmodified(conformance: Path) -> None:
    warnings = []
    rs = load_rules([str(conformance / "falco" / "k8s_audit_rules.yaml")], REG, on_warning=warnings.append)
    assert len(rs.rules) == 48 and rs.enabled_count == 48
    assert not warnings, warnings
