"""Compile a condition AST into one Python closure per node, checked once against the field types.

The compiler is handed a FieldResolver (see resolver.py) and knows no field by name. At compile time
it applies Falco's checks (operators allowed per type, list fields only with in/intersects/exists,
RHS literals converted to the field type, regexes compiled); at run time each check is a small
closure: extract, bail out on a missing value (every comparison is then false, only `not` flips),
compare. Literal sets are frozensets, methods are bound once, and/or short-circuit.

Extraction or comparison errors on odd event data never escape: a check that cannot be evaluated
is false, as a failed plugin extraction is in Falco.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import FieldError
from .ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    FieldTransformerExpr,
    IdentifierExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    Pos,
    TransformerListExpr,
    UnaryCheckExpr,
    ValueExpr,
    as_string,
)
from .errors import UNKNOWN_FIELD, ConditionError
from .lexer import RGX_FIELD_NAME
from .macros import MacroResolver
from .operators import (
    ALLOWED_OPS,
    FAMILY_NAME,
    NUMERIC_TYPES,
    STRING_LIKE_OPS,
    RegexError,
    compile_pmatch,
    compile_regex,
    parse_uint64,
    regex_could_be_simpler,
    type_family,
)
from .parser import LHS_TRANSFORMERS, parse
from .predicates import (
    IPNET,
    Getter,
    Pred,
    all_of,
    any_of,
    as_bool,
    as_bytes,
    as_ipaddr,
    as_ipnet,
    field_comparator,
    identity,
    ip_eq,
    join_getter,
    literal_predicate,
    map_getter,
    scalar_check,
)
from .prefilter import derive_prefilter
from .resolver import FieldResolver, presence_reads
from .transformers import SCALAR_FUNCS, getopt, length


@dataclass(frozen=True)
class Operand:
    """A compiled left- or right-hand side: how to get its value and what that value is."""

    get: Getter
    type: str
    is_list: bool
    string_ops: bool
    label: str
    pos: Pos
    is_field: bool = True


class CompiledCondition:
    """A condition compiled once, evaluated many times.

    `matches(event) -> bool` evaluates it; `ast` is the macro-expanded AST; `source` the text;
    `prefilter(raw: bytes) -> bool` (or None) rejects raw events that cannot match before any
    JSON parsing; `required` lists the literal groups behind it; `warnings` are Falco's compile
    warnings (a regex that could be a plain operator, a field name used as a string...); `reads`
    is what its fields read of an event, as the resolver's bound fields declare it (`reads`: a
    tuple of JSON paths, None for the whole object), for projection decoding.
    """

    __slots__ = ("source", "ast", "matches", "prefilter", "required", "warnings", "reads", "presence_reads", "tables")

    def __init__(self, source: str, ast: Expr, matches: Pred, prefilter: Callable[[bytes], bool] | None,
                 required: tuple[frozenset[bytes], ...], warnings: list[str],
                 reads: frozenset[tuple[str, ...]] | None = None,
                 presence_reads: frozenset[tuple[str, ...]] | None = None) -> None:
        self.source = source
        self.ast = ast
        self.matches = matches
        self.prefilter = prefilter
        self.required = required
        self.warnings = warnings
        self.reads = reads
        self.presence_reads = presence_reads  # of `reads`, those read only for being there (resolver.py)
        # answers remembered per combination of values read (eksaudit/leafcount.py), kept with the
        # condition so that every scan with it (each `--jobs` chunk) starts from what others learned
        self.tables: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"CompiledCondition({self.source!r})"


# --- the compiler ----------------------------------------------------------------------------------

class _Compiler:
    def __init__(self, resolver: FieldResolver, macros: MacroResolver, source: str | None) -> None:
        self.resolver = resolver
        self.macros = macros
        self.source = source
        self.warnings: list[str] = []
        self.reads: set[tuple[str, ...]] | None = set()  # None once a field reads the whole object
        self.bound: list[Any] = []  # the fields resolved, for `presence_reads`

    def error(self, message: str, pos: Pos | None, suggestions: list[str] | None = None, *,
              kind: str | None = None) -> ConditionError:
        return ConditionError(message, self.source, pos, suggestions, kind=kind)

    # -- boolean structure -------------------------------------------------------------------------
    def node(self, e: Expr) -> Pred:
        if isinstance(e, AndExpr):
            return all_of([self.node(c) for c in e.children])
        if isinstance(e, OrExpr):
            return any_of([self.node(c) for c in e.children])
        if isinstance(e, NotExpr):
            child = self.node(e.child)
            return lambda ev: not child(ev)
        if isinstance(e, IdentifierExpr):
            return self.macro(e)
        if isinstance(e, UnaryCheckExpr):
            return self.unary(e)
        if isinstance(e, BinaryCheckExpr):
            return self.binary(e)
        raise self.error(f"a {type(e).__name__} cannot be a condition by itself", e.pos)

    def macro(self, e: IdentifierExpr) -> Pred:
        with self.macros.inside(e) as body:
            return self.node(body)

    # -- operands --------------------------------------------------------------------------------
    def field(self, e: FieldExpr) -> Operand:
        try:
            rf = self.resolver.resolve(e.field, e.arg)
        except FieldError as fe:
            raise self.error(str(fe), e.pos, list(fe.suggestions), kind=UNKNOWN_FIELD if fe.unknown else None) from None
        except ConditionError:
            raise
        except Exception as ex:  # a resolver bug must still be a clean error
            raise self.error(f"cannot resolve field {as_string(e)}: {ex}", e.pos) from None
        self._note_reads(getattr(rf, "reads", None))
        self.bound.append(rf)
        extract = rf.extract
        if rf.is_list:
            def get(ev: Any, _x: Getter = extract) -> Any:
                v = _x(ev)
                return v if v else None  # an empty list is missing
        else:
            get = extract
        return Operand(get, rf.type, bool(rf.is_list), bool(getattr(rf, "string_ops", False)),
                       as_string(e), e.pos)

    def _note_reads(self, paths: Any) -> None:
        if self.reads is not None:
            if paths is None:
                self.reads = None
            else:
                self.reads.update(tuple(p) for p in paths)

    def operand(self, e: Expr, *, rhs: bool = False) -> Operand:
        if isinstance(e, FieldExpr):
            return self.field(e)
        if isinstance(e, FieldTransformerExpr):
            return self.transformer(e, rhs=rhs)
        if isinstance(e, ValueExpr):
            value = e.value
            self._no_nul(value, e.pos)
            return Operand(lambda ev, _v=value: _v, "string", False, False, as_string(e), e.pos, is_field=False)
        raise self.error(f"expected a field or a transformer, got {as_string(e)}", e.pos)

    def transformer(self, e: FieldTransformerExpr, *, rhs: bool) -> Operand:
        name = e.transformer
        if e.arg is not None and name != "getopt":
            raise self.error(f"transformer '{name}' does not support field arguments", e.pos)
        if name == "val":
            if not rhs:
                raise self.error("'val' is only allowed on the right-hand side", e.pos)
            child = e.args[0]
            if len(e.args) != 1 or not isinstance(child, FieldExpr):
                raise self.error("'val' takes exactly one field", e.pos)
            return self.field(child)
        label = as_string(e)
        if name in SCALAR_FUNCS or name == "len":
            if len(e.args) != 1 or isinstance(e.args[0], TransformerListExpr):
                raise self.error(f"transformer '{name}' takes exactly one field or transformer", e.pos)
            inner = self.operand(e.args[0])
            if name == "len":
                if not (inner.is_list or inner.type in ("string", "bytebuf")):
                    raise self.error(f"transformer 'len' does not support fields of type {inner.type}", e.pos)
                get = inner.get

                def get_len(ev: Any, _g: Getter = get) -> Any:
                    v = _g(ev)
                    return None if v is None else length(v)
                return Operand(get_len, "uint64", False, False, label, e.pos)
            allowed = ("string", "bytebuf") if name == "b64" else ("string",)
            if inner.type not in allowed:
                raise self.error(f"transformer '{name}' does not support fields of type {inner.type}", e.pos)
            fn = SCALAR_FUNCS[name]
            return Operand(map_getter(inner.get, fn, inner.is_list), inner.type, inner.is_list, False, label, e.pos)
        if name == "join":
            if len(e.args) != 2 or not isinstance(e.args[0], ValueExpr):
                raise self.error("transformer 'join' takes a separator string and a list", e.pos)
            sep = e.args[0].value
            parts = self._list_parts(e.args[1], e.pos)
            return Operand(join_getter(sep, parts), "string", False, False, label, e.pos)
        if name == "concat":
            if len(e.args) < 2:
                raise self.error("transformer 'concat' takes at least two arguments", e.pos)
            ops = [self.operand(a) for a in e.args]
            for o in ops:
                if o.type != "string" or o.is_list:
                    raise self.error(f"transformer 'concat' needs single string values, got {o.label}", o.pos)
            return Operand(join_getter("", [(o.get, False) for o in ops]), "string", False, False, label, e.pos)
        if name == "getopt":
            if len(e.args) != 2 or not isinstance(e.args[1], ValueExpr):
                raise self.error("transformer 'getopt' takes an argument list and an option string", e.pos)
            parts = self._list_parts(e.args[0], e.pos)
            optstring = e.args[1].value
            want = e.arg
            args_get = join_getter(None, parts)
            if want is not None and len(want) != 1:
                raise self.error("getopt()[opt] takes a single option letter", e.pos)

            def get_opt(ev: Any) -> Any:
                args = args_get(ev)
                return None if args is None else getopt(args, optstring, want)
            return Operand(get_opt, "string", want is None, False, label, e.pos)
        raise self.error(f"unknown transformer '{name}'", e.pos)

    def _list_parts(self, e: Expr, pos: Pos) -> list[tuple[Getter, bool]]:
        items = e.children if isinstance(e, TransformerListExpr) else (e,)
        parts = []
        for item in items:
            o = self.operand(item)
            if o.type != "string":
                # numbers and other scalars are joined as their text
                parts.append((map_getter(o.get, str, o.is_list), o.is_list))
            else:
                parts.append((o.get, o.is_list))
        return parts

    # -- checks ----------------------------------------------------------------------------------
    def unary(self, e: UnaryCheckExpr) -> Pred:
        get = self.operand(e.left).get

        def exists(ev: Any) -> bool:
            try:
                return get(ev) is not None
            except Exception:
                return False
        return exists

    def binary(self, e: BinaryCheckExpr) -> Pred:
        left = self.operand(e.left)
        op = e.op
        if op == "==":
            op = "="
        fam = type_family(left.type)
        if left.is_list:
            if op not in ("in", "intersects") or e.modifier:
                raise self.error(f"'{e.op}' operator not supported for list fields ({left.label}); "
                                 "use in, intersects or exists", e.pos)
        elif fam == "ip" and e.modifier and op not in ("=", "!="):
            raise self.error(f"'{e.op} {e.modifier}' operator not supported for ip address and network filters",
                             e.pos)
        elif op not in ALLOWED_OPS[fam] and not (left.string_ops and op in STRING_LIKE_OPS):
            raise self.error(f"'{e.op}' operator not supported for {FAMILY_NAME[fam]} filters "
                             f"({left.label} is {left.type})", e.pos)
        right = e.right
        if isinstance(right, FieldTransformerExpr):
            return self.field_rhs(e, op, left)
        if isinstance(right, ListExpr):
            literals = [(v.value, v.pos) for v in right.values]
        elif isinstance(right, ValueExpr):
            literals = [(right.value, right.pos)]
            self._warn_value(right)
        else:
            raise self.error(f"unexpected right-hand side {as_string(right)}", right.pos)
        if e.modifier:
            return self.modifier_check(e, op, e.modifier, left, literals)
        if op in ("in", "intersects"):
            return self.set_check(op, left, literals)
        if op == "pmatch":
            pats = [self.literal("string", v, p, op) for v, p in literals]
            return scalar_check(left.get, compile_pmatch(pats), self._coerce(left, op, True))
        value, pos = literals[0]
        return self.single_check(op, left, value, pos)

    def _warn_value(self, v: ValueExpr) -> None:
        text = v.value
        m = RGX_FIELD_NAME.fullmatch(text.split("[", 1)[0]) if text else None
        if m is not None:
            name, _, rest = text.partition("[")
            arg = rest[:-1] if rest.endswith("]") else None
            try:
                self.resolver.resolve(name, arg)
            except Exception:
                pass
            else:
                self.warnings.append(f"'{text}' may be a valid field misused as a const string value")
                return
        head, paren, tail = text.partition("(")
        if paren and head in LHS_TRANSFORMERS + ("val",) and tail.endswith(")"):
            self.warnings.append(f"'{text}' may be a valid field transformer misused as a const string value")

    def _no_nul(self, value: str, pos: Pos) -> None:
        if "\0" in value:
            raise self.error("a string value cannot contain a NUL byte", pos)

    def literal(self, type_: str, text: str, pos: Pos, op: str, string_ops: bool = False) -> Any:
        """Convert a RHS literal to the field type once (docs/conditions.md#values-and-lists)."""
        if type_ == "bytebuf":
            if op in ("bcontains", "bstartswith"):
                if len(text) % 2 or any(c not in "0123456789abcdefABCDEF" for c in text):
                    raise self.error("bcontains and bstartswith operator support hex strings only", pos)
                return bytes.fromhex(text)
            return text.encode("utf-8", "surrogateescape")
        self._no_nul(text, pos)
        if type_ in NUMERIC_TYPES and string_ops and op in STRING_LIKE_OPS:
            type_ = "string"  # a string operator on the decimal text (ka.response.code startswith 4)
        if type_ in NUMERIC_TYPES:
            n = parse_uint64(text)
            if n is None:
                if string_ops and op in ("=", "!=", "in", "intersects"):
                    return text  # compared with the value's decimal text
                raise self.error(f"{text} is not a valid number", pos)
            return n
        if type_ == "bool":
            if text == "true":
                return True
            if text == "false":
                return False
            raise self.error(f"unrecognized boolean value {text}", pos)
        if type_ == "ipaddr":
            try:
                return ipaddress.IPv4Address(text) if "." in text else ipaddress.IPv6Address(text)
            except ValueError:
                raise self.error(f"{text} is not a valid IP address", pos) from None
        if type_ == "ipnet":
            if "/" not in text:
                raise self.error(f"{text} is not a valid IP network (missing /len)", pos)
            try:
                return ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise self.error(f"{text} is not a valid IP network", pos) from None
        if op == "regex":
            try:
                fn = compile_regex(text)
            except RegexError as rx:
                raise self.error(f"invalid regex pattern: {rx}", pos) from None
            if regex_could_be_simpler(text):
                self.warnings.append(f"regex '{text}' could be written with a simpler operator "
                                     "(=, contains, startswith or endswith)")
            return fn
        return text

    def _coerce(self, left: Operand, op: str, text_mode: bool) -> Callable[[Any], Any] | None:
        """How to turn an extracted value into the comparable form (None = as extracted)."""
        if left.type in NUMERIC_TYPES and text_mode:
            return str
        if left.type == "ipaddr":
            return as_ipaddr
        if left.type == "ipnet":
            return as_ipnet
        if left.type == "bytebuf":
            return as_bytes
        if left.type == "bool":
            return as_bool
        return None

    def single_check(self, op: str, left: Operand, text: str, pos: Pos) -> Pred:
        r = self.literal(left.type, text, pos, op, left.string_ops)
        text_mode = left.type in NUMERIC_TYPES and (op in STRING_LIKE_OPS or isinstance(r, str))
        coerce = self._coerce(left, op, text_mode)
        get = left.get
        if op == "=" and coerce is None:
            def eq(ev: Any) -> bool:
                try:
                    return get(ev) == r
                except Exception:
                    return False
            return eq
        return scalar_check(get, literal_predicate(op, r), coerce)

    def set_check(self, op: str, left: Operand, literals: list[tuple[str, Pos]]) -> Pred:
        values = [self.literal(left.type, v, p, op, left.string_ops) for v, p in literals]
        text_mode = left.type in NUMERIC_TYPES and any(isinstance(v, str) for v in values)
        if text_mode:
            values = [str(v) if isinstance(v, int) else v for v in values]
        coerce = self._coerce(left, op, text_mode)
        get = left.get
        s = frozenset(values)
        if left.type == "ipnet" or (left.type == "ipaddr" and any(isinstance(v, IPNET) for v in values)):
            return scalar_check(get, lambda v: any(ip_eq(v, x) for x in s), coerce)
        if left.is_list:
            if op == "in":
                test = s.issuperset
            else:
                def test(vs: Any, _d: Callable = s.isdisjoint) -> bool:
                    return not _d(vs)
            if coerce is not None:
                return scalar_check(get, lambda vs: test([coerce(x) for x in vs]), None)
            return scalar_check(get, test, None)
        contains = s.__contains__
        if coerce is None:
            def member(ev: Any) -> bool:
                try:
                    v = get(ev)
                    return v is not None and contains(v)
                except Exception:
                    return False
            return member
        return scalar_check(get, contains, coerce)

    def modifier_check(self, e: BinaryCheckExpr, op: str, mod: str, left: Operand,
                       literals: list[tuple[str, Pos]]) -> Pred:
        if not literals:
            return lambda ev: False
        values = [self.literal(left.type, v, p, op, left.string_ops) for v, p in literals]
        text_mode = left.type in NUMERIC_TYPES and (op in STRING_LIKE_OPS or any(isinstance(v, str) for v in values))
        if text_mode:
            values = [str(v) if isinstance(v, int) else v for v in values]
        coerce = self._coerce(left, op, text_mode)
        if op == "=" and mod == "anyof":
            return scalar_check(left.get, frozenset(values).__contains__, coerce)
        if op == "!=" and mod == "allof":
            s = frozenset(values)
            return scalar_check(left.get, lambda v: v not in s, coerce)
        preds = [literal_predicate(op, r) for r in values]
        if mod == "anyof":
            def test(v: Any) -> bool:
                return any(p(v) for p in preds)
        elif mod == "allof":
            def test(v: Any) -> bool:
                return all(p(v) for p in preds)
        else:
            def test(v: Any) -> bool:
                n = 0
                for p in preds:
                    if p(v):
                        n += 1
                        if n > 1:
                            return False
                return n == 1
        return scalar_check(left.get, test, coerce)

    def field_rhs(self, e: BinaryCheckExpr, op: str, left: Operand) -> Pred:
        if op in ("pmatch", "regex"):
            raise self.error(f"operator '{e.op}' doesn't support right-hand side fields", e.right.pos)
        right = self.operand(e.right, rhs=True)
        same_type = right.type == left.type or (left.type in NUMERIC_TYPES and right.type in NUMERIC_TYPES)
        if not same_type or right.is_list != left.is_list:
            def kind(o: Operand) -> str:
                return o.type + (" (list)" if o.is_list else "")
            raise self.error(f"field '{left.label}' has type '{kind(left)}' while the right-hand side field "
                             f"'{right.label}' has incompatible type '{kind(right)}'", e.right.pos)
        text_mode = left.type in NUMERIC_TYPES and op in STRING_LIKE_OPS
        coerce = self._coerce(left, op, text_mode) or identity
        lget, rget = left.get, right.get
        if left.is_list:
            if op == "in":
                def cmp(a: Any, b: Any) -> bool:
                    return set(b).issuperset(a)
            elif op == "intersects":
                def cmp(a: Any, b: Any) -> bool:
                    return not set(b).isdisjoint(a)
            else:
                raise self.error(f"'{e.op}' operator not supported for list fields", e.pos)
        else:
            cmp = field_comparator(op)

        def check(ev: Any) -> bool:
            try:
                a = lget(ev)
                if a is None:
                    return False
                b = rget(ev)
                if b is None:
                    return False
                if left.is_list:
                    return cmp([coerce(x) for x in a], [coerce(x) for x in b])
                return cmp(coerce(a), coerce(b))
            except Exception:
                return False
        return check


# --- public entry point ----------------------------------------------------------------------------

def compile_condition(source: str | Expr, resolver: FieldResolver, *, macros: Mapping[str, Expr] | None = None,
                      max_depth: int = 100, used_macros: set[str] | None = None) -> CompiledCondition:
    """Parse (if text), expand macros, type-check and compile a condition.

    `used_macros` (if given) collects the names of the macros the condition uses. Raises
    ConditionError (with the position) for anything wrong; never another exception type.
    """
    if isinstance(source, str):
        text: str | None = source
        expr = parse(source, max_depth=max_depth)
    elif isinstance(source, Expr):
        expr = source
        text = None
    else:
        raise ConditionError(f"a condition must be text or an AST, not {type(source).__name__}")
    try:
        expanded = MacroResolver(macros, text, used_macros).expand(expr)
        # The unexpanded AST, through the same resolver: an error inside a macro then names the
        # macro and points at its reference in this text.
        comp = _Compiler(resolver, MacroResolver(macros, text), text)
        matches = comp.node(expr)
        required, prefilter = derive_prefilter(expanded, resolver)
    except ConditionError:
        raise
    except RecursionError:
        raise ConditionError("condition nested too deeply", text, expr.pos) from None
    reads = frozenset(comp.reads) if comp.reads is not None else None
    return CompiledCondition(text if text is not None else as_string(expr), expanded, matches, prefilter,
                             required, comp.warnings, reads, presence_reads(comp.bound))


def compile_predicate(expr: Expr, resolver: FieldResolver) -> Pred:
    """Only the matcher of a macro-free AST (no prefilter): e.g. the part of a compiled rule's
    condition left after its guards."""
    try:
        return _Compiler(resolver, MacroResolver(None), None).node(expr)
    except RecursionError:
        raise ConditionError("condition nested too deeply", None, expr.pos) from None
