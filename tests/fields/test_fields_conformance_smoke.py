"""Every field over every conformance event: nothing raises, values have the promised shapes."""

from __future__ import annotations

from pathlib import Path

import orjson

from eksaudit.events.event import AuditEvent, CwMeta
from eksaudit.fields import ArgKind, FieldType

# A representative argument for fields that take one (index fields are also tried without).
KEY_ARGS = {
    "ka.uri.param": "command",
    "ka.user.extra": "arn",
    "ka.annotation": "authorization.k8s.io/decision",
    "ka.req.volume.hostpath": "/proc*",
    "ka.req.binding.subject.has_name": "admin",
    "jevt.value": "/requestObject/spec/containers/0/image",
    "json.value": "/stage",
}


def _events(root: Path):
    files = [p for sub in ("falco/trace_files", "datasets", "eks-samples") for p in sorted((root / sub).rglob("*"))
             if p.is_file() and p.suffix not in (".md", ".yaml", ".yml")]
    n = 0
    for path in files:
        for line in path.read_bytes().splitlines():
            line = line.strip()
            if not line.startswith((b"{", b"[")):
                continue
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            n += 1
            cw = CwMeta(log_stream="s", timestamp=n, ingestion_time=n + 5, event_id=str(n)) if n % 2 else None
            yield AuditEvent(line, cw=cw, source=str(path))


def _check(ref: str, kind: FieldType, is_list: bool, value):
    if value is None:
        return
    scalar = int if kind is FieldType.UINT64 else str
    if is_list:
        assert isinstance(value, list) and value, ref
        assert all(type(v) is scalar for v in value), ref
    else:
        assert type(value) is scalar, (ref, value)


def test_every_field_over_every_conformance_event(conformance, registry):
    bound = []
    for d in registry:
        if d.arg is ArgKind.KEY:
            bound.append(registry.resolve(d.name, KEY_ARGS[d.name]))
        elif d.arg is ArgKind.INDEX:
            bound += [registry.resolve(d.name), registry.resolve(d.name, "0"), registry.resolve(d.name, "1")]
        else:
            bound.append(registry.resolve(d.name))
    events = list(_events(conformance))
    assert len(events) > 3000
    seen_values = set()
    for ev in events:
        for b in bound:
            v = b.extract(ev)
            _check(b.ref, b.defn.type, b.is_list, v)
            if v is not None:
                seen_values.add(b.name)
    # the corpus exercises most of the catalogue (pods, roles, bindings, services, configmaps)
    for name in ("ka.req.pod.containers.image", "ka.req.role.rules.verbs", "ka.req.binding.subjects.user_names",
                 "ka.req.service.ports", "ka.req.configmap.obj", "ka.uri.param", "ka.user.extra", "eks.user.arn",
                 "ka.latency", "ka.response.code", "cw.ingestion_lag", "jevt.rawtime", "ka.sourceips"):
        assert name in seen_values, name
