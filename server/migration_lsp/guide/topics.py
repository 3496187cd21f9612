"""Stable topic keys, and how to find each one in any guide by its headings.

A topic (`add-index`, `rollback`, ...) is what the server wants to explain; a guide names it in
its own words ("Adding an Index", "Indexes", "Create indexes concurrently"). Headings are reduced
to word stems and scored against each topic's weighted phrases: the best-scoring heading wins,
the words of the section's own text break ties. A guide without a matching heading has no section
for that topic, and callers fall back to the next topic in their list of preferences
(`topic_for_operation`, `topic_for_rule`, `topic_for_word`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DataChange,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    ExecuteSQL,
    Operation,
    OtherStatement,
    RenameColumn,
    RenameTable,
    RunCode,
    SetSetting,
    TransactionControl,
    Truncate,
    ValidateConstraint,
)

if TYPE_CHECKING:
    from migration_lsp.guide.parse import Section

# --------------------------------------------------------------------------- words

_WORD = re.compile(r"[a-z0-9]+")
_IRREGULAR = {
    "indexes": "index",
    "indices": "index",
    "data": "data",
    "does": "do",
    "dos": "do",
    "donts": "dont",
    "fk": "fk",
    "fks": "fk",
    "ci": "ci",
    "sql": "sql",
    "dml": "dml",
    "ddl": "ddl",
    "pk": "pk",
}
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "with",
        "and",
        "or",
        "step",
        "phase",
        "part",
        "how",
        "your",
        "you",
        "by",
        "via",
        "when",
        "what",
        "is",
        "it",
        "its",
        "at",
        "from",
        "vs",
        "if",
        "into",
        "that",
        "this",
        "be",
        "are",
        "as",
        "e",
        "g",
        "s",
        "t",
    }
)


def stem(word: str) -> str:
    """A small, deterministic stemmer: `Adding`/`add` → `ad`, `Indexes` → `index`.

    Both the headings and the topic phrases go through it, so it only has to map the forms of
    one word to the same string, not produce a real root.
    """
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("es") and w[:-2].endswith(("x", "ch", "sh", "ss", "z")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ied"):
        w = w[:-3] + "y"
    elif (len(w) > 4 and w.endswith("ed")) or (len(w) > 6 and w.endswith("ly")):
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]
    return w


def terms(text: str) -> list[str]:
    """Stems of the words of `text`, in order, without stop words or bare numbers.

    Apostrophes are dropped first (`DON'T` → `dont`); markdown punctuation, emoji and
    `{{placeholders}}` braces separate words.
    """
    words = _WORD.findall(text.lower().replace("'", "").replace("’", ""))
    return [s for s in (stem(w) for w in words if not w.isdigit()) if s not in STOPWORDS]


# --------------------------------------------------------------------------- topics


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    title: str
    """What the topic is about, in a few words (for messages and docs)."""
    phrases: tuple[tuple[frozenset[str], float], ...]
    """(stems that must all appear in a heading, weight)."""
    avoid: tuple[tuple[frozenset[str], float], ...] = ()
    """(stems, penalty): a heading with these is probably about another topic."""
    body: frozenset[str] = frozenset()
    """Stems that, found in a section's own text, break ties between equal headings."""


def _phrases(spec: dict[str, float]) -> tuple[tuple[frozenset[str], float], ...]:
    return tuple((frozenset(terms(text)), weight) for text, weight in spec.items())


def _topic(
    key: str,
    title: str,
    phrases: dict[str, float],
    *,
    avoid: dict[str, float] | None = None,
    body: str = "",
) -> Topic:
    return Topic(key, title, _phrases(phrases), _phrases(avoid or {}), frozenset(terms(body)))


_TOPIC_LIST: tuple[Topic, ...] = (
    _topic(
        "tool-detection",
        "which migration tool a project uses",
        {"tool detection": 5, "detect tool": 5, "detecting": 4, "which tool": 4, "tools": 2},
        body="alembic.ini manage.py schema.prisma knexfile",
    ),
    _topic(
        "create-migration",
        "creating a migration file",
        {
            "create migration": 5,
            "new migration": 5,
            "generate migration": 5,
            "writing migrations": 4,
            "migration file": 4,
            "generating": 3,
            "autogenerate": 3,
            "scaffold": 3,
            "makemigrations": 4,
        },
        avoid={"data": 2, "test": 2, "conflict": 2},
        body="revision upgrade downgrade makemigrations autogenerate",
    ),
    _topic(
        "add-column",
        "adding a column",
        {"add column": 5, "new column": 5, "add field": 5, "new field": 4, "columns": 1},
        body="add_column addfield nullable default",
    ),
    _topic(
        "modify-column",
        "modifying a column",
        {
            "modify column": 5,
            "alter column": 5,
            "change column": 4,
            "column changes": 4,
            "alter field": 4,
            "modify field": 4,
            "column type": 3,
            "rename column": 3,
        },
        body="alter_column alterfield type rename",
    ),
    _topic(
        "column-type",
        "changing a column's type",
        {"column type": 5, "change type": 5, "type change": 5, "alter type": 3},
        body="type_ using rewrite cast",
    ),
    _topic(
        "rename",
        "renaming a column or table",
        {"rename": 5, "rename column": 5, "rename table": 5},
        body="rename new_column_name expand contract",
    ),
    _topic(
        "not-null",
        "making a column NOT NULL",
        {"not null": 5, "make required": 4, "set not null": 5, "nullable": 3},
        body="not null check valid validate",
    ),
    _topic(
        "add-index",
        "adding (and dropping) an index",
        {"index": 4, "add index": 5, "create index": 5, "new index": 5, "concurrent index": 5},
        body="create_index concurrently",
    ),
    _topic(
        "create-table",
        "creating a table",
        {"create table": 5, "new table": 5, "add table": 4},
        body="create_table primary key",
    ),
    _topic(
        "foreign-key",
        "foreign keys",
        {"foreign key": 5, "fk": 4, "references": 3, "relationships": 2, "relations": 2},
        body="create_foreign_key references not valid validate",
    ),
    _topic(
        "constraints",
        "check, unique and NOT NULL constraints",
        {
            "constraint": 5,
            "check constraint": 5,
            "unique constraint": 5,
            "unique": 3,
            "not null": 3,
            "check": 1,
        },
        avoid={"foreign": 3},
        body="check unique not valid validate",
    ),
    _topic(
        "drop",
        "dropping columns and tables",
        {
            "drop": 4,
            "drop column": 5,
            "drop table": 5,
            "remove column": 5,
            "remove table": 5,
            "delete column": 5,
            "destructive": 4,
            "removing": 2,
        },
        avoid={"index": 3, "constraint": 2},
        body="drop_column drop_table data loss",
    ),
    _topic(
        "data-migration",
        "data migrations and backfills",
        {
            "data migration": 5,
            "migrating data": 5,
            "backfill": 4,
            "data change": 4,
            "data transformation": 4,
            "transform data": 4,
            "moving data": 4,
            "dml": 3,
            "seed": 2,
        },
        body="update insert delete backfill runpython get_bind",
    ),
    _topic(
        "schema-and-data",
        "keeping schema changes and data changes apart",
        {"schema and data": 5, "schema vs data": 5, "separate data": 4, "mixing": 2},
        body="separate lock transaction",
    ),
    _topic(
        "model-imports",
        "not importing application models into migrations",
        {
            "application model": 5,
            "app model": 5,
            "historical model": 5,
            "import model": 5,
            "table stub": 4,
            "get_model": 4,
        },
        body="apps.get_model sa.table import",
    ),
    _topic(
        "raw-sql",
        "running SQL from a migration and reading its result",
        {
            "raw sql": 5,
            "running sql": 5,
            "execute sql": 5,
            "row count": 4,
            "rowcount": 4,
            "bound parameter": 3,
        },
        body="op.execute get_bind text rowcount",
    ),
    _topic(
        "batching",
        "updating rows in batches",
        {"batch": 5, "batch update": 5, "batches": 5, "chunk": 4},
        body="batch limit rowcount loop commit",
    ),
    _topic(
        "large-tables",
        "migrating large tables",
        {
            "large table": 5,
            "big table": 5,
            "concurrent": 3,
            "zero downtime": 2,
            "without downtime": 2,
            "online": 2,
            "lock": 1,
            "batch": 1,
        },
        body="concurrently lock batch",
    ),
    _topic(
        "zero-downtime",
        "backward-compatible, zero-downtime changes",
        {
            "backward compatible": 5,
            "expand contract": 5,
            "zero downtime": 4,
            "no downtime": 4,
            "without downtime": 4,
            "expand": 3,
            "compatible": 3,
            "safe deployment": 3,
            "deployment strategy": 2,
        },
        body="deploy old new column phase",
    ),
    _topic(
        "locks",
        "locks and lock timeouts",
        {"lock": 4, "locks": 4, "lock timeout": 5, "statement timeout": 5, "timeout": 3},
        body="lock_timeout statement_timeout access exclusive",
    ),
    _topic(
        "transactions",
        "transactions and non-transactional migrations",
        {
            "transaction": 5,
            "transactional": 4,
            "non transactional": 5,
            "atomic": 4,
            "autocommit": 4,
        },
        body="autocommit_block atomic disable_ddl_transaction",
    ),
    _topic(
        "testing",
        "testing migrations",
        {"test": 4, "test migration": 5, "testing": 4, "verify": 3, "ci": 3},
        body="upgrade downgrade head round trip",
    ),
    _topic(
        "production",
        "applying migrations to production",
        {
            "production": 4,
            "apply production": 5,
            "deploy": 4,
            "deployment": 4,
            "release": 3,
            "checklist": 3,
            "rollout": 3,
        },
        body="backup checklist deploy",
    ),
    _topic(
        "rollback",
        "rolling back: downgrades and reverse steps",
        {
            "rollback": 4,
            "roll back": 4,
            "rollback strategy": 5,
            "downgrade": 4,
            "down migration": 4,
            "revert": 3,
            "undo": 3,
            "reverse": 3,
            "reversible": 3,
        },
        avoid={"fail": 2},
        body="downgrade reverse down",
    ),
    _topic(
        "best-practices",
        "migration best practices",
        {
            "best practice": 5,
            "do dont": 4,
            "dont": 2,
            "do": 1.5,
            "guideline": 3,
            "rule of thumb": 3,
            "checklist": 1,
        },
        body="reversible small backup",
    ),
    _topic(
        "conflicts",
        "migration conflicts and multiple heads",
        {
            "conflict": 5,
            "multiple heads": 5,
            "merge migration": 5,
            "merge": 3,
            "branch": 3,
            "diverge": 3,
        },
        body="merge heads makemigrations dependencies",
    ),
    _topic(
        "failed-migration",
        "a migration that failed half-way",
        {
            "fail": 4,
            "failed migration": 5,
            "failure": 4,
            "partial": 3,
            "partially applied": 4,
            "recover": 3,
            "dirty": 3,
            "error": 2,
        },
        body="current history stamp fix",
    ),
    _topic(
        "troubleshooting",
        "troubleshooting",
        {"troubleshooting": 5, "problem": 3, "common error": 4, "faq": 4, "debug": 3},
    ),
)

TOPICS: dict[str, Topic] = {t.key: t for t in _TOPIC_LIST}
"""Every topic key the server knows, in a stable order."""

MIN_SCORE = 2.0
"""A heading must score at least this to stand for a topic."""


def score_heading(heading: str, topic: Topic) -> float:
    """How well `heading` names `topic`: the best matching phrase's weight, a little more for
    each further phrase matched and for a heading that says nothing else, less for words that
    point at another topic. 0 when no phrase matches."""
    found = set(terms(heading))
    if not found:
        return 0.0
    matched = [(words, weight) for words, weight in topic.phrases if words and words <= found]
    if not matched:
        return 0.0
    covered: set[str] = set().union(*(words for words, _ in matched))
    score = max(weight for _, weight in matched)
    score += 0.25 * (len(matched) - 1)
    score += 0.5 * len(covered & found) / len(found)
    for words, penalty in topic.avoid:
        if words and words <= found:
            score -= penalty
    return score


def _body_hits(section: Section, topic: Topic) -> int:
    return len(topic.body & set(terms(section.own_body)))


def _document_title(sections: Sequence[Section]) -> Section | None:
    """The heading that holds the whole guide (its one top-level heading), if any."""
    if not sections:
        return None
    top = min(s.level for s in sections)
    at_top = [s for s in sections if s.level == top]
    if len(at_top) == 1 and at_top[0] is sections[0] and len(sections) > 1:
        return at_top[0]
    return None


def find_section(sections: Sequence[Section], topic: str) -> Section | None:
    """The section of `sections` that best covers `topic`; `KeyError` for an unknown key."""
    spec = TOPICS[topic]
    title = _document_title(sections)
    best: tuple[float, int, int, int] | None = None
    chosen: Section | None = None
    for section in sections:
        if section is title:
            continue
        score = score_heading(section.title, spec)
        if score < MIN_SCORE:
            continue
        key = (round(score, 6), _body_hits(section, spec), -section.level, -section.index)
        if best is None or key > best:
            best, chosen = key, section
    return chosen


# --------------------------------------------------------------------------- what to show


def _sql_topics(sql: str) -> list[str]:
    """Topics for a SQL statement, from its leading keywords."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
    words = " ".join(text.upper().split())
    if not words:
        return []
    first = words.split(" ", 1)[0]
    if first in ("UPDATE", "DELETE", "INSERT", "MERGE", "COPY", "WITH"):
        return ["data-migration", "batching", "large-tables"]
    if re.match(r"CREATE (UNIQUE )?INDEX", words) or words.startswith("REINDEX"):
        return ["add-index", "large-tables"]
    if words.startswith("DROP INDEX"):
        return ["add-index", "drop", "large-tables"]
    if words.startswith("CREATE TABLE"):
        return ["create-table"]
    if words.startswith(("DROP TABLE", "TRUNCATE")):
        return ["drop", "zero-downtime"]
    if words.startswith("ALTER TABLE"):
        if " FOREIGN KEY" in words or " REFERENCES " in words:
            return ["foreign-key", "constraints", "large-tables"]
        if " RENAME " in words:
            return ["rename", "modify-column", "zero-downtime"]
        if " SET NOT NULL" in words:
            return ["not-null", "constraints", "modify-column", "large-tables"]
        if re.search(r"\bADD (CONSTRAINT|CHECK|UNIQUE|PRIMARY KEY)\b", words):
            return ["constraints", "large-tables"]
        if re.search(r"\bVALIDATE CONSTRAINT\b", words):
            return ["constraints", "foreign-key"]
        if re.search(r"\bDROP (COLUMN|CONSTRAINT)\b", words):
            return ["drop", "zero-downtime"]
        if re.search(r"\bALTER (COLUMN )?\S+ (SET DATA )?TYPE\b", words):
            return ["column-type", "modify-column", "large-tables"]
        if " ADD " in words:
            return ["add-column"]
        return ["modify-column"]
    if first == "SET" and "TIMEOUT" in words:
        return ["locks", "large-tables"]
    if first in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "START", "END"):
        return ["transactions"]
    return []


def topic_for_operation(op: Operation) -> list[str]:
    """Topic keys for an operation, best first (show the first one the guide has)."""
    if isinstance(op, CreateIndex):
        return ["add-index", "large-tables"]
    if isinstance(op, DropIndex):
        return ["add-index", "large-tables", "drop"]
    if isinstance(op, AddColumn):
        found = ["add-column"]
        if op.column.references:
            found.append("foreign-key")
        if not op.column.nullable:
            found.append("not-null")
        return [*found, "zero-downtime"]
    if isinstance(op, AlterColumn):
        found = []
        if op.new_type is not None or not op.type_change_known:
            found.append("column-type")
        if op.nullable is False:
            found.append("not-null")
        return [*found, "modify-column", "large-tables"]
    if isinstance(op, RenameColumn):
        return ["rename", "modify-column", "zero-downtime"]
    if isinstance(op, RenameTable):
        return ["rename", "zero-downtime", "modify-column"]
    if isinstance(op, CreateTable):
        found = ["create-table"]
        if any(c.references for c in op.columns):
            found.append("foreign-key")
        return found
    if isinstance(op, (DropColumn, DropTable)):
        return ["drop", "zero-downtime"]
    if isinstance(op, AddConstraint):
        if op.kind == "foreign_key":
            return ["foreign-key", "constraints", "large-tables"]
        if op.kind in ("unique", "primary_key"):
            return ["constraints", "add-index", "large-tables"]
        return ["constraints", "large-tables"]
    if isinstance(op, DropConstraint):
        first = "foreign-key" if op.kind == "foreign_key" else "constraints"
        return [first, "drop"]
    if isinstance(op, ValidateConstraint):
        return ["constraints", "foreign-key", "large-tables"]
    if isinstance(op, Truncate):
        return ["drop", "data-migration"]
    if isinstance(op, DataChange):
        return ["data-migration", "batching", "large-tables"]
    if isinstance(op, RunCode):
        return ["data-migration", "rollback"]
    if isinstance(op, ExecuteSQL):
        if op.sql is None:
            return ["data-migration"]
        return _sql_topics(op.sql) or ["data-migration"]
    if isinstance(op, TransactionControl):
        return ["transactions", "failed-migration"]
    if isinstance(op, SetSetting):
        if "timeout" in op.name.lower():
            return ["locks", "large-tables"]
        return ["transactions"]
    if isinstance(op, OtherStatement):
        return _sql_topics(op.text)
    return []


RULE_TOPICS: dict[str, tuple[str, ...]] = {
    # reversibility
    "missing-downgrade": ("rollback",),
    "empty-downgrade": ("rollback",),
    "incomplete-downgrade": ("rollback", "testing"),
    "runpython-without-reverse": ("rollback", "data-migration"),
    "runsql-without-reverse": ("rollback", "data-migration"),
    "irreversible-change": ("rollback",),
    "changeset-without-rollback": ("rollback",),
    # locks and downtime
    "non-concurrent-index": ("add-index", "large-tables"),
    "non-concurrent-index-drop": ("add-index", "large-tables"),
    "concurrent-index-in-transaction": ("transactions", "add-index", "large-tables"),
    "add-not-null-column-without-default": ("add-column", "not-null", "zero-downtime"),
    "set-not-null-on-existing-column": ("not-null", "constraints", "modify-column", "large-tables"),
    "add-column-volatile-default": ("add-column", "large-tables"),
    "change-column-type": ("column-type", "modify-column", "zero-downtime", "large-tables"),
    "foreign-key-without-not-valid": ("foreign-key", "constraints", "large-tables"),
    "check-constraint-without-not-valid": ("constraints", "large-tables"),
    "unique-constraint-without-index": ("constraints", "add-index", "large-tables"),
    "rename-column": ("rename", "zero-downtime", "modify-column"),
    "rename-table": ("rename", "zero-downtime", "modify-column"),
    "drop-column": ("drop", "zero-downtime", "best-practices"),
    "drop-table": ("drop", "zero-downtime", "best-practices"),
    "truncate-table": ("drop", "data-migration"),
    "missing-lock-timeout": ("locks", "large-tables"),
    "enum-add-value-in-transaction": ("transactions", "modify-column"),
    "add-stored-generated-column": ("add-column", "large-tables"),
    "non-concurrent-reindex": ("add-index", "large-tables"),
    "non-concurrent-detach-partition": ("large-tables", "locks"),
    "non-concurrent-refresh": ("large-tables", "locks"),
    "vacuum-full": ("large-tables", "locks"),
    "drop-not-null": ("not-null", "zero-downtime", "modify-column"),
    "drop-schema-or-database": ("drop",),
    "drop-constraint": ("constraints", "drop"),
    "domain-with-constraint": ("constraints", "large-tables"),
    "statements-after-access-exclusive": ("locks", "large-tables"),
    "mysql-blocking-algorithm": ("large-tables", "locks"),
    "missing-statement-timeout": ("locks", "large-tables"),
    # table design
    "prefer-bigint-primary-key": ("create-table",),
    "prefer-identity": ("create-table",),
    "prefer-text-field": ("create-table", "add-column"),
    "prefer-timestamptz": ("create-table", "add-column"),
    "ban-char-field": ("create-table", "add-column"),
    "prefer-jsonb": ("create-table", "add-column"),
    "prefer-bigint": ("create-table",),
    "foreign-key-without-index": ("foreign-key", "add-index"),
    "alter-column-missing-existing-type": ("modify-column", "column-type"),
    "sqlite-unsupported-alter": ("modify-column",),
    "identifier-too-long": ("create-table", "best-practices"),
    # data migrations
    "mixed-schema-and-data-change": ("schema-and-data", "data-migration", "best-practices"),
    "unbatched-data-update": ("batching", "data-migration", "large-tables"),
    "update-with-limit": ("batching", "large-tables", "data-migration"),
    "model-import-in-migration": ("model-imports", "data-migration"),
    "row-by-row-data-migration": ("batching", "data-migration"),
    "sql-string-formatting": ("raw-sql", "data-migration"),
    "execute-result-used": ("raw-sql", "data-migration", "batching"),
    "session-commit-in-migration": ("schema-and-data", "raw-sql", "data-migration"),
    # transactions in SQL files
    "prefer-robust-statements": ("failed-migration", "transactions"),
    "transaction-nesting": ("transactions",),
    "uncommitted-transaction": ("transactions",),
    # history and the files themselves
    "multiple-heads": ("conflicts",),
    "missing-parent-revision": ("conflicts", "create-migration"),
    "revision-cycle": ("conflicts",),
    "duplicate-revision": ("conflicts",),
    "revision-id-mismatch": ("create-migration",),
    "invalid-migration-filename": ("create-migration", "tool-detection"),
    "modified-applied-migration": ("best-practices",),
    "deleted-applied-migration": ("best-practices",),
    "migration-parse-error": ("troubleshooting", "failed-migration"),
    "unused-ignore": ("best-practices",),
}
"""Topics for each rule id, best first. Covers every rule of the registry (a test checks it)
and the catalogued rules not written yet."""

_CATEGORY_TOPICS: dict[str, tuple[str, ...]] = {
    "reversibility": ("rollback",),
    "locks": ("large-tables", "locks"),
    "data": ("data-migration",),
    "history": ("conflicts", "troubleshooting"),
    "design": ("create-table",),
}


def topic_for_rule(rule_id: str) -> list[str]:
    """Topic keys for a rule id (from a diagnostic or an ignore comment), best first.

    A rule with no entry in `RULE_TOPICS` falls back on its registry category; an unknown id
    gives an empty list.
    """
    key = rule_id.strip().lower()
    found = RULE_TOPICS.get(key)
    if found is not None:
        return list(found)
    from migration_lsp.rules.registry import BY_ID

    rule = BY_ID.get(key)
    if rule is None:
        return []
    return list(_CATEGORY_TOPICS.get(rule.category, ("best-practices",)))


WORD_TOPICS: dict[str, tuple[str, ...]] = {
    # the two directions
    "upgrade": ("create-migration", "testing"),
    "up": ("create-migration", "testing"),
    "forwards": ("create-migration",),
    "downgrade": ("rollback",),
    "down": ("rollback",),
    "backwards": ("rollback",),
    "change": ("rollback", "create-migration"),
    "reversible": ("rollback",),
    "reverse_code": ("rollback", "data-migration"),
    "reverse_sql": ("rollback", "data-migration"),
    "noop": ("rollback",),
    "irreversiblemigration": ("rollback",),
    # identity and ordering
    "revision": ("create-migration", "conflicts"),
    "down_revision": ("conflicts", "create-migration"),
    "branch_labels": ("conflicts", "create-migration"),
    "depends_on": ("conflicts", "create-migration"),
    "dependencies": ("conflicts", "create-migration"),
    "run_before": ("conflicts", "create-migration"),
    "replaces": ("conflicts", "create-migration"),
    "initial": ("create-migration",),
    "merge": ("conflicts",),
    "heads": ("conflicts",),
    # transactions
    "atomic": ("transactions", "add-index", "large-tables"),
    "autocommit_block": ("transactions", "add-index", "large-tables"),
    "disable_ddl_transaction": ("transactions", "add-index", "large-tables"),
    "withintransaction": ("transactions", "add-index"),
    "transaction": ("transactions",),
    "executeintransaction": ("transactions", "add-index"),
    "runintransaction": ("transactions", "add-index"),
    "no_transaction": ("transactions", "add-index"),
    "concurrently": ("add-index", "large-tables"),
    "postgresql_concurrently": ("add-index", "large-tables"),
    "algorithm": ("add-index", "large-tables"),
    # locks
    "lock_timeout": ("locks", "large-tables"),
    "statement_timeout": ("locks", "large-tables"),
    # data
    "runpython": ("data-migration", "rollback"),
    "runsql": ("data-migration", "rollback"),
    "execute": ("raw-sql", "data-migration"),
    "get_bind": ("raw-sql", "data-migration"),
    "bulk_insert": ("data-migration",),
    "get_model": ("model-imports", "data-migration"),
    "apps": ("model-imports", "data-migration"),
    "session": ("schema-and-data", "raw-sql", "data-migration"),
    "text": ("raw-sql", "data-migration"),
    "rowcount": ("raw-sql", "batching", "data-migration"),
    "limit": ("batching", "large-tables"),
    # columns and constraints
    "server_default": ("add-column", "not-null"),
    "nullable": ("not-null", "add-column"),
    "not_valid": ("constraints", "foreign-key"),
    "validate_constraint": ("constraints", "foreign-key"),
    "existing_type": ("column-type", "modify-column"),
    "batch_alter_table": ("modify-column",),
    # Rails, Laravel, Knex, TypeORM, Sequelize, Liquibase spellings
    "rollback": ("rollback",),
    "changeset": ("create-migration", "rollback"),
    "up_only": ("rollback", "data-migration"),
    "safety_assured": ("locks", "large-tables"),
    "validate": ("constraints", "foreign-key"),
    "validate_foreign_key": ("constraints", "foreign-key"),
    "validate_check_constraint": ("constraints", "not-null"),
    "statement": ("raw-sql", "data-migration"),
    "unprepared": ("raw-sql", "data-migration"),
    "raw": ("raw-sql", "data-migration"),
    "query": ("raw-sql", "data-migration"),
    "sql": ("raw-sql",),
    "update_all": ("batching", "data-migration"),
    "in_batches": ("batching", "data-migration"),
    "find_each": ("batching", "data-migration"),
    "chunkbyid": ("batching", "data-migration"),
    "chunk": ("batching", "data-migration"),
    "bulkupdate": ("batching", "data-migration"),
    "notnullable": ("not-null", "add-column"),
    "allownull": ("not-null", "add-column"),
    "null": ("not-null", "add-column"),
    "isnullable": ("not-null", "add-column"),
    "default": ("add-column", "not-null"),
    "defaultto": ("add-column", "not-null"),
    "defaultvalue": ("add-column", "not-null"),
}
"""Topics for identifiers and keywords of migration files, best first."""


def topic_for_word(word: str) -> list[str]:
    """Topic keys for a word under the cursor (`downgrade`, `atomic`, `op.execute`...).

    Case-insensitive; a dotted name is looked up by its last part (`op.execute` → `execute`),
    trailing `!`/`()` and leading `$`/`@`/`:` are ignored, `-` counts as `_`.
    """
    w = word.strip().strip("`'\"").lower()
    w = w.removesuffix("()").rstrip("!?").lstrip("$@:")
    w = w.rsplit(".", 1)[-1].replace("-", "_")
    if w in WORD_TOPICS:
        return list(WORD_TOPICS[w])
    if w.replace("_", "") in WORD_TOPICS:
        return list(WORD_TOPICS[w.replace("_", "")])
    return []


def known_topics(keys: Iterable[str]) -> bool:
    """Whether every key is a topic (used by tests and by callers validating config)."""
    return all(k in TOPICS for k in keys)
