"""The rules screen on whole blocks: keyed fields decided from one msgspec decode of the block.

`-r` over a log parses every event whole (orjson, ~8 µs for a 1 KB event) only to read the handful
of keyed fields the screen (screen.py) decides on, and most events raise no alert. Here a block of
plain event lines (events/batches.py) is decoded in one `decode_lines` call into small Structs that
hold only the leaves those fields read, and one generated function screens each Struct: per field,
the leaf value (or, for a field that reads several paths, their tuple) is looked up in a table of
the decisions already made for it. Only an event that some rule survives is cut out of the block,
decoded (through a projection of what its candidate rules and their alerts read, when alerts are
all that is printed; else parsed whole) and finished as `Ruleset.match` finishes it (keyed fields
the Structs cannot serve, then the residuals, then the alerts).

Why the mask is the one `Screen.candidates` computes on the whole event (the slow twin is
`BLOCK_SCREEN = False`; tests/soundness/test_blockscreen_property.py compares the two):
- A bound field reads its event only at its `reads` paths (what projection decoding relies on, see
  events/projection.py), so its value is a function of the leaves at those paths, which key its
  decisions without being confused with one another (events/leaves.py); a decision is made by the
  field's own extractor on a partial object holding exactly those leaves.
- A field with a plain `path` (`ka.verb`, `ka.user.name`) reads `auditID` only for the audit gate
  (is it there?), so its decision is keyed by the leaf and the gate's presence; a test checks every
  such field of the registry for that. Other fields are keyed by all the leaves they read.
- Block values are the lines' values (batches.py); the raw-bytes prefilter is not run, which only
  skips events that no rule can match anyway. (Where it skips most events by their bytes, its
  `two-stage` mode, blocks are not taken at all: that is cheaper.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..events.event import plain_event
from ..events.fastscan import lines as cut_lines
from ..events.leaves import DECLINED, GATE, UNSET, Leaves, PartialEvent, servable
from ..events.projection import projection_for

BLOCK_SCREEN = True  # the slow twin: False, rules take no blocks (every line becomes an event)
CACHE_CAP = 4096  # decisions remembered per field and gate state (more: decided afresh)
INLINE = True  # the slow twin: False, equality-only computed fields by their tables like the rest

MAX_LEAVES = 24  # beyond this many leaves, the Structs cost more than they save
SURVIVOR_VALUES = 16  # values a surviving event's projection may decode (events/projection.py)

Path = tuple[str, ...]


def _in_loop(body: list[str]) -> list[str]:
    """A screen body (`_body`, written as a function of one Struct `s`) as the branch of the loop
    over a block's Structs: indented twice more, a survivor added to `out` and the next Struct
    taken where the function would return."""
    out = []
    for line in body:
        line = line.replace("return 0", "continue").replace("return m", "add((i, m))")
        out.append("        " + line)
    return out


class _Spec:
    """A keyed field the Structs serve: its leaves, gate, decision tables, and its miss function."""

    def __init__(self, field: Any, leaves: list[Path], gated: bool) -> None:
        self.field = field
        self.leaves = leaves  # paths whose leaf values key the decision
        self.gated = gated  # keyed by the gate's presence too (a `path` field)
        self.tables: tuple[dict[Any, int], dict[Any, int]] = ({}, {})  # [gate present]


class BlockScreen:
    """`Screen` (screen.py) over blocks; `taker(...)` is a `BlockSlot.take` for the rules scan."""

    def __init__(self, ruleset: Any) -> None:
        self.ruleset = ruleset
        self.screen = ruleset.screen
        self._block_fn: Callable[[Any], list[tuple[int, int]]] | None = None
        self._rest: list[Any] = []
        self._lines: Any = None
        self._unservable = False
        self._projections: dict[int, Any] = {}  # `_projection(mask)`, remembered

    def _specs(self) -> list[_Spec]:
        """The keyed fields the Structs serve, in the screen's (learned) order."""
        specs: list[_Spec] = []
        leaves = 1
        for f in self.screen.fields:
            reads = getattr(f, "reads", None)
            path = getattr(f, "path", None)
            if reads is None or not servable(reads):
                continue
            if path is not None and path != GATE and set(reads) <= {path, GATE}:
                spec = _Spec(f, [path], GATE in reads)
            else:
                spec = _Spec(f, sorted(reads), False)
            if leaves + len(spec.leaves) > MAX_LEAVES:
                continue
            specs.append(spec)
            leaves += len(spec.leaves)
        # a path inside another would be wanted whole (an object, not a leaf): drop the fields
        # that read such paths (their values come from the whole event instead)
        every = {p for s in specs for p in s.leaves} | {GATE}
        clash = {p for p in every for q in every if p != q and q[: len(p)] == p}
        return [s for s in specs if not clash & set(s.leaves)]

    def _compile(self) -> bool:
        """The Struct types, the generated screen and the leftover fields; False: nothing to serve."""
        specs = self._specs()
        if not specs:
            return False
        tree = Leaves(p for s in specs for p in s.leaves)
        self._lines = tree.lines
        self._generate(specs, tree)
        served = {id(s.field) for s in specs}
        self._rest = [f for f in self.screen.fields if id(f) not in served]
        return True

    def _generate(self, specs: list[_Spec], tree: Leaves) -> None:
        """The screen function: per field, its key looked up in its table of decisions.

        A field whose rules only compare it for equality with literals and that reads one
        top-level member it can be computed from (`jevt.rawtime`, whose values are all new, so its
        table would only miss) is decided inline instead: its value, then the literals' decisions
        or the one for every other string (`KeyedField.equality_classes`).
        """
        env: dict[str, Any] = {"U": UNSET, "ALL": self.screen.all_mask}
        bodies = [self._body(specs, tree, env, present) for present in (False, True)]
        # every name as a default argument: read as a local in the loop, not looked up in globals.
        # A call fills all of them (1.2 µs here), so the screen is called once per block, not per
        # event: (index, mask) of each Struct of the block that some rule survives
        args = ", ".join(f"{n}={n}" for n in sorted(env))
        loop = [f"def screen_block(parts, *, {args}):", "    out = []", "    add = out.append",
                "    for i, s in enumerate(parts):",
                f"        if s.{tree.gate_attr} is U:",  # no `auditID`: the tables of that gate state
                *_in_loop(bodies[0]), "        else:", *_in_loop(bodies[1]), "    return out"]
        exec(compile("\n".join(loop), "<blockscreen>", "exec"), env)  # noqa: S102 (our code, no user text)
        self._block_fn = env["screen_block"]

    def _body(self, specs: list[_Spec], tree: Leaves, env: dict[str, Any], present: bool) -> list[str]:
        """The screen's code for events with the gate (`present`) or without: per field, its key,
        its decision from the table of that gate state (a miss: decided and remembered), the mask
        narrowed, 0 as soon as no rule is left."""
        code = ["    m = ALL"]
        memo: dict[Path, tuple[str, str]] = {}  # inner objects read so far (Leaves.walk)
        g = int(present)
        for j, spec in enumerate(specs):
            names = [tree.walk(p, f"v{j}_{i}", code, env, memo) for i, p in enumerate(spec.leaves)]
            if len(names) == 1:
                key = names[0]
            else:
                code.append("    k = (" + ", ".join(names) + ",)")
                key = "k"
            inline = self._inline(spec)
            if inline is not None:
                env[f"LV{j}"], env[f"LIT{j}"], env[f"OTH{j}"], env[f"NONE{j}"], env[f"DEC{j}"], unequal = inline
                value = [f"    v = LV{j}(None if {key} is U else {key})",
                         f"    x = NONE{j} if v is None else LIT{j}.get(v, OTH{j}) if type(v) is str else DEC{j}(v)"]
                if unequal is None:
                    code += value
                else:  # a string whose value is surely none of the literals: no value computed
                    env[f"UNEQ{j}"] = unequal
                    code += [f"    if type({key}) is str and UNEQ{j}({key}):", f"        x = OTH{j}", "    else:",
                             *("    " + line for line in value)]
            else:
                # the table's lookup for this gate state (a bound method: no attribute lookup per event)
                env[f"G{j}_{g}"] = spec.tables[g if spec.gated else 0].get
                env[f"M{j}"] = self._miss(spec, tree)
                code += [f"    x = G{j}_{g}({key})", "    if x is None:", f"        x = M{j}(s, {key}, {present})"]
            code += ["    m &= x", "    if not m:", "        return 0"]
        code.append("    return m")
        return code

    @staticmethod
    def _inline(spec: _Spec) -> tuple[Any, dict[str, int], int, int, Any, Any] | None:
        """(value from the leaf, the literals' decisions, every other string's, None's, `decide`, a
        test that a leaf's value is none of the literals or None) for a field decided inline (see
        `_generate`), else None."""
        if not INLINE or spec.gated or len(spec.leaves) != 1 or len(spec.leaves[0]) != 1:
            return None
        field = spec.field
        from_leaf = getattr(field.extract, "from_leaf", None)
        classes = field.equality_classes()
        if from_leaf is None or from_leaf[0] != spec.leaves[0][0] or classes is None:
            return None
        literals, others = classes
        unequal = getattr(field.extract, "unequal", None)  # (fields/jevt.py: `jevt.rawtime`)
        return (from_leaf[1], literals, others, field.none_mask, field.decide,
                unequal(literals) if unequal is not None else None)

    @staticmethod
    def _miss(spec: _Spec, tree: Leaves) -> Callable[[Any, Any, bool], int]:
        """The decision for a key not in the table yet: the field's extractor on the leaves alone."""
        field = spec.field
        extract, decide, none_mask = field.extract, field.decide, field.none_mask
        leaves = spec.leaves
        gated = spec.gated
        gate_attr = tree.gate_attr
        tables = spec.tables
        holder = PartialEvent({})
        cap = CACHE_CAP
        if len(leaves) == 1 and len(leaves[0]) == 1 and not gated:  # `jevt.rawtime`: one top-level member
            (key0,) = leaves[0]
            from_leaf = getattr(extract, "from_leaf", None)  # (member, the value from the member's value)
            leaf_value = from_leaf[1] if from_leaf is not None and from_leaf[0] == key0 else None

            def miss1(s: Any, key: Any, present: bool) -> int:
                if leaf_value is not None:
                    v = leaf_value(None if key is UNSET else key)
                else:
                    holder.obj = holder._obj = {} if key is UNSET else {key0: key}
                    v = extract(holder)
                m = none_mask if v is None else decide(v)
                table = tables[0]
                if len(table) < cap:
                    table[key] = m
                return m

            return miss1

        def miss(s: Any, key: Any, present: bool) -> int:
            obj: dict[str, Any] = {}
            for p in leaves:
                tree.copy(s, p, obj)
            if gated and present:
                obj["auditID"] = getattr(s, gate_attr)
            holder.obj = holder._obj = obj
            v = extract(holder)
            m = none_mask if v is None else decide(v)
            table = tables[present if gated else 0]
            if len(table) < cap:
                table[key] = m
            return m

        return miss

    def _ready(self) -> bool:
        """Compiled, once the screen has learned its order and the ruleset's prefilter whether it
        pays (until then, blocks go line by line); False for good when no keyed field can be
        served, or when the prefilter rejects events by their bytes (`two-stage`: the `eks`
        ruleset, whose literals most events lack, skips more that way than blocks save)."""
        mode = getattr(self.ruleset.prefilter, "mode", None)
        if self._unservable or "candidates" in self.screen.__dict__ or mode == "learning":
            return False
        self._unservable = mode == "two-stage" or not self._compile()
        return not self._unservable

    def _projection(self, mask: int) -> Any:
        """What decodes a surviving event for the fields left, the residuals and the outputs of the
        rules in `mask` (events/projection.py), or None: parse it whole.

        Only the projection's typed decoder is used (its `parts()` first): what it declines (a pod's
        `requestObject`, deeper than it types) costs less to parse whole with orjson than to copy
        through the second decoder.
        """
        reads = self.ruleset.alert_reads(mask)
        for f in self._rest:
            r = f.reads
            reads = None if reads is None or r is None else reads | frozenset(r)
        projection = projection_for(reads, SURVIVOR_VALUES)
        if projection is None:
            return None
        first, second, errors = projection.parts()
        if second is None:  # no typed decoder (keys it cannot name): the Structs alone, parse whole instead
            return None

        def decode(raw: bytes) -> Any:
            try:
                return first(raw)
            except errors:
                return None

        return decode

    def taker(self, deliver: Callable[[list[Any]], None], on_unparsable: Callable[[Any], None] | None,
              taken: list[int], *, partial: bool = False) -> Callable[[Any, str, int, int], bool]:
        """`BlockSlot.take` for a scan of rules alone: each matched event's alerts to `deliver` (the
        scan loop's own: counted, summarised, printed); `taken[0]` adds up the events handled.

        `partial`: the alerts' events are read for their rules' output fields and times only
        (`Sink.alerts_only`), so a surviving event is decoded through a projection of what its
        candidate rules read, when there is one, instead of parsed whole.
        """
        finish = self.ruleset.finish
        projections = self._projections  # per candidate mask: fixed once compiled, shared by every scan
        cut = cut_lines
        event = plain_event

        def take(block: Any, source: str, first: int, k: int) -> bool:
            if self._block_fn is None and not self._ready():
                return False
            try:
                parts = self._lines(block)
            except DECLINED:
                return False
            if len(parts) != k:
                return False
            assert self._block_fn is not None
            rest = self._rest
            texts: Any = None
            line = first - 1
            try:
                for i, m in self._block_fn(parts):
                    line = first + i
                    if texts is None:
                        texts = cut(block)
                    ev = event(bytes(texts[i]), source, line)
                    if partial:
                        project = projections.get(m, UNSET)
                        if project is UNSET:
                            project = projections[m] = self._projection(m)
                        if project is not None:
                            obj = project(ev.raw)
                            if obj is not None:
                                ev._obj = obj
                    for f in rest:
                        v = f.extract(ev)
                        m = m & f.none_mask if v is None else f.narrow(v, m)
                        if not m:
                            break
                    alerts = finish(ev, m) if m else None
                    if alerts:
                        deliver(alerts)
                    elif on_unparsable is not None and ev.failed_to_parse:
                        on_unparsable(ev)
                line = first + k - 1  # every line of the block handled
            finally:
                taken[0] += line - first + 1
            return True

        return take

