"""The run-time building blocks of a compiled condition: predicates, value coercions, getters, and/or.

Each is a small closure made once at compile time (see compiler.py) and called per event; they are
written for speed (bound methods, unrolled and/or of two and three) and never look at the AST.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from .operators import ascii_lower, compile_glob, compile_pmatch

Pred = Callable[[Any], bool]
Getter = Callable[[Any], Any]

IPNET = (ipaddress.IPv4Network, ipaddress.IPv6Network)


def identity(v: Any) -> Any:
    return v


def as_ipaddr(v: Any) -> Any:
    return ipaddress.ip_address(v) if isinstance(v, str) else v


def as_ipnet(v: Any) -> Any:
    return ipaddress.ip_network(v, strict=False) if isinstance(v, str) else v


def as_bytes(v: Any) -> Any:
    return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v


def as_bool(v: Any) -> Any:
    if isinstance(v, str):
        return v == "true"
    return v


def ip_eq(v: Any, x: Any) -> bool:
    if isinstance(x, IPNET) and not isinstance(v, IPNET):
        return v in x
    return v == x


def literal_predicate(op: str, r: Any) -> Pred:
    """A predicate on an extracted (present) value against a converted literal."""
    if op == "=":
        return lambda v: v == r
    if op == "!=":
        return lambda v: v != r
    if op == "<":
        return lambda v: v < r
    if op == "<=":
        return lambda v: v <= r
    if op == ">":
        return lambda v: v > r
    if op == ">=":
        return lambda v: v >= r
    if op in ("contains", "bcontains"):
        return lambda v: r in v
    if op == "icontains":
        rl = ascii_lower(r)
        return lambda v: rl in ascii_lower(v)
    if op in ("startswith", "bstartswith"):
        return lambda v: v.startswith(r)
    if op == "endswith":
        return lambda v: v.endswith(r)
    if op == "glob":
        return compile_glob(r)
    if op == "iglob":
        return compile_glob(r, True)
    if op == "regex":
        return r  # already a compiled matcher
    if op == "pmatch":
        return compile_pmatch([r])
    if op in ("in", "intersects"):
        return lambda v: v == r
    raise ValueError(op)


def field_comparator(op: str) -> Callable[[Any, Any], bool]:
    if op == "=":
        return lambda a, b: a == b
    if op == "!=":
        return lambda a, b: a != b
    if op == "<":
        return lambda a, b: a < b
    if op == "<=":
        return lambda a, b: a <= b
    if op == ">":
        return lambda a, b: a > b
    if op == ">=":
        return lambda a, b: a >= b
    if op in ("contains", "bcontains"):
        return lambda a, b: b in a
    if op == "icontains":
        return lambda a, b: ascii_lower(b) in ascii_lower(a)
    if op in ("startswith", "bstartswith"):
        return lambda a, b: a.startswith(b)
    if op == "endswith":
        return lambda a, b: a.endswith(b)
    if op == "glob":
        return lambda a, b: compile_glob(b)(a)
    if op == "iglob":
        return lambda a, b: compile_glob(b, True)(a)
    if op in ("in", "intersects"):
        return lambda a, b: a == b
    raise ValueError(op)


def scalar_check(get: Getter, test: Pred, coerce: Callable[[Any], Any] | None) -> Pred:
    if coerce is None:
        def check(ev: Any) -> bool:
            try:
                v = get(ev)
                return v is not None and bool(test(v))
            except Exception:
                return False
    else:
        def check(ev: Any) -> bool:
            try:
                v = get(ev)
                return v is not None and bool(test(coerce(v)))
            except Exception:
                return False
    return check


def map_getter(get: Getter, fn: Callable[[Any], Any], is_list: bool) -> Getter:
    if is_list:
        def getl(ev: Any) -> Any:
            vs = get(ev)
            if vs is None:
                return None
            out = [fn(v) for v in vs]
            return None if any(x is None for x in out) or not out else out
        return getl

    def get1(ev: Any) -> Any:
        v = get(ev)
        return None if v is None else fn(v)
    return get1


def join_getter(sep: str | None, parts: list[tuple[Getter, bool]]) -> Getter:
    """Collect the parts' values (lists flattened); any missing part makes the result missing.

    With `sep` None the collected list itself is returned (getopt's argument list).
    """
    def get(ev: Any) -> Any:
        out: list[str] = []
        for g, is_list in parts:
            v = g(ev)
            if v is None:
                return None
            if is_list:
                out.extend(v)
            else:
                out.append(v)
        return out if sep is None else sep.join(out)
    return get


def all_of(fs: list[Pred]) -> Pred:
    if len(fs) == 2:
        a, b = fs
        return lambda ev: a(ev) and b(ev)
    if len(fs) == 3:
        a, b, c = fs
        return lambda ev: a(ev) and b(ev) and c(ev)
    tup = tuple(fs)

    def all_(ev: Any) -> bool:
        for f in tup:  # noqa: SIM110 - a plain loop beats all(<genexpr>) per event
            if not f(ev):
                return False
        return True
    return all_


def any_of(fs: list[Pred]) -> Pred:
    if len(fs) == 2:
        a, b = fs
        return lambda ev: a(ev) or b(ev)
    if len(fs) == 3:
        a, b, c = fs
        return lambda ev: a(ev) or b(ev) or c(ev)
    tup = tuple(fs)

    def any_(ev: Any) -> bool:
        for f in tup:  # noqa: SIM110 - a plain loop beats any(<genexpr>) per event
            if f(ev):
                return True
        return False
    return any_
