"""ka.req.* fields: bindings, roles, configmaps, services, pod spec, the three container families."""

from __future__ import annotations

import pytest
from fields_testkit import audit


def req(**ro):
    return audit(requestObject=ro)


def pod(**spec):
    return audit(requestObject={"kind": "Pod", "spec": spec})


# ---------------------------------------------------------------- bindings, roles, configmaps, services

SUBJECTS = [
    {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
    {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
    {"kind": "ServiceAccount", "name": "orphan"},
    {"kind": "Group", "name": "devs"},
    {"kind": "User"},
    "junk",
    {"kind": "user", "name": "lowercase-kind"},
]


def test_binding_subjects_and_names(x):
    ev = req(subjects=SUBJECTS, roleRef={"kind": "ClusterRole", "name": "cluster-admin"})
    assert x("ka.req.binding.subjects", ev)[0] == (
        '{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"}'
    )
    assert x("ka.req.binding.subjects", ev)[5] == "junk"
    assert x("ka.req.binding.subjects.user_names", ev) == ["alice"]
    assert x("ka.req.binding.subjects.serviceaccount_names", ev) == ["builder", "orphan"]
    assert x("ka.req.binding.subjects.serviceaccount_ns_names", ev) == ["ci:builder"]
    assert x("ka.req.binding.subjects.group_names", ev) == ["devs"]
    assert x("ka.req.binding.role", ev) == "cluster-admin"


@pytest.mark.parametrize("subjects", [None, [], "x", [{"kind": "Group", "name": "g"}]])
def test_binding_name_lists_without_matches(x, subjects):
    ev = req(subjects=subjects) if subjects is not None else req()
    assert x("ka.req.binding.subjects.user_names", ev) is None


def test_has_name_is_always_na_for_audit_events(x):
    # deliberate difference: the plugin says "true"; its own table says N/A
    assert x("ka.req.binding.subject.has_name[alice]", req()) == "N/A"
    assert x("ka.req.binding.subject.has_name[alice]", {"verb": "get"}) is None


def test_configmap(x):
    ev = audit(objectRef={"name": "aws-auth"},
               requestObject={"metadata": {"name": "other"}, "data": {"k": "aws_access_key_id=AKIA", "z": "1"}})
    assert x("ka.req.configmap.name", ev) == "aws-auth"
    assert x("ka.req.configmap.obj", ev) == '{"k":"aws_access_key_id=AKIA","z":"1"}'
    assert x("ka.req.configmap.obj", req(metadata={})) is None


RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["get", "create"]},
    {"apiGroups": ["apps"], "resources": "deployments", "verbs": ["*"], "nonResourceURLs": ["/healthz"]},
    "junk",
]


def test_role_rules(x):
    ev = req(rules=RULES)
    assert x("ka.req.role.rules", ev) == [
        '{"apiGroups":[""],"resources":["pods","pods/exec"],"verbs":["get","create"]}',
        '{"apiGroups":["apps"],"resources":"deployments","verbs":["*"],"nonResourceURLs":["/healthz"]}',
        "junk",
    ]
    assert x("ka.req.role.rules.verbs", ev) == ["get", "create", "*"]
    assert x("ka.req.role.rules.verbs[1]", ev) == ["*"]
    assert x("ka.req.role.rules.verbs[3]", ev) is None
    assert x("ka.req.role.rules.resources", ev) == ["pods", "pods/exec"]  # non-array member skipped
    assert x("ka.req.role.rules.resources[1]", ev) is None
    assert x("ka.req.role.rules.apiGroups", ev) == ["", "apps"]
    assert x("ka.req.role.rules.nonResourceURLs", ev) == ["/healthz"]
    assert x("ka.req.role.rules.nonResourceURLs[0]", ev) is None
    for bad in ([], {"verbs": ["get"]}, "x"):
        assert x("ka.req.role.rules.verbs", req(rules=bad)) is None
        assert x("ka.req.role.rules", req(rules=bad)) is None


def test_service_type_and_ports(x):
    ports = [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 443}]
    ev = audit(requestObject={"spec": {"type": "NodePort", "ports": ports}})
    assert x("ka.req.service.type", ev) == "NodePort"
    # deliberate difference: one value per port, [N] selects
    assert x("ka.req.service.ports", ev) == ['{"port":80,"nodePort":30080,"protocol":"TCP"}', '{"port":443}']
    assert x("ka.req.service.ports[1]", ev) == ['{"port":443}']
    assert x("ka.req.service.ports[2]", ev) is None
    assert x("ka.req.service.ports", audit(requestObject={"spec": {"ports": []}})) is None
    assert x("ka.req.service.ports", audit(requestObject={"spec": {"ports": {"port": 1}}})) is None


# ---------------------------------------------------------------- pod-level spec


def test_pod_flags_and_security_context(x):
    ev = pod(hostIPC=True, hostNetwork=False, hostPID=True,
             securityContext={"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
                              "supplementalGroups": [4000, 5000]})
    assert x("ka.req.pod.host_ipc", ev) == "true"
    assert x("ka.req.pod.host_network", ev) == "false"
    assert x("ka.req.container.host_network", ev) == "false"
    assert x("ka.req.pod.host_pid", ev) == "true"
    assert x("ka.req.pod.run_as_user", ev) == "1000"
    assert x("ka.req.pod.run_as_group", ev) == "3000"
    assert x("ka.req.pod.fs_group", ev) == "2000"
    assert x("ka.req.pod.supplemental_groups", ev) == ["4000", "5000"]
    empty = pod()
    for ref in ("ka.req.pod.host_ipc", "ka.req.pod.host_network", "ka.req.pod.run_as_user",
                "ka.req.pod.supplemental_groups"):
        assert x(ref, empty) is None


def test_pod_fields_are_not_gated_on_resource(x):
    ev = audit(objectRef={"resource": "deployments"}, requestObject={"spec": {"hostNetwork": True}})
    assert x("ka.req.pod.host_network", ev) == "true"


VOLUMES = [
    {"name": "proc", "hostPath": {"path": "/proc", "type": "Directory"}},
    {"name": "cfg", "configMap": {"name": "c"}},
    {"name": "rootfs", "hostPath": {"path": "/rootfs"}},
    {"name": "flex", "flexVolume": {"driver": "vendor/nfs"}, "readOnly": True},
    "junk",
]


def test_volumes(x):
    ev = pod(volumes=VOLUMES)
    assert x("ka.req.pod.volumes.hostpath", ev) == ["/proc", "/rootfs"]
    assert x("ka.req.pod.volumes.hostpath[2]", ev) == ["/rootfs"]
    assert x("ka.req.pod.volumes.hostpath[1]", ev) is None
    assert x("ka.req.pod.volumes.flexvolume_driver", ev) == ["vendor/nfs"]
    assert x("ka.req.pod.volumes.volume_type", ev) == ["hostPath", "configMap", "hostPath", "flexVolume",
                                                       "readOnly"]
    assert x("ka.req.pod.volumes.volume_type[1]", ev) == ["configMap"]
    assert x("ka.req.pod.volumes.volume_type[4]", ev) is None
    assert x("ka.req.pod.volumes.hostpath", pod(volumes=[{"name": "e", "emptyDir": {}}])) is None
    assert x("ka.req.pod.volumes.hostpath", pod()) is None


@pytest.mark.parametrize(
    ("key", "want"),
    [("/proc", "true"), ("/proc*", "true"), ("/pro*", "true"), ("/root*", "true"), ("/root", "false"),
     ("/etc", "false"), ("/etc*", "false"), ("*", "true"), ("", "false")],
)
def test_volume_hostpath_prefix_match(x, key, want):
    assert x(f"ka.req.volume.hostpath[{key}]", pod(volumes=VOLUMES)) == want


def test_volume_hostpath_missing_and_empty(x):
    assert x("ka.req.volume.hostpath[/proc]", pod()) is None
    assert x("ka.req.volume.hostpath[/proc]", pod(volumes=[])) == "false"
    assert x("ka.req.volume.hostpath[*]", pod(volumes=[{"name": "e", "emptyDir": {}}])) == "false"


# ---------------------------------------------------------------- container families

FAMILIES = ("containers", "initContainers", "ephemeralContainers")


def two_containers():
    return [
        {
            "name": "web",
            "image": "localhost:5000/team/web:1.2@sha256:abc",
            "command": ["sh", "-c", "echo hi"],
            "args": [],
            "ports": [{"containerPort": 8080}, {"containerPort": 53, "hostPort": 5353}],
            "securityContext": {"privileged": True, "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True, "runAsUser": 1001, "procMount": "Unmasked",
                                "capabilities": {"add": ["NET_ADMIN", "SYS_TIME"], "drop": ["ALL"]}},
        },
        {"name": "side", "image": "nginx", "securityContext": {"runAsGroup": 7}},
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_values(x, family):
    ev = pod(**{family: two_containers()}, securityContext={"runAsUser": 500})
    f = f"ka.req.pod.{family}"
    assert x(f"{f}.name", ev) == ["web", "side"]
    assert x(f"{f}.image", ev) == ["localhost:5000/team/web:1.2@sha256:abc", "nginx"]
    assert x(f"{f}.image.repository", ev) == ["localhost:5000/team/web", "nginx"]
    assert x(f"{f}.command", ev) == ["sh -c echo hi"]
    assert x(f"{f}.args", ev) == [""]
    assert x(f"{f}.privileged", ev) == ["true"]
    assert x(f"{f}.allow_privilege_escalation", ev) == ["false"]
    assert x(f"{f}.read_only_fs", ev) == ["true"]
    assert x(f"{f}.run_as_user", ev) == ["1001"]
    assert x(f"{f}.run_as_group", ev) == ["7"]
    assert x(f"{f}.proc_mount", ev) == ["Unmasked"]
    # deliberate differences
    assert x(f"{f}.eff_run_as_user", ev) == ["1001", "500"]
    assert x(f"{f}.eff_run_as_group", ev) == ["0", "7"]
    assert x(f"{f}.add_capabilities", ev) == ["NET_ADMIN", "SYS_TIME"]
    if family != "ephemeralContainers":
        assert x(f"{f}.host_port", ev) == ["8080", "5353"]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_index_selects_one_container(x, family):
    ev = pod(**{family: two_containers()})
    f = f"ka.req.pod.{family}"
    assert x(f"{f}.image[1]", ev) == ["nginx"]
    assert x(f"{f}.name[0]", ev) == ["web"]
    assert x(f"{f}.privileged[1]", ev) is None
    assert x(f"{f}.run_as_group[1]", ev) == ["7"]
    assert x(f"{f}.eff_run_as_user[1]", ev) == ["0"]
    assert x(f"{f}.add_capabilities[1]", ev) is None
    assert x(f"{f}.image[2]", ev) is None
    assert x(f"{f}.eff_run_as_user[2]", ev) is None


@pytest.mark.parametrize("family", FAMILIES)
def test_families_do_not_leak_into_each_other(x, registry, family):
    ev = pod(**{family: two_containers()})
    others = [f for f in FAMILIES if f != family]
    for other in others:
        for d in registry:
            if d.name.startswith(f"ka.req.pod.{other}."):
                assert x(d.name, ev) is None, d.name
    if family != "containers":
        for ref in ("ka.req.container.image", "ka.req.container.image.repository", "ka.req.container.privileged"):
            assert x(ref, ev) is None


def test_host_port_not_defined_for_ephemeral_containers(registry):
    assert "ka.req.pod.containers.host_port" in registry
    assert "ka.req.pod.initContainers.host_port" in registry
    assert "ka.req.pod.ephemeralContainers.host_port" not in registry


def test_name_and_image_need_every_container(x):
    ev = pod(containers=[{"name": "a", "image": "i"}, {"image": "j"}])
    assert x("ka.req.pod.containers.name", ev) is None
    assert x("ka.req.pod.containers.name[0]", ev) == ["a"]
    assert x("ka.req.pod.containers.image", ev) == ["i", "j"]
    assert x("ka.req.pod.containers.image", pod(containers=[{"image": "i"}, "junk"])) is None


def test_empty_missing_and_wrong_type_container_lists(x, registry):
    for ev in (pod(containers=[]), pod(), pod(containers={"name": "x"}), pod(containers="x"), req(spec=[])):
        for d in registry:
            if d.name.startswith("ka.req.pod.containers."):
                assert x(d.name, ev) is None, d.name
    assert x("ka.req.container.privileged", pod()) is None
    assert x("ka.req.container.privileged", pod(containers=[])) == "false"


def test_command_and_args_rules(x):
    assert x("ka.req.pod.containers.command", pod(containers=[{"command": ["a", 1]}])) is None
    assert x("ka.req.pod.containers.command", pod(containers=[{"command": "sh -c"}])) is None
    assert x("ka.req.pod.containers.command", pod(containers=[{"name": "a"}])) is None
    assert x("ka.req.pod.containers.args",
             pod(containers=[{"args": ["--v", "2"]}, {}, {"args": ["x"]}])) == ["--v 2", "x"]


def test_security_context_values_are_skipped_where_unset(x):
    ev = pod(containers=[{"securityContext": {"privileged": False}}, {}, {"securityContext": {"privileged": True}}])
    assert x("ka.req.pod.containers.privileged", ev) == ["false", "true"]
    assert x("ka.req.pod.containers.privileged[1]", ev) is None
    assert x("ka.req.pod.containers.read_only_fs", ev) is None


def test_eff_run_as_defaults(x):
    assert x("ka.req.pod.containers.eff_run_as_user", pod(containers=[{}, {}])) == ["0", "0"]
    # the plugin's bug read spec.runAsUser / container.runAsUser directly: not eksaudit
    ev = pod(runAsUser=9, containers=[{"runAsUser": 8}])
    assert x("ka.req.pod.containers.eff_run_as_user", ev) == ["0"]
    ev = pod(securityContext={"runAsUser": None}, containers=[{"securityContext": {"runAsUser": None}}])
    assert x("ka.req.pod.containers.eff_run_as_user", ev) == ["0"]
    ev = pod(securityContext="junk", containers=["junk", {"securityContext": {"runAsGroup": 0}}])
    assert x("ka.req.pod.containers.eff_run_as_group", ev) == ["0", "0"]


def test_add_capabilities_wrong_types(x):
    ev = pod(containers=[{"securityContext": {"capabilities": {"add": "NET_ADMIN"}}},
                         {"securityContext": {"capabilities": {"add": []}}}])
    assert x("ka.req.pod.containers.add_capabilities", ev) is None


def test_host_port_rules(x):
    ev = pod(containers=[{"name": "no-ports"}, {"ports": [{"hostPort": 80, "containerPort": 8080}, {"name": "x"}, 3]}])
    assert x("ka.req.pod.containers.host_port", ev) == ["80"]
    assert x("ka.req.pod.containers.host_port", pod(containers=[{"ports": {"hostPort": 1}}])) is None
    assert x("ka.req.pod.containers.host_port", pod(containers=[{"name": "a"}])) is None


def test_deprecated_first_container_fields(x, registry):
    ev = pod(containers=[{"image": "myreg.io:443/team/app:2", "securityContext": {"privileged": "true"}},
                         {"image": "b", "securityContext": {"privileged": True}}])
    assert x("ka.req.container.image", ev) == "myreg.io:443/team/app:2"
    assert x("ka.req.container.image.repository", ev) == "myreg.io:443/team/app"
    assert x("ka.req.container.privileged", ev) == "true"
    ev = pod(containers=[{"securityContext": {"privileged": "true"}}])
    assert x("ka.req.container.privileged", ev) == "false"  # literal JSON true only
    assert x("ka.req.container.image", ev) is None
    assert x("ka.req.container.image", pod(containers=[])) is None
    for name in ("ka.req.container.image", "ka.req.container.privileged", "ka.req.volume.hostpath",
                 "ka.req.binding.subject.has_name", "ka.req.container.host_network"):
        assert registry.get(name).deprecated
