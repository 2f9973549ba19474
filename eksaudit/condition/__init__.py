"""Falco's condition language: lexer, parser, compiler to closures, literal prefilter.

    >>> cond = compile_condition("ka.verb in (create, update) and not ka.user.name startswith system:",
    ...                          registry)                                     # doctest: +SKIP
    >>> cond.matches(event)                                                    # doctest: +SKIP

The engine knows no field by name: it is handed a resolver (see `resolver.py`).
"""

from .ast import as_string
from .compiler import CompiledCondition, compile_condition
from .errors import ConditionError
from .macros import expand_macros
from .parser import parse

__all__ = ["CompiledCondition", "ConditionError", "as_string", "compile_condition", "expand_macros", "parse"]
