"""A toy field resolver for the condition tests: dotted paths into a dict event, ka.*-like names.

Not a conftest.py on purpose: other test folders import `conftest` by name.
"""

from __future__ import annotations

from typing import Any

from eksaudit.errors import FieldError

# name -> (type, is_list, json path, string_ops)
TOY_FIELDS: dict[str, tuple[str, bool, tuple[str, ...] | None, bool]] = {
    "ka.verb": ("string", False, ("verb",), False),
    "ka.user.name": ("string", False, ("user", "username"), False),
    "ka.uri": ("string", False, ("requestURI",), False),
    "ka.target.resource": ("string", False, ("objectRef", "resource"), False),
    "ka.target.namespace": ("string", False, ("objectRef", "namespace"), False),
    "ka.response.code": ("uint64", False, ("responseStatus", "code"), True),
    "ka.user.groups": ("string", True, ("user", "groups"), False),
    "ka.req.pod.containers.image": ("string", True, None, False),
    "ka.req.pod.host_network": ("bool", False, None, False),
    "ka.useragent": ("string", False, None, False),
}


class ToyField:
    __slots__ = ("name", "arg", "type", "is_list", "path", "string_ops", "_path")

    def __init__(self, name: str, type_: str, is_list: bool, path: tuple[str, ...] | None, string_ops: bool,
                 lookup: tuple[str, ...]) -> None:
        self.name = name
        self.arg = None
        self.type = type_
        self.is_list = is_list
        self.path = path
        self.string_ops = string_ops
        self._path = lookup

    def extract(self, event: Any) -> Any:
        """Walk the path; the raw JSON value comes back as is (wrong types included, on purpose)."""
        v = event
        for k in self._path:
            if not isinstance(v, dict) or k not in v:
                return None
            v = v[k]
        return v


class ToyResolver:
    def resolve(self, name: str, arg: str | None) -> ToyField:
        if name not in TOY_FIELDS:
            import difflib

            raise FieldError(f"unknown field {name!r}", difflib.get_close_matches(name, TOY_FIELDS, 3, 0.6),
                             unknown=True)
        if arg is not None:
            raise FieldError(f"field {name} does not take an argument (got [{arg}])")
        type_, is_list, path, string_ops = TOY_FIELDS[name]
        lookup = path or tuple(name.split(".")[1:])
        return ToyField(name, type_, is_list, path, string_ops, lookup)

    def names(self) -> list[str]:
        return list(TOY_FIELDS)
