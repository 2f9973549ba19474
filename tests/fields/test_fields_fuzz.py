"""Property test: any JSON shape at any place the fields look never raises and keeps value shapes."""

from __future__ import annotations

from fields_testkit import make_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksaudit.events.event import CwMeta
from eksaudit.fields import ArgKind, FieldType

# Keys the fields read, so random documents actually reach the extraction paths.
KEYS = [
    "auditID", "requestObject", "spec", "containers", "initContainers", "ephemeralContainers", "securityContext",
    "privileged", "runAsUser", "runAsGroup", "capabilities", "add", "image", "name", "command", "args", "ports",
    "hostPort", "containerPort", "volumes", "hostPath", "path", "flexVolume", "driver", "rules", "verbs",
    "resources", "subjects", "kind", "namespace", "roleRef", "data", "objectRef", "resource", "subresource",
    "responseObject", "metadata", "responseStatus", "code", "user", "username", "groups", "extra", "arn",
    "annotations", "requestURI", "sourceIPs", "stageTimestamp", "requestReceivedTimestamp", "type", "User",
    "ServiceAccount", "Group", "pods", "",
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(KEYS + ["/x?a=1&b=%zz", "2024-01-01T00:00:00Z"]),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
    max_leaves=30,
)
DOCS = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8).map(lambda d: {"auditID": "f", **d})

ARGS = {ArgKind.KEY: ["arn", "/requestObject/spec/containers/0/image", "/p*", "a", ""], ArgKind.INDEX: [None, "0", "1"]}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.one_of(DOCS, JSON))
def test_any_json_never_raises(registry, doc):
    ev = make_event(doc, cw=CwMeta(timestamp=5, ingestion_time=3, log_stream="s"))
    for d in registry:
        for arg in ARGS.get(d.arg, [None]):
            v = registry.resolve(d.name, arg).extract(ev)
            if v is None:
                continue
            scalar = int if d.type is FieldType.UINT64 else str
            if d.is_list:
                assert isinstance(v, list) and v and all(type(e) is scalar for e in v), (d.name, v)
            else:
                assert type(v) is scalar, (d.name, v)
