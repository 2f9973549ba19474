"""The catalogue as a whole: every field declared properly, argument validation, did-you-mean."""

from __future__ import annotations

import re

import pytest

from eksaudit.errors import FieldError
from eksaudit.fields import ArgKind, FieldType
from eksaudit.fields.catalog import build_registry
from eksaudit.fields.describe import describe_field, describe_text


def _words(text: str) -> list[str]:
    return text.split()


# The original plugin's field table (original-plugin-readme.md) is the minimum field set.
ORIGINAL = _words("""
ka.auditid ka.stage ka.auth.decision ka.auth.reason ka.user.name ka.user.groups ka.impuser.name ka.verb
ka.uri ka.uri.param ka.target.name ka.target.namespace ka.target.resource ka.target.subresource
ka.req.binding.subjects ka.req.binding.role ka.req.binding.subject.has_name ka.req.configmap.name
ka.req.configmap.obj ka.req.pod.containers.image ka.req.container.image ka.req.pod.containers.image.repository
ka.req.container.image.repository ka.req.pod.host_ipc ka.req.pod.host_network ka.req.container.host_network
ka.req.pod.host_pid ka.req.pod.containers.host_port ka.req.pod.containers.privileged ka.req.container.privileged
ka.req.pod.containers.allow_privilege_escalation ka.req.pod.containers.read_only_fs ka.req.pod.run_as_user
ka.req.pod.containers.run_as_user ka.req.pod.containers.eff_run_as_user ka.req.pod.run_as_group
ka.req.pod.containers.run_as_group ka.req.pod.containers.eff_run_as_group ka.req.pod.containers.proc_mount
ka.req.role.rules ka.req.role.rules.apiGroups ka.req.role.rules.nonResourceURLs ka.req.role.rules.verbs
ka.req.role.rules.resources ka.req.pod.fs_group ka.req.pod.supplemental_groups
ka.req.pod.containers.add_capabilities ka.req.service.type ka.req.service.ports ka.req.pod.volumes.hostpath
ka.req.volume.hostpath ka.req.pod.volumes.flexvolume_driver ka.req.pod.volumes.volume_type ka.resp.name
ka.response.code ka.response.reason ka.useragent
""")

NEWER = _words("""
ka.auth.openshift.decision ka.auth.openshift.username ka.validations.admission.policy.failure
ka.security.pod.violations ka.cluster.name ka.sourceips ka.target.pod.name
ka.req.binding.subjects.user_names ka.req.binding.subjects.serviceaccount_names
ka.req.binding.subjects.serviceaccount_ns_names ka.req.binding.subjects.group_names
ka.req.pod.containers.name ka.req.pod.containers.command ka.req.pod.containers.args
ka.level ka.target.apigroup ka.user.uid ka.user.extra ka.annotation ka.latency
eks.cluster eks.user.arn eks.user.canonical_arn eks.user.session eks.user.principal_id eks.user.access_key_id
cw.stream cw.log_group cw.event_id cw.timestamp cw.ingestion_time cw.ingestion_lag
jevt.value jevt.obj jevt.rawtime json.value json.obj json.rawtime
""")

SUBS = _words("""name image image.repository command args privileged allow_privilege_escalation read_only_fs
run_as_user run_as_group eff_run_as_user eff_run_as_group proc_mount add_capabilities""")


def test_every_expected_field_is_registered(registry):
    want = set(ORIGINAL) | set(NEWER)
    for fam in ("containers", "initContainers", "ephemeralContainers"):
        want |= {f"ka.req.pod.{fam}.{s}" for s in SUBS}
    want |= {"ka.req.pod.initContainers.host_port"}
    assert want <= set(registry.names())
    assert len(registry) == len(want)


def test_declarations_are_complete(registry):
    for d in registry:
        assert re.fullmatch(r"[a-z]+(\.[A-Za-z_]+)+", d.name), d.name
        assert d.description and d.description[0].isupper() and d.description.endswith("."), d.name
        assert len(d.description) < 160, d.name
        assert isinstance(d.type, FieldType) and isinstance(d.arg, ArgKind)
        if d.example:
            registry.resolve_ref(d.example)  # examples are valid references
        if d.path is not None:
            assert isinstance(d.path, tuple) and all(isinstance(k, str) and k for k in d.path), d.name


def test_types(registry):
    uint = {d.name for d in registry if d.type is FieldType.UINT64}
    assert uint == {"ka.response.code", "ka.latency", "cw.timestamp", "cw.ingestion_time", "cw.ingestion_lag"}
    assert [d.name for d in registry if d.string_ops] == ["ka.response.code"]
    assert {d.type for d in registry} == {FieldType.STRING, FieldType.UINT64}


def test_key_fields_require_an_argument(registry):
    for name in ("ka.uri.param", "ka.user.extra", "ka.annotation", "jevt.value", "json.value",
                 "ka.req.volume.hostpath", "ka.req.binding.subject.has_name"):
        assert registry.get(name).arg is ArgKind.KEY
        with pytest.raises(FieldError, match="requires an argument"):
            registry.resolve(name)


def test_argument_validation(registry):
    with pytest.raises(FieldError, match="does not take an argument"):
        registry.resolve("ka.verb", "0")
    for bad in ("01", "-1", "x", "", " 1"):
        with pytest.raises(FieldError, match="numeric index"):
            registry.resolve("ka.req.pod.containers.image", bad)
    assert registry.resolve("ka.req.pod.containers.image", "0").arg == "0"
    assert registry.resolve("ka.req.pod.containers.image", "10").ref == "ka.req.pod.containers.image[10]"
    assert registry.resolve_ref("ka.uri.param[a b]").arg == "a b"


def test_did_you_mean(registry):
    with pytest.raises(FieldError) as e:
        registry.resolve("ka.user.nam")
    assert "ka.user.name" in e.value.suggestions
    assert "did you mean" in str(e.value)
    with pytest.raises(FieldError) as e:
        registry.resolve("ka.req.pod.container.image")
    assert "ka.req.pod.containers.image" in e.value.suggestions


def test_build_registry_is_fresh_each_time():
    a, b = build_registry(), build_registry()
    assert a is not b and a.names() == b.names()


def test_describe_field(registry):
    d = describe_field(registry.get("ka.user.extra"))
    assert d["name"] == "ka.user.extra" and d["syntax"] == "ka.user.extra[KEY]"
    assert d["type"] == "string" and d["list"] is True and d["argument"] == "key"
    assert d["path"] == "user.extra[KEY]" and d["example"] == "ka.user.extra[canonicalArn]"
    d = describe_field(registry.get("ka.auth.decision"))
    assert d["path"] == 'annotations["authorization.k8s.io/decision"]' and d["argument_syntax"] == ""
    d = describe_field(registry.get("ka.req.pod.containers.image"))
    assert d["argument_syntax"] == "N" and d["argument_text"] == "[N] optional"
    assert describe_field(registry.get("jevt.value"))["syntax"] == "jevt.value[/POINTER]"
    text = describe_text(registry.get("ka.response.code"))
    assert text.startswith("ka.response.code\n") and "uint64" in text and "responseStatus.code" in text


def test_resolve_remembers_fields_not_errors() -> None:
    """A field named again is the same (frozen) binding; a bad reference fails every time."""
    reg = build_registry()
    a = reg.resolve("ka.user.name")
    assert reg.resolve("ka.user.name") is a and a.extract is reg.resolve("ka.user.name").extract
    assert reg.resolve("ka.req.pod.containers.image", "0") is not reg.resolve("ka.req.pod.containers.image", "1")
    for _ in range(2):
        with pytest.raises(FieldError):
            reg.resolve("ka.no.such.field")
        with pytest.raises(FieldError):
            reg.resolve("ka.user.name", "x")
