"""One extraction per field per event across a whole ruleset.

Falco's upstream rules repeat the same fields in most rules (`ka.user.name` in 53 places, the
`kevt` macro's `jevt.rawtime` and `jevt.value[/stage]` in every rule). `MemoResolver` resolves a
field reference once for the ruleset and gives every rule the same bound field, whose extractor
remembers the last event it saw and its value: the second rule that asks about the same event gets
the value without a second extraction. Identity (`is`) decides "same event": the remembered event
is kept alive, so no other event can be mistaken for it.

`MEMO` is the switch to the slow twin (every rule extracts for itself); tests compare the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from ..condition.resolver import FieldResolver, ResolvedField

MEMO = True

_NONE: Any = object()


def remember_last(extract: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`extract`, remembering the value for the last event it was called with."""
    last: list[Any] = [_NONE, None]

    def memo(event: Any) -> Any:
        if event is last[0]:
            return last[1]
        v = extract(event)
        last[0] = event
        last[1] = v
        return v

    return memo


class MemoResolver:
    """A resolver handing out one shared, remembering bound field per reference (see the module)."""

    def __init__(self, inner: FieldResolver) -> None:
        self.inner = inner
        self._bound: dict[tuple[str, str | None], ResolvedField] = {}

    def resolve(self, name: str, arg: str | None) -> ResolvedField:
        key = (name, arg)
        bound = self._bound.get(key)
        if bound is None:
            bound = self.inner.resolve(name, arg)
            if dataclasses.is_dataclass(bound) and not isinstance(bound, type):
                bound = dataclasses.replace(bound, extract=remember_last(bound.extract))  # type: ignore[call-arg]
            self._bound[key] = bound
        return bound

    def names(self) -> Iterable[str]:
        return self.inner.names()

    def __getattr__(self, attr: str) -> Any:  # whatever else a resolver offers (suggest, get, ...)
        return getattr(self.inner, attr)


def memo_resolvers(resolvers: dict[str, FieldResolver]) -> dict[str, FieldResolver]:
    """Each source's resolver wrapped in a `MemoResolver` (unchanged when `MEMO` is off)."""
    if not MEMO:
        return dict(resolvers)
    return {source: MemoResolver(r) for source, r in resolvers.items()}  # type: ignore[misc]
