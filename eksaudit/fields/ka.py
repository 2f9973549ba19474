"""The `ka.*` fields: Falco's k8saudit plugin fields (0.18.0) plus eksaudit's additions.

Extraction follows the plugin (docs/fields.md#values): every field is gated on `auditID`, values
are the as-string rendering of the JSON found, and missing data or a wrong JSON type is "no value".
Where the plugin has a bug, eksaudit deliberately does the documented thing instead (docs/fields.md,
"Where eksaudit deliberately differs from the Falco plugin"): `ka.response.code` is uint64,
`ka.sourceips` reads `sourceIPs`, `eff_run_as_*` honour `securityContext`, image repositories keep
a registry port, `add_capabilities` gives one value per capability, `ka.req.service.ports` one
value per port, and `ka.req.binding.subject.has_name` says `N/A`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_to_bytes

from ..timestamps import ts_ns
from .images import image_repository
from .jsonwalk import (
    MISSING,
    as_string,
    audit_dict,
    audit_member,
    audit_obj,
    get_path,
    list_path_extractor,
    list_strings,
    multi,
    path_extractor,
    strings_skip_missing,
)
from .registry import ArgKind, FieldDef, FieldType

S = FieldType.STRING
U = FieldType.UINT64
_UINT64_MAX = (1 << 64) - 1

Extract = Callable[[Any, Any], Any]


# --------------------------------------------------------------------------------------------
# Special extractors (event metadata)


_CTL_RE = re.compile(r"[\x00-\x1f\x7f]")
_BAD_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _query_unescape(s: str) -> str:
    if "%" not in s and "+" not in s:
        return s
    return unquote_to_bytes(s.replace("+", " ")).decode("utf-8", "replace")


@lru_cache(maxsize=2048)
def query_params(uri: str) -> dict[str, str] | None:
    """Go's `url.Parse` + `url.ParseQuery`, first value per key; None where Go reports an error.

    A control character, a bad `%` escape anywhere, or a `;` in the query makes the whole query
    unusable (Go >= 1.17 rejects `;`), so every `ka.uri.param[...]` then has no value.
    """
    if _CTL_RE.search(uri) or _BAD_PCT_RE.search(uri):
        return None
    query = uri.split("#", 1)[0].partition("?")[2]
    params: dict[str, str] = {}
    if not query:
        return params
    for part in query.split("&"):
        if not part:
            continue
        if ";" in part:
            return None
        key, _, value = part.partition("=")
        key = _query_unescape(key)
        if key not in params:
            params[key] = _query_unescape(value)
    return params


def _uri_param(event: Any, key: Any) -> str | None:
    uri = audit_member(event, "requestURI")
    if uri is MISSING:
        return None
    params = query_params(uri if type(uri) is str else as_string(uri))
    if params is None:
        return None
    return params.get(key)


def _response_code_of(event: Any) -> int | None:
    rs = audit_dict(event, "responseStatus")
    if rs is None:
        return None
    c = rs.get("code")
    t = type(c)
    if t is int:
        return c if 0 <= c <= _UINT64_MAX else None
    if t is float and c.is_integer() and 0 <= c <= _UINT64_MAX:
        return int(c)
    return None


# the walk for the output formats' compiled renderer (rules/formatting.py): an int leaf in range is
# the value, a missing member none
_response_code_of.walk = (("responseStatus", "code"), True, "uint")  # type: ignore[attr-defined]


def _response_code(event: Any, arg: Any) -> int | None:
    return _response_code_of(event)


_response_code.getter = _response_code_of  # type: ignore[attr-defined]  # the one-argument form (registry.resolve)


def _select(arr: Any, idx: int | None) -> list[Any] | None:
    """The array itself, or just element `idx` of it; None if not an array or out of range."""
    if type(arr) is not list:
        return None
    if idx is None:
        return arr
    if idx >= len(arr):
        return None
    return [arr[idx]]


def _sourceips(event: Any, idx: Any) -> list[str] | None:
    o = audit_obj(event)
    if o is None:
        return None
    arr = _select(o.get("sourceIPs"), idx)
    return list_strings(arr) if arr else None


def _target_pod_name(event: Any, arg: Any) -> str | None:
    o = audit_obj(event)
    if o is None:
        return None
    ref = o.get("objectRef")
    if not isinstance(ref, dict) or ref.get("resource") != "pods":
        return None
    sub = ref.get("subresource")
    if type(sub) is str and sub:
        return None
    v = get_path(o.get("responseObject"), ("metadata", "name"))
    if v is MISSING:
        return None
    return as_string(v)


def _latency(event: Any, arg: Any) -> int | None:
    o = audit_obj(event)
    if o is None:
        return None
    start = ts_ns(o.get("requestReceivedTimestamp"))
    end = ts_ns(o.get("stageTimestamp"))
    if start is None or end is None or end < start:
        return None
    return (end - start) // 1_000_000


def _user_extra(event: Any, key: Any) -> list[str] | None:
    extra = get_path(audit_member(event, "user"), ("extra",))
    if not isinstance(extra, dict):
        return None
    return list_strings(extra.get(key))


def _annotation(event: Any, key: Any) -> str | None:
    ann = audit_dict(event, "annotations")
    if ann is None:
        return None
    v = ann.get(key, MISSING)
    if v is MISSING:
        return None
    return v if type(v) is str else as_string(v)


# --------------------------------------------------------------------------------------------
# Bindings, roles, services


def _subject_names(kind: str, with_namespace: bool) -> Extract:
    def ex(event: Any, arg: Any) -> list[str] | None:
        o = audit_obj(event)
        if o is None:
            return None
        subs = get_path(o.get("requestObject"), ("subjects",))
        if type(subs) is not list:
            return None
        out = []
        for s in subs:
            if not isinstance(s, dict) or "kind" not in s or "name" not in s:
                continue
            if as_string(s["kind"]) != kind:
                continue
            name = as_string(s["name"])
            if with_namespace:
                if "namespace" not in s:
                    continue
                name = as_string(s["namespace"]) + ":" + name
            out.append(name)
        return out or None

    return ex


def _has_name(event: Any, key: Any) -> str | None:
    return "N/A" if audit_obj(event) is not None else None


def _rules_member(member: str) -> Extract:
    def ex(event: Any, idx: Any) -> list[str] | None:
        o = audit_obj(event)
        if o is None:
            return None
        rules = _select(get_path(o.get("requestObject"), ("rules",)), idx)
        if not rules:
            return None
        out: list[str] = []
        for r in rules:
            if isinstance(r, dict):
                vals = r.get(member)
                if type(vals) is list:
                    out.extend(as_string(v) for v in vals)
        return out or None

    return ex


def _service_ports(event: Any, idx: Any) -> list[str] | None:
    o = audit_obj(event)
    if o is None:
        return None
    ports = _select(get_path(o.get("requestObject"), ("spec", "ports")), idx)
    return [as_string(p) for p in ports] if ports else None


# --------------------------------------------------------------------------------------------
# Pod spec: volumes


def _multi_skip(keys: tuple[str, ...]) -> Extract:
    """A list field read with the fanning-out walk (`jsonwalk.multi`) from `requestObject`, missing elements skipped."""

    def ex(event: Any, idx: Any) -> list[str] | None:
        ro = audit_member(event, "requestObject")
        if ro is MISSING:
            return None
        return strings_skip_missing(multi(ro, idx, keys))

    return ex


_HOSTPATHS = ("spec", "volumes", "hostPath", "path")


def _volume_hostpath(event: Any, key: Any) -> str | None:
    ro = audit_member(event, "requestObject")
    if ro is MISSING:
        return None
    found = multi(ro, None, _HOSTPATHS)
    if found is MISSING:
        return None
    prefix = key[:-1] if key.endswith("*") else None
    for p in found:
        if p is MISSING:
            continue
        s = as_string(p)
        if s == key or (prefix is not None and s.startswith(prefix)):
            return "true"
    return "false"


def _volume_type(event: Any, idx: Any) -> list[str] | None:
    o = audit_obj(event)
    if o is None:
        return None
    vols = _select(get_path(o.get("requestObject"), ("spec", "volumes")), idx)
    if not vols:
        return None
    out = [k for v in vols if isinstance(v, dict) for k in v if k != "name"]
    return out or None


# --------------------------------------------------------------------------------------------
# Pod spec: per-container families


def _containers(o: dict[str, Any], family: str, idx: int | None) -> list[Any] | None:
    return _select(get_path(o.get("requestObject"), ("spec", family)), idx)


def _event_containers(event: Any, family: str, idx: int | None) -> list[Any] | None:
    """The selected containers of an audit event's pod spec; None when there are none (no value)."""
    o = audit_obj(event)
    if o is None:
        return None
    return _containers(o, family, idx) or None


def _per_container(family: str, values: Callable[[Any], list[str] | None]) -> Extract:
    """A list field over the selected containers: `values(container)` gives that container's values
    ([] for none), or None when one container leaves the whole field with no value (as the plugin)."""

    def ex(event: Any, idx: Any) -> list[str] | None:
        cs = _event_containers(event, family, idx)
        if cs is None:
            return None
        out: list[str] = []
        for c in cs:
            vs = values(c)
            if vs is None:
                return None
            out.extend(vs)
        return out or None

    return ex


def _required_member(family: str, member: str, transform: Callable[[str], str] | None = None) -> Extract:
    """`name`/`image`: one value per container; no value at all if any container lacks it."""

    def values(c: Any) -> list[str] | None:
        v = c.get(member, MISSING) if isinstance(c, dict) else MISSING
        if v is MISSING:
            return None
        s = v if type(v) is str else as_string(v)
        return [transform(s) if transform is not None else s]

    return _per_container(family, values)


def _joined_member(family: str, member: str) -> Extract:
    """`command`/`args`: each container's string array joined with spaces."""

    def values(c: Any) -> list[str] | None:
        v = c.get(member, MISSING) if isinstance(c, dict) else MISSING
        if v is MISSING:
            return []
        if type(v) is not list or any(type(x) is not str for x in v):
            return None
        return [" ".join(v)]

    return _per_container(family, values)


def _effective(family: str, member: str) -> Extract:
    """`eff_run_as_*`: container securityContext, else the pod's securityContext, else 0."""

    def ex(event: Any, idx: Any) -> list[str] | None:
        o = audit_obj(event)
        if o is None:
            return None
        cs = _containers(o, family, idx)
        if not cs:
            return None
        pod = get_path(o.get("requestObject"), ("spec", "securityContext", member))
        default = "0" if pod is MISSING or pod is None else as_string(pod)
        out = []
        for c in cs:
            v = get_path(c, ("securityContext", member))
            out.append(default if v is MISSING or v is None else as_string(v))
        return out

    return ex


def _capabilities(family: str) -> Extract:
    """`add_capabilities`: one value per capability added by the container(s)."""

    def values(c: Any) -> list[str]:
        caps = get_path(c, ("securityContext", "capabilities", "add"))
        return [as_string(x) for x in caps] if type(caps) is list else []

    return _per_container(family, values)


def _host_ports(family: str) -> Extract:
    def values(c: Any) -> list[str] | None:
        ports = c.get("ports", MISSING) if isinstance(c, dict) else MISSING
        if ports is MISSING:
            return []
        if type(ports) is not list:
            return None
        return [
            as_string(p["hostPort"] if "hostPort" in p else p["containerPort"])
            for p in ports
            if isinstance(p, dict) and ("hostPort" in p or "containerPort" in p)
        ]

    return _per_container(family, values)


def _first_container_image(o: dict[str, Any]) -> str | None:
    cs = get_path(o.get("requestObject"), ("spec", "containers"))
    if type(cs) is not list or not cs or not isinstance(cs[0], dict):
        return None
    v = cs[0].get("image", MISSING)
    if v is MISSING:
        return None
    return v if type(v) is str else as_string(v)


def _container_image(event: Any, arg: Any) -> str | None:
    o = audit_obj(event)
    return None if o is None else _first_container_image(o)


def _container_image_repository(event: Any, arg: Any) -> str | None:
    o = audit_obj(event)
    image = None if o is None else _first_container_image(o)
    return None if image is None else image_repository(image)


def _container_privileged(event: Any, arg: Any) -> str | None:
    o = audit_obj(event)
    if o is None:
        return None
    cs = get_path(o.get("requestObject"), ("spec", "containers"))
    if type(cs) is not list:
        return None
    for c in cs:
        if get_path(c, ("securityContext", "privileged")) is True:
            return "true"
    return "false"


_FAMILY_WORDS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
}


def _family_fields(family: str) -> list[FieldDef]:
    """The `ka.req.pod.<family>.*` list fields (optional [N] = the Nth element of that list only)."""
    word = _FAMILY_WORDS[family]
    base = f"ka.req.pod.{family}"
    sc = ("spec", family, "securityContext")

    def f(sub: str, desc: str, extract: Extract, example: str | None = None) -> FieldDef:
        return FieldDef(
            name=f"{base}.{sub}",
            type=S,
            description=desc,
            extract=extract,
            is_list=True,
            arg=ArgKind.INDEX,
            example=example,
        )

    defs = [
        f("name", f"Name of each {word} in the pod spec (no value if any {word} lacks one).",
          _required_member(family, "name")),
        f("image", f"Image of each {word} in the pod spec (no value if any {word} lacks one).",
          _required_member(family, "image"), example=f"{base}.image[0]"),
        f("image.repository",
          f"Image of each {word} without tag or digest; a registry port is kept (localhost:5000/app).",
          _required_member(family, "image", image_repository)),
        f("command", f"Command of each {word} that sets one, its words joined with spaces.",
          _joined_member(family, "command")),
        f("args", f"Arguments of each {word} that sets them, joined with spaces.",
          _joined_member(family, "args")),
        f("privileged", f"The securityContext.privileged of each {word} that sets it (true/false).",
          _multi_skip((*sc, "privileged"))),
        f("allow_privilege_escalation",
          f"The securityContext.allowPrivilegeEscalation of each {word} that sets it.",
          _multi_skip((*sc, "allowPrivilegeEscalation"))),
        f("read_only_fs", f"The securityContext.readOnlyRootFilesystem of each {word} that sets it.",
          _multi_skip((*sc, "readOnlyRootFilesystem"))),
        f("run_as_user", f"The securityContext.runAsUser of each {word} that sets it.",
          _multi_skip((*sc, "runAsUser"))),
        f("run_as_group", f"The securityContext.runAsGroup of each {word} that sets it.",
          _multi_skip((*sc, "runAsGroup"))),
        f("eff_run_as_user",
          f"Effective uid of each {word}: its securityContext.runAsUser, else the pod's, else 0.",
          _effective(family, "runAsUser")),
        f("eff_run_as_group",
          f"Effective gid of each {word}: its securityContext.runAsGroup, else the pod's, else 0.",
          _effective(family, "runAsGroup")),
        f("proc_mount", f"The securityContext.procMount of each {word} that sets it.",
          _multi_skip((*sc, "procMount"))),
        f("add_capabilities",
          f"Capabilities added by the {word}s (securityContext.capabilities.add), one value each.",
          _capabilities(family)),
    ]
    if family != "ephemeralContainers":
        defs.append(
            f("host_port",
              f"Ports of each {word}: hostPort where set, else containerPort.",
              _host_ports(family))
        )
    return defs


_AID = ("auditID",)  # every ka.* field is gated on it
_REQUEST = (("requestObject",), _AID)


# --------------------------------------------------------------------------------------------
# The table


def _p(name: str, keys: tuple[str, ...], desc: str, **kw: Any) -> FieldDef:
    return FieldDef(name=name, type=S, description=desc, extract=path_extractor(keys), path=keys, **kw)


def _lp(name: str, keys: tuple[str, ...], desc: str, *, path: bool = True, **kw: Any) -> FieldDef:
    return FieldDef(
        name=name,
        type=S,
        description=desc,
        extract=list_path_extractor(keys),
        is_list=True,
        path=keys if path else None,
        **kw,
    )


def fields() -> list[FieldDef]:
    """Every `ka.*` field definition."""
    ann = "annotations"
    ro = "requestObject"
    spec = (ro, "spec")
    defs: list[FieldDef] = [
        # event metadata
        _p("ka.auditid", ("auditID",), "The unique id of the audit event."),
        _p("ka.stage", ("stage",), "Stage of the request (RequestReceived, ResponseStarted, ResponseComplete, Panic)."),
        _p("ka.level", ("level",), "Audit level of the event (Metadata, Request, RequestResponse)."),
        _p("ka.auth.decision", (ann, "authorization.k8s.io/decision"), "The authorization decision (allow or forbid)."),
        _p("ka.auth.reason", (ann, "authorization.k8s.io/reason"),
           "The authorization reason, e.g. the RBAC binding that allowed the request (often empty)."),
        _p("ka.auth.openshift.decision", (ann, "authentication.openshift.io/decision"),
           "The OpenShift authentication decision annotation."),
        _p("ka.auth.openshift.username", (ann, "authentication.openshift.io/username"),
           "The OpenShift authentication username annotation."),
        _p("ka.validations.admission.policy.failure",
           (ann, "validation.policy.admission.k8s.io/validation_failure"),
           "Validating admission policy failures recorded for the request."),
        _p("ka.security.pod.violations", (ann, "pod-security.kubernetes.io/audit-violations"),
           "Pod Security admission violations recorded for the request."),
        _p("ka.cluster.name", (ann, "cluster_name"),
           "The cluster_name annotation (set by GKE log conversion; absent in EKS events)."),
        FieldDef(
            name="ka.annotation", type=S, arg=ArgKind.KEY, extract=_annotation,
            description="The value of any audit annotation, by key.",
            example="ka.annotation[pod-security.kubernetes.io/enforce-policy]",
            arg_path=lambda key: ("annotations", key), reads=(("annotations",), _AID),
        ),
        _p("ka.user.name", ("user", "username"), "The user name performing the request."),
        _p("ka.user.uid", ("user", "uid"),
           "The uid of the user (EKS IAM principals: aws-iam-authenticator:ACCOUNT:PRINCIPALID)."),
        _lp("ka.user.groups", ("user", "groups"), "The groups to which the user belongs."),
        FieldDef(
            name="ka.user.extra", type=S, is_list=True, arg=ArgKind.KEY, extract=_user_extra,
            description="Values of a user.extra key (EKS: arn, canonicalArn, sessionName, principalId, accessKeyId).",
            example="ka.user.extra[canonicalArn]",
            arg_path=lambda key: ("user", "extra", key), reads=(("user", "extra"), _AID),
        ),
        _p("ka.impuser.name", ("impersonatedUser", "username"), "The impersonated user name."),
        _p("ka.verb", ("verb",), "The action being performed (get, list, create, update, patch, delete, ...)."),
        _p("ka.uri", ("requestURI",), "The request URI as sent from client to server."),
        FieldDef(
            name="ka.uri.param", type=S, arg=ArgKind.KEY, extract=_uri_param,
            description="The first value of a query parameter of the request URI (no value if the query is malformed).",
            example="ka.uri.param[command]", reads=(("requestURI",), _AID),
        ),
        _p("ka.useragent", ("userAgent",), "The user agent of the client that made the request."),
        FieldDef(
            name="ka.sourceips", type=S, is_list=True, arg=ArgKind.INDEX,
            extract=_sourceips, path=("sourceIPs",), reads=(("sourceIPs",), _AID),
            description="The source IP addresses of the request ([N] selects one).",
            example="ka.sourceips[0]",
        ),
        FieldDef(
            name="ka.response.code", type=U, extract=_response_code,
            path=("responseStatus", "code"), string_ops=True, reads=(("responseStatus", "code"), _AID),
            description="The HTTP response code; string operators apply to its decimal text.",
        ),
        _p("ka.response.reason", ("responseStatus", "reason"),
           "The response reason, e.g. Forbidden (usually present only for failures)."),
        FieldDef(
            name="ka.latency", type=U, extract=_latency,
            description="Milliseconds from requestReceivedTimestamp to stageTimestamp.",
            reads=(("requestReceivedTimestamp",), ("stageTimestamp",), _AID),
        ),
        _p("ka.resp.name", ("responseObject", "metadata", "name"),
           "The response object name (needs the RequestResponse level)."),
        _p("ka.target.name", ("objectRef", "name"), "The target object name."),
        _p("ka.target.namespace", ("objectRef", "namespace"),
           "The target object namespace (absent for cluster-scoped objects)."),
        _p("ka.target.resource", ("objectRef", "resource"), "The target object resource, e.g. pods."),
        _p("ka.target.subresource", ("objectRef", "subresource"), "The target object subresource, e.g. exec."),
        _p("ka.target.apigroup", ("objectRef", "apiGroup"), "The target object API group (empty for the core group)."),
        FieldDef(
            name="ka.target.pod.name", type=S, extract=_target_pod_name,
            description="The name of the pod in the response, for requests on pods without a subresource.",
            reads=(("objectRef", "resource"), ("objectRef", "subresource"), ("responseObject", "metadata", "name"), _AID),
        ),
        # bindings, roles, configmaps, services
        _lp("ka.req.binding.subjects", (ro, "subjects"),
            "The subjects of a role binding request, each as compact JSON.", path=False),
        FieldDef(name="ka.req.binding.subjects.user_names", type=S, is_list=True,
                 extract=_subject_names("User", False),
                 description="Names of the User subjects of a role binding request."),
        FieldDef(name="ka.req.binding.subjects.serviceaccount_names", type=S, is_list=True,
                 extract=_subject_names("ServiceAccount", False),
                 description="Names of the ServiceAccount subjects of a role binding request."),
        FieldDef(name="ka.req.binding.subjects.serviceaccount_ns_names", type=S, is_list=True,
                 extract=_subject_names("ServiceAccount", True),
                 description="NAMESPACE:NAME of the ServiceAccount subjects of a role binding request."),
        FieldDef(name="ka.req.binding.subjects.group_names", type=S, is_list=True,
                 extract=_subject_names("Group", False),
                 description="Names of the Group subjects of a role binding request."),
        _p("ka.req.binding.role", (ro, "roleRef", "name"), "The role referenced by a role binding request."),
        FieldDef(
            name="ka.req.binding.subject.has_name", type=S, arg=ArgKind.KEY, extract=_has_name,
            deprecated=True, description="Deprecated: always N/A; kept so old rules load.",
            example="ka.req.binding.subject.has_name[admin]",
        ),
        _p("ka.req.configmap.name", ("objectRef", "name"), "The name of the configmap a request refers to."),
        FieldDef(
            name="ka.req.configmap.obj", type=S, extract=path_extractor((ro, "data")),
            description="The data of a configmap request as compact JSON (use with contains).",
        ),
        _lp("ka.req.role.rules", (ro, "rules"), "The rules of a role request, each as compact JSON.", path=False),
        FieldDef(name="ka.req.role.rules.apiGroups", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_rules_member("apiGroups"),
                 description="API groups of the role's rules (of rule N with [N]).",
                 example="ka.req.role.rules.apiGroups[0]"),
        FieldDef(name="ka.req.role.rules.nonResourceURLs", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_rules_member("nonResourceURLs"),
                 description="Non-resource URLs of the role's rules (of rule N with [N])."),
        FieldDef(name="ka.req.role.rules.verbs", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_rules_member("verbs"),
                 description="Verbs of the role's rules (of rule N with [N])."),
        FieldDef(name="ka.req.role.rules.resources", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_rules_member("resources"),
                 description="Resources of the role's rules (of rule N with [N])."),
        _p("ka.req.service.type", (*spec, "type"), "The type of a service request (ClusterIP, NodePort, ...)."),
        FieldDef(
            name="ka.req.service.ports", type=S, is_list=True, arg=ArgKind.INDEX, extract=_service_ports,
            description="The ports of a service request, each port object as compact JSON ([N] selects one).",
        ),
        # pod-level spec
        _p("ka.req.pod.host_ipc", (*spec, "hostIPC"), "The hostIPC flag of a pod request."),
        _p("ka.req.pod.host_network", (*spec, "hostNetwork"), "The hostNetwork flag of a pod request."),
        _p("ka.req.container.host_network", (*spec, "hostNetwork"),
           "Deprecated alias of ka.req.pod.host_network.", deprecated=True),
        _p("ka.req.pod.host_pid", (*spec, "hostPID"), "The hostPID flag of a pod request."),
        _p("ka.req.pod.run_as_user", (*spec, "securityContext", "runAsUser"),
           "The pod-level securityContext.runAsUser of a pod request."),
        _p("ka.req.pod.run_as_group", (*spec, "securityContext", "runAsGroup"),
           "The pod-level securityContext.runAsGroup of a pod request."),
        _p("ka.req.pod.fs_group", (*spec, "securityContext", "fsGroup"),
           "The pod-level securityContext.fsGroup of a pod request."),
        _lp("ka.req.pod.supplemental_groups", (*spec, "securityContext", "supplementalGroups"),
            "The pod-level securityContext.supplementalGroups of a pod request."),
        FieldDef(name="ka.req.pod.volumes.hostpath", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_multi_skip(_HOSTPATHS),
                 description="The hostPath paths of the pod's volumes (of volume N with [N])."),
        FieldDef(
            name="ka.req.volume.hostpath", type=S, arg=ArgKind.KEY, extract=_volume_hostpath, deprecated=True,
            description="Deprecated: true if a hostPath volume uses the path (a trailing * matches a prefix), else false.",
            example="ka.req.volume.hostpath[/proc*]",
        ),
        FieldDef(name="ka.req.pod.volumes.flexvolume_driver", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_multi_skip(("spec", "volumes", "flexVolume", "driver")),
                 description="The flexVolume drivers of the pod's volumes (of volume N with [N])."),
        FieldDef(name="ka.req.pod.volumes.volume_type", type=S, is_list=True, arg=ArgKind.INDEX,
                 extract=_volume_type,
                 description="The types of the pod's volumes (hostPath, configMap, ...; of volume N with [N])."),
    ]
    for family in ("containers", "initContainers", "ephemeralContainers"):
        defs.extend(_family_fields(family))
    defs += [
        FieldDef(name="ka.req.container.image", type=S, extract=_container_image, deprecated=True,
                 description="Deprecated: the image of the first container of a pod request."),
        FieldDef(name="ka.req.container.image.repository", type=S, extract=_container_image_repository,
                 deprecated=True,
                 description="Deprecated: the image repository of the first container of a pod request."),
        FieldDef(name="ka.req.container.privileged", type=S, extract=_container_privileged, deprecated=True,
                 description="Deprecated: true if any container of a pod request is privileged, else false."),
    ]
    # the special ka.req.* extractors read requestObject alone (and the gate): projection decoding
    # may skip the rest (tests/soundness/test_projection.py compares every field with a full parse)
    return [replace(d, reads=_REQUEST) if d.name.startswith("ka.req.") and _reads_unknown(d) else d
            for d in defs]


def _reads_unknown(d: FieldDef) -> bool:
    return d.reads is None and getattr(d.extract, "reads", None) is None
