"""Package names imported on first use (PEP 562 module `__getattr__`): importing a package stays cheap.

Commands load `eksaudit.output` and `eksaudit.events` to declare their options, and `import
eksaudit` is the library's front door; none of them should pay for the writers, the readers or
the CloudWatch client until one is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(namespace: dict[str, Any], exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the module whose globals are `namespace`.

    Each name of `exports` comes from its module (a submodule of the package, or a full module
    name starting with `eksaudit.`) when first asked for, and is then kept in `namespace`.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module if module.startswith("eksaudit.") else f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
