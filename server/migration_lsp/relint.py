"""Rules re-run only where an edit can change what they report.

Typing in a 2,000-statement SQL file re-parses one statement (`parse.sql_incremental`), but
every rule would still judge all 2,500 operations again. Instead, while the rules run, the
context notes what each one reads: the kinds of operation it asks for (`Context.of`,
`is_new_table`), or everything (all operations, the text, the history). After an edit, the
operations outside the edited statements are known to be unchanged (same statement text at the
same place: a SQL statement parses the same whatever surrounds it), so a rule that read none
of the kinds the edit touched reports what it reported before, moved by the edit's length
change. The others run again. The result is exactly what a full run reports (tested).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from migration_lsp.findings import UNLOCATED, Finding
from migration_lsp.model import Migration, Operation
from migration_lsp.rules.base import HEADER, Context, Fact, Rule
from migration_lsp.rules.registry import PARSE_ERROR
from migration_lsp.text import common_prefix, common_suffix
from migration_lsp.text import fast_span as _span

log = logging.getLogger("migration_lsp.engine")


@dataclass(slots=True)
class RuleRun:
    """What one rule reported on one version of a migration, and what it read."""

    findings: list[Finding]
    reads: frozenset[type | Fact] | None
    """The kinds of operation and the facts the rule asked for; None: it read more (the
    text, every operation, the history), so any edit may change its findings."""
    lows: list[int] | None = None
    """Where each finding's text (its span and scope) starts, when the findings come in
    that order and carry nothing else that points into the text (a fix, data); None
    otherwise: such findings are never carried over an edit."""
    highs: list[int] = field(default_factory=list)
    """Where each finding's text ends."""

    @classmethod
    def of(cls, findings: list[Finding], reads: frozenset[type | Fact] | None) -> RuleRun:
        lows, highs = [], []
        for finding in findings:
            if finding.fix is not None or finding.data:
                return cls(findings, reads)
            span, scope = finding.span, finding.scope or finding.span
            lows.append(min(span.start, scope.start))
            highs.append(max(span.end, scope.end))
        if lows != sorted(lows):
            return cls(findings, reads)
        return cls(findings, reads, lows, highs)


@dataclass(slots=True)
class Trace:
    """The rule runs of one analysis, kept with the document for its next version."""

    migration: Migration
    key: tuple[object, ...]
    """The context's settings: a trace serves only a run with the same ones."""
    runs: dict[str, RuleRun]
    rerun: tuple[str, ...] = ()
    """The rules that ran (the others' findings were carried over from the last version)."""
    narrowed: tuple[str, ...] = ()
    """The rules that judged only the operations the edit changed (`Rule.subjects`)."""


@dataclass(frozen=True, slots=True)
class Edit:
    """How a new version differs from the old: the text in `[start, old_end)` of the old
    version was replaced (its length changed by `delta`), and only operations of `kinds`
    were added, removed or changed."""

    start: int
    old_end: int
    delta: int
    kinds: frozenset[type]
    line: int | None = None
    """The line of `start` when the edit neither removed nor added a line break: findings on
    later lines keep their line and column."""
    changed: list[Operation] = field(default_factory=list)
    """The operations of the new version that are not the old ones kept or moved."""
    region: tuple[int, int] = (0, 0)
    """`[low, high)` of the old version holding the edited text and every operation the edit
    changed (before and after it); the same text is `[low, high + delta)` of the new one."""


def run_rules_watched(
    context: Context,
    migration: Migration,
    rules: Iterable[Rule],
    key: tuple[object, ...],
    previous: Trace | None,
) -> tuple[list[Finding], Trace]:
    """The raw findings of `rules` on `context` (a watching one, on `migration`), as
    `engine.run_rules` gives them and in the same order, reusing the findings of `previous`
    where the edit cannot change them; and the trace for the next version."""
    edit = None
    if previous is not None and previous.key == key:
        edit = edit_between(previous.migration, migration)
    findings: list[Finding] = []
    runs: dict[str, RuleRun] = {}
    rerun: list[str] = []
    narrowed: list[str] = []
    for rule in rules:
        if migration.problems and rule.id != PARSE_ERROR:
            continue
        kept = None
        if previous is not None and edit is not None:
            run = previous.runs.get(rule.id)
            touched = _touched(run, edit, context)
            if touched == () and run is not None:
                kept = _kept(run, edit)
            if kept is None and touched is not None and rule.subjects:
                kept = _rejudged(rule, run, edit, context, touched)
                if kept is not None:
                    narrowed.append(rule.id)
        if kept is not None:
            runs[rule.id] = kept
            findings.extend(kept.findings)
            continue
        context.rule = rule
        context.reads = set()
        rerun.append(rule.id)
        try:
            found = list(rule.check(context))
        except Exception:
            log.exception("internal error in rule %s on %s", rule.id, migration.path)
            continue
        reads = context.reads
        runs[rule.id] = RuleRun.of(found, None if reads is None else frozenset(reads))
        findings.extend(found)
    return findings, Trace(migration, key, runs, tuple(rerun), tuple(narrowed))


def _touched(run: RuleRun | None, edit: Edit, context: Context) -> tuple[type, ...] | None:
    """The kinds of operation the edit changed among those `run`'s rule read; None when the
    run cannot be reused at all (it read everything, its findings point into the text in
    other ways, or a fact it read has another value now)."""
    if run is None or run.reads is None or run.lows is None:
        return None
    kinds = tuple(kind for kind in run.reads if isinstance(kind, type))
    for fact in run.reads:
        if isinstance(fact, Fact) and context.fact(fact.compute) != fact.value:
            return None
    return tuple(kind for kind in edit.kinds if issubclass(kind, kinds))


def _kept(run: RuleRun, edit: Edit) -> RuleRun | None:
    """`run`'s findings carried over the edit (its rule read nothing the edit changed), when
    none of them touches the edited text. Those before the edit stay as they are; those
    after it are copies moved by the edit's length change. The others are left `UNLOCATED`,
    for the engine to locate."""
    assert run.lows is not None
    start, old_end, delta = edit.start, edit.old_end, edit.delta
    findings, lows, highs = run.findings, run.lows, run.highs
    before = bisect.bisect_left(lows, start)
    after = bisect.bisect_left(lows, old_end, before)
    if after > before or (before and max(highs[:before]) > start):
        return None  # a finding on the edited text, or around it
    if before == len(findings) or not delta:
        return RuleRun(findings, run.reads, lows, highs)
    return RuleRun(
        findings[:before] + _moved(findings[after:], edit),
        run.reads,
        lows[:before] + [low + delta for low in lows[after:]],
        highs[:before] + [high + delta for high in highs[after:]],
    )


def _rejudged(
    rule: Rule, run: RuleRun | None, edit: Edit, context: Context, touched: tuple[type, ...]
) -> RuleRun | None:
    """`run`'s findings outside the edited region carried over (as `_kept` does), and the
    rule's judgement of the operations the edit changed, when the edit changed no operation
    the rule reads other than its `subjects` (see `Rule.subjects`); None when that does not
    hold, or the fresh findings stray from the region: the rule then runs on everything."""
    subjects = rule.subjects
    if run is None or run.reads is None or run.lows is None:
        return None
    if not all(issubclass(kind, subjects) for kind in touched):
        return None
    low, high = edit.region
    delta = edit.delta
    findings, lows, highs = run.findings, run.lows, run.highs
    before = bisect.bisect_left(lows, low)
    after = bisect.bisect_left(lows, high, before)
    if before and max(highs[:before]) > low:
        return None
    context.rule = rule
    context.reads = set()
    context.narrowed(subjects, edit.changed)
    try:
        fresh = list(rule.check(context))
    except Exception:
        return None  # the full run reports it
    finally:
        context.narrowed(subjects, None)
    reads = context.reads
    if reads is None:
        return None
    judged = RuleRun.of(fresh, frozenset(reads) | run.reads)
    if judged.lows is None:
        return None
    if fresh and (judged.lows[0] < low or max(judged.highs) > high + delta):
        return None  # not within the operations it judged
    return RuleRun(
        findings[:before] + fresh + _moved(findings[after:], edit),
        judged.reads,
        lows[:before] + judged.lows + [x + delta for x in lows[after:]],
        highs[:before] + judged.highs + [x + delta for x in highs[after:]],
    )


def _moved(findings: list[Finding], edit: Edit) -> list[Finding]:
    """Copies of `findings` (all after the edit) moved by its length change, keeping their
    positions (and their `memo`) when they are on a later line and no line break was
    typed."""
    delta, line = edit.delta, edit.line
    moved: list[Finding] = []
    keep = moved.append
    for finding in findings:  # written out: thousands per keystroke
        copy: Finding = _new(Finding)
        copy.rule, copy.message = finding.rule, finding.message
        copy.severity, copy.path = finding.severity, finding.path
        span, scope = finding.span, finding.scope
        copy.span = moved_span = _span(span.start + delta, span.end + delta)
        if scope is span:
            copy.scope = moved_span
        elif scope is None:
            copy.scope = None
        else:
            copy.scope = _span(scope.start + delta, scope.end + delta)
        copy.fix, copy.data = None, finding.data  # empty: carried findings hold no data
        begin = finding.start
        if line is not None and begin is not UNLOCATED and begin[0] > line:
            copy.start, copy.end, copy.memo = begin, finding.end, finding.memo
        else:
            copy.start = copy.end = UNLOCATED
            copy.memo = None
        keep(copy)
    return moved


_new = object.__new__


def edit_between(old: Migration, new: Migration) -> Edit | None:
    """The edit from `old` to `new`, when every operation outside it is known to be the same
    (only for migrations whose operations record their `sources`); None when unknown."""
    if old.sources is None or new.sources is None or old.path != new.path:
        return None
    if old.problems or new.problems or old.changesets or new.changesets:
        return None
    if any(getattr(old, name) != getattr(new, name) for name in HEADER):
        return None
    a, b = old.text, new.text
    start = common_prefix(a, b)
    suffix = common_suffix(a, b, min(len(a), len(b)) - start)
    old_end = len(a) - suffix
    delta = len(b) - len(a)
    ops_a, ops_b = old.operations, new.operations
    sources_a, sources_b = old.sources, new.sources
    limit = min(len(ops_a), len(ops_b))
    head = 0
    while head < limit:  # the same operations: kept by the parser as they were
        x = ops_a[head]
        if x is not ops_b[head] or x.span.end > start or sources_a[head] is not sources_b[head]:
            break
        head += 1
    while head < limit:  # the same statement text at the same place, run the same way
        x, y = ops_a[head], ops_b[head]
        if (
            x.span.end > start
            or type(x) is not type(y)
            or y.span.start != x.span.start
            or x.in_transaction is not y.in_transaction
            or x.step is not y.step
            or not (sources_a[head] is sources_b[head] or sources_a[head] == sources_b[head])
        ):
            break
        head += 1
    tail = 0
    while tail < limit - head:  # the same, moved by the edit
        at = -1 - tail
        x, y = ops_a[at], ops_b[at]
        if (
            x.span.start < old_end
            or type(x) is not type(y)
            or y.span.start != x.span.start + delta
            or x.in_transaction is not y.in_transaction
            or x.step is not y.step
            or not (sources_a[at] is sources_b[at] or sources_a[at] == sources_b[at])
        ):
            break
        tail += 1
    removed, added = ops_a[head : len(ops_a) - tail], ops_b[head : len(ops_b) - tail]
    line = None
    if not _breaks(a, start, old_end) and not _breaks(b, start, old_end + delta):
        line = old.lines.position(start)[0]
    # before `start` both texts are the same, and from `old_end` on the same but moved
    low = min([start, *(op.span.start for op in removed), *(op.span.start for op in added)])
    high = max([old_end, *(op.span.end for op in removed), *(op.span.end - delta for op in added)])
    kinds = frozenset(type(op) for op in removed + added)
    return Edit(start, old_end, delta, kinds, line, added, (low, high))


def _breaks(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` holds a line break, or one ends or starts right there (a
    CR and LF parted or joined by the edit)."""
    return any(c in "\r\n" for c in text[max(0, start - 1) : end + 1])
