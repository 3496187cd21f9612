"""Liquibase snippets: changeSets in the changelog's own format (XML, YAML, formatted SQL; a
JSON changelog skeleton, each with its `languages`), and where to offer them.

- `file`: an empty changelog gets a whole changelog with a first changeSet;
- `step`: between changeSets (an element of `<databaseChangeLog>`, an item of the YAML
  `databaseChangeLog:` list, after a complete statement of a formatted-SQL changelog) gets a
  changeSet.

Every format has the same snippets: a changeSet with its rollback, a concurrent index
(`runInTransaction="false"`), a foreign key added NOT VALID then validated in a second changeSet,
and NOT NULL through a validated CHECK; `snippets_for(..., language)` picks the file's variant.
"""

from __future__ import annotations

from migration_lsp.parse.liquibase_sql import is_formatted
from migration_lsp.snippets.model import PG, Snippet, SnippetContext, body, doc

LIQUIBASE = frozenset({"liquibase"})


XML_HEADER = body(
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <databaseChangeLog
        xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog
            http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-latest.xsd">
    """
)

_CHANGESET_DOC = doc(
    """
    A changeSet with a written rollback. Liquibase derives the rollback of `createTable`,
    `addColumn`, `createIndex` and a few others itself, but not of `sql`, `dropColumn`,
    `dropTable`, `modifyDataType` or data changes: `liquibase rollback` then fails
    (`changeset-without-rollback`). Write the rollback while you know what the changes did; an
    empty `<rollback/>` says there is nothing to undo.
    """
)
_INDEX_DOC = doc(
    """
    Liquibase's `createIndex` has no CONCURRENTLY: it blocks writes to the table while the index
    builds (`non-concurrent-index`). This changeSet builds it with `CREATE INDEX CONCURRENTLY`,
    which PostgreSQL refuses inside a transaction, hence `runInTransaction="false"` and nothing
    else in the changeSet (`concurrent-index-in-transaction`). `IF NOT EXISTS` lets a re-run
    after a failed build succeed (drop the invalid index first).
    """
)
_FK_DOC = doc(
    """
    A foreign key on an existing table, in two changeSets: added `NOT VALID` (`validate="false"`:
    only new rows are checked, no long lock), then validated in a transaction of its own, which
    scans the table while reads and writes go on (`foreign-key-without-not-valid`).
    """
)
_NOT_NULL_DOC = doc(
    """
    NOT NULL on an existing column without a long ACCESS EXCLUSIVE lock
    (`set-not-null-on-existing-column`): a `CHECK (col IS NOT NULL) NOT VALID` constraint, its
    validation in a changeSet of its own, then `addNotNullConstraint`, which PostgreSQL 12+ proves
    from the validated CHECK without scanning the table; the CHECK is dropped last. The CHECK is
    added NOT VALID (`check-constraint-without-not-valid`); backfill the NULLs before the second
    changeSet.
    """
)


def _snippet(
    language: str,
    prefix: str,
    label: str,
    context: SnippetContext,
    detail: str,
    text: str,
    documentation: str,
    *,
    avoids: tuple[str, ...] = (),
    pg_only: bool = False,
) -> Snippet:
    return Snippet(
        prefix=prefix,
        label=label,
        tools=LIQUIBASE,
        context=context,
        detail=detail,
        body=text,
        documentation=documentation,
        dialects=PG if pg_only else None,
        avoids=avoids,
        languages=frozenset({language}),
    )


# --------------------------------------------------------------------------- XML

_XML_CHANGESET = body(
    """
    <changeSet id="${1:id}" author="${2:author}">
        ${3:<createTable tableName="table_name">
            <column name="id" type="bigint" autoIncrement="true">
                <constraints primaryKey="true" nullable="false"/>
            </column>
        </createTable>}
        <rollback>
            ${4:<dropTable tableName="table_name"/>}
        </rollback>
    </changeSet>$0
    """
)
_XML_INDEX = body(
    """
    <changeSet id="${1:id}" author="${2:author}" runInTransaction="false">
        <sql>CREATE INDEX CONCURRENTLY IF NOT EXISTS ${3:ix_table_column}
            ON ${4:table_name} (${5:column_name})</sql>
        <rollback>
            <sql>DROP INDEX CONCURRENTLY IF EXISTS $3</sql>
        </rollback>
    </changeSet>$0
    """
)
_XML_FK = body(
    """
    <changeSet id="${1:id}" author="${2:author}">
        <addForeignKeyConstraint constraintName="${5:fk_orders_customer_id}"
            baseTableName="${3:orders}" baseColumnNames="${4:customer_id}"
            referencedTableName="${6:customers}" referencedColumnNames="${7:id}"
            validate="false"/>
    </changeSet>
    <changeSet id="${8:id}" author="$2">
        <sql>ALTER TABLE $3 VALIDATE CONSTRAINT $5</sql>
        <rollback/>
    </changeSet>$0
    """
)
_XML_NOT_NULL = body(
    """
    <changeSet id="${1:id}" author="${2:author}">
        <sql>ALTER TABLE ${3:table_name} ADD CONSTRAINT ${5:table_column_not_null}
            CHECK (${4:column_name} IS NOT NULL) NOT VALID</sql>
        <rollback>
            <sql>ALTER TABLE $3 DROP CONSTRAINT $5</sql>
        </rollback>
    </changeSet>
    <changeSet id="${6:id}" author="$2">
        <sql>ALTER TABLE $3 VALIDATE CONSTRAINT $5</sql>
        <rollback/>
    </changeSet>
    <changeSet id="${7:id}" author="$2">
        <addNotNullConstraint tableName="$3" columnName="$4" columnDataType="${8:text}"/>
        <sql>ALTER TABLE $3 DROP CONSTRAINT $5</sql>
        <rollback>
            <sql>ALTER TABLE $3 ADD CONSTRAINT $5 CHECK ($4 IS NOT NULL) NOT VALID</sql>
            <dropNotNullConstraint tableName="$3" columnName="$4" columnDataType="$8"/>
        </rollback>
    </changeSet>$0
    """
)


def _xml_file(changeset: str) -> str:
    inner = "\n".join(("    " + line) if line else line for line in changeset.split("\n"))
    return f"{XML_HEADER}\n\n{inner.replace('$0', '')}\n</databaseChangeLog>\n$0"


XML_SNIPPETS: tuple[Snippet, ...] = (
    _snippet(
        "xml",
        "mig-file",
        "New Liquibase XML changelog",
        "file",
        "databaseChangeLog with a first changeSet and its rollback",
        _xml_file(_XML_CHANGESET),
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
    _snippet(
        "xml",
        "mig-changeset",
        "changeSet with rollback",
        "step",
        "<changeSet> with a <rollback>",
        _XML_CHANGESET,
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
    _snippet(
        "xml",
        "mig-index-concurrently",
        "Create index concurrently",
        "step",
        'CREATE INDEX CONCURRENTLY in a changeSet with runInTransaction="false"',
        _XML_INDEX,
        _INDEX_DOC,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
        pg_only=True,
    ),
    _snippet(
        "xml",
        "mig-foreign-key",
        "Foreign key NOT VALID, then VALIDATE",
        "step",
        'addForeignKeyConstraint validate="false", VALIDATE in a second changeSet',
        _XML_FK,
        _FK_DOC,
        avoids=("foreign-key-without-not-valid",),
        pg_only=True,
    ),
    _snippet(
        "xml",
        "mig-set-not-null",
        "Safe NOT NULL",
        "step",
        "CHECK NOT VALID, VALIDATE, then addNotNullConstraint (three changeSets)",
        _XML_NOT_NULL,
        _NOT_NULL_DOC,
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
        pg_only=True,
    ),
)


# --------------------------------------------------------------------------- YAML

_YAML_CHANGESET = body(
    """
    - changeSet:
        id: ${1:id}
        author: ${2:author}
        changes:
          - ${3:createTable}:
              ${4:tableName: table_name}
        rollback:
          - ${5:dropTable}:
              ${6:tableName: table_name}$0
    """
)
_YAML_INDEX = body(
    """
    - changeSet:
        id: ${1:id}
        author: ${2:author}
        runInTransaction: false
        changes:
          - sql:
              sql: >-
                CREATE INDEX CONCURRENTLY IF NOT EXISTS ${3:ix_table_column}
                ON ${4:table_name} (${5:column_name})
        rollback:
          - sql:
              sql: DROP INDEX CONCURRENTLY IF EXISTS $3$0
    """
)
_YAML_FK = body(
    """
    - changeSet:
        id: ${1:id}
        author: ${2:author}
        changes:
          - addForeignKeyConstraint:
              baseTableName: ${3:orders}
              baseColumnNames: ${4:customer_id}
              constraintName: ${5:fk_orders_customer_id}
              referencedTableName: ${6:customers}
              referencedColumnNames: ${7:id}
              validate: false
    - changeSet:
        id: ${8:id}
        author: $2
        changes:
          - sql:
              sql: ALTER TABLE $3 VALIDATE CONSTRAINT $5
        rollback: []$0
    """
)
_YAML_NOT_NULL = body(
    """
    - changeSet:
        id: ${1:id}
        author: ${2:author}
        changes:
          - sql:
              sql: >-
                ALTER TABLE ${3:table_name} ADD CONSTRAINT ${5:table_column_not_null}
                CHECK (${4:column_name} IS NOT NULL) NOT VALID
        rollback:
          - sql:
              sql: ALTER TABLE $3 DROP CONSTRAINT $5
    - changeSet:
        id: ${6:id}
        author: $2
        changes:
          - sql:
              sql: ALTER TABLE $3 VALIDATE CONSTRAINT $5
        rollback: []
    - changeSet:
        id: ${7:id}
        author: $2
        changes:
          - addNotNullConstraint:
              tableName: $3
              columnName: $4
              columnDataType: ${8:text}
          - sql:
              sql: ALTER TABLE $3 DROP CONSTRAINT $5
        rollback:
          - sql:
              sql: ALTER TABLE $3 ADD CONSTRAINT $5 CHECK ($4 IS NOT NULL) NOT VALID
          - dropNotNullConstraint:
              tableName: $3
              columnName: $4
              columnDataType: $8$0
    """
)


def _yaml_file(changeset: str) -> str:
    inner = "\n".join(("  " + line) if line else line for line in changeset.split("\n"))
    return f"databaseChangeLog:\n{inner.replace('$0', '')}\n$0"


YAML_SNIPPETS: tuple[Snippet, ...] = (
    _snippet(
        "yaml",
        "mig-file",
        "New Liquibase YAML changelog",
        "file",
        "databaseChangeLog: with a first changeSet and its rollback",
        _yaml_file(_YAML_CHANGESET),
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
    _snippet(
        "yaml",
        "mig-changeset",
        "changeSet with rollback",
        "step",
        "- changeSet: with changes and rollback",
        _YAML_CHANGESET,
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
    _snippet(
        "yaml",
        "mig-index-concurrently",
        "Create index concurrently",
        "step",
        "CREATE INDEX CONCURRENTLY in a changeSet with runInTransaction: false",
        _YAML_INDEX,
        _INDEX_DOC,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
        pg_only=True,
    ),
    _snippet(
        "yaml",
        "mig-foreign-key",
        "Foreign key NOT VALID, then VALIDATE",
        "step",
        "addForeignKeyConstraint validate: false, VALIDATE in a second changeSet",
        _YAML_FK,
        _FK_DOC,
        avoids=("foreign-key-without-not-valid",),
        pg_only=True,
    ),
    _snippet(
        "yaml",
        "mig-set-not-null",
        "Safe NOT NULL",
        "step",
        "CHECK NOT VALID, VALIDATE, then addNotNullConstraint (three changeSets)",
        _YAML_NOT_NULL,
        _NOT_NULL_DOC,
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
        pg_only=True,
    ),
)


# --------------------------------------------------------------------------- formatted SQL

_SQL_CHANGESET = body(
    """
    --changeset ${1:author}:${2:id}
    ${3:CREATE TABLE table_name (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)};
    --rollback ${4:DROP TABLE table_name};$0
    """
)
_SQL_INDEX = body(
    """
    --changeset ${1:author}:${2:id} runInTransaction:false
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ${3:ix_table_column}
        ON ${4:table_name} (${5:column_name});
    --rollback DROP INDEX CONCURRENTLY IF EXISTS $3;$0
    """
)
_SQL_FK = body(
    """
    --changeset ${1:author}:${2:id}
    ALTER TABLE ${3:orders} ADD CONSTRAINT ${5:fk_orders_customer_id}
        FOREIGN KEY (${4:customer_id}) REFERENCES ${6:customers} (${7:id}) NOT VALID;
    --rollback ALTER TABLE $3 DROP CONSTRAINT $5;

    --changeset $1:${8:id}
    ALTER TABLE $3 VALIDATE CONSTRAINT $5;
    --rollback empty$0
    """
)
_SQL_NOT_NULL = body(
    """
    --changeset ${1:author}:${2:id}
    ALTER TABLE ${3:table_name} ADD CONSTRAINT ${5:table_column_not_null}
        CHECK (${4:column_name} IS NOT NULL) NOT VALID;
    --rollback ALTER TABLE $3 DROP CONSTRAINT $5;

    --changeset $1:${6:id}
    ALTER TABLE $3 VALIDATE CONSTRAINT $5;
    --rollback empty

    --changeset $1:${7:id}
    ALTER TABLE $3 ALTER COLUMN $4 SET NOT NULL;
    ALTER TABLE $3 DROP CONSTRAINT $5;
    --rollback ALTER TABLE $3 ADD CONSTRAINT $5 CHECK ($4 IS NOT NULL) NOT VALID;
    --rollback ALTER TABLE $3 ALTER COLUMN $4 DROP NOT NULL;$0
    """
)

SQL_SNIPPETS: tuple[Snippet, ...] = (
    _snippet(
        "sql",
        "mig-file",
        "New Liquibase formatted SQL changelog",
        "file",
        "--liquibase formatted sql with a first changeset and its rollback",
        "--liquibase formatted sql\n\n" + _SQL_CHANGESET,
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
    _snippet(
        "sql",
        "mig-changeset",
        "changeset with rollback",
        "step",
        "--changeset author:id with --rollback",
        _SQL_CHANGESET,
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
    _snippet(
        "sql",
        "mig-index-concurrently",
        "Create index concurrently",
        "step",
        "CREATE INDEX CONCURRENTLY in a changeset with runInTransaction:false",
        _SQL_INDEX,
        _INDEX_DOC,
        avoids=("non-concurrent-index", "concurrent-index-in-transaction"),
        pg_only=True,
    ),
    _snippet(
        "sql",
        "mig-foreign-key",
        "Foreign key NOT VALID, then VALIDATE",
        "step",
        "ADD CONSTRAINT ... NOT VALID, VALIDATE in a second changeset",
        _SQL_FK,
        _FK_DOC,
        avoids=("foreign-key-without-not-valid",),
        pg_only=True,
    ),
    _snippet(
        "sql",
        "mig-set-not-null",
        "Safe NOT NULL",
        "step",
        "CHECK NOT VALID, VALIDATE, then SET NOT NULL (three changesets)",
        _SQL_NOT_NULL,
        _NOT_NULL_DOC,
        avoids=("set-not-null-on-existing-column", "check-constraint-without-not-valid"),
        pg_only=True,
    ),
)

JSON_SNIPPETS: tuple[Snippet, ...] = (
    _snippet(
        "json",
        "mig-file",
        "New Liquibase JSON changelog",
        "file",
        "databaseChangeLog with a first changeSet and its rollback",
        body(
            """
            {
              "databaseChangeLog": [
                {
                  "changeSet": {
                    "id": "${1:id}",
                    "author": "${2:author}",
                    "changes": [
                      { "${3:createTable}": { ${4:"tableName": "table_name"} } }
                    ],
                    "rollback": [
                      { "${5:dropTable}": { ${6:"tableName": "table_name"} } }
                    ]
                  }
                }
              ]
            }
            $0
            """
        ),
        _CHANGESET_DOC,
        avoids=("changeset-without-rollback",),
    ),
)

SNIPPETS: tuple[Snippet, ...] = XML_SNIPPETS + YAML_SNIPPETS + SQL_SNIPPETS + JSON_SNIPPETS


# --------------------------------------------------------------------------- context


def completion_context(text: str, start: int, end: int, language: str) -> SnippetContext | None:
    """`file` or `step` for the word `[start, end)` of a changelog (None elsewhere)."""
    line_start = text.rfind("\n", 0, start) + 1
    newline = text.find("\n", end)
    if (
        text[line_start:start].strip()
        or text[end : len(text) if newline == -1 else newline].strip()
    ):
        return None  # snippets start a line of their own
    if language == "xml":
        return _xml(text, start, end)
    if language == "yaml":
        return _yaml(text, start, end)
    if language == "sql":
        return _sql(text, start, end)
    if language == "json":
        return "file" if not (text[:start] + text[end:]).strip() else None
    return None


def _xml(text: str, start: int, end: int) -> SnippetContext | None:
    stack, inside, seen = _xml_scan(text[:start])
    if inside:
        return None
    if not seen and not _xml_scan(text[end:])[2] and "<?xml" not in text:
        return "file"
    return "step" if stack == ["databaseChangeLog"] else None


def _xml_scan(source: str) -> tuple[list[str], bool, bool]:
    """Open elements at the end of `source` (local names), whether it ends inside markup
    (a tag, comment, CDATA section), and whether any element was seen."""
    stack: list[str] = []
    seen = False
    i = 0
    while True:
        lt = source.find("<", i)
        if lt == -1:
            return stack, False, seen
        for opening, closing in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")):
            if source.startswith(opening, lt):
                close = source.find(closing, lt + len(opening))
                if close == -1:
                    return stack, True, seen
                i = close + len(closing)
                break
        else:
            j = _tag_end(source, lt + 1)
            if j == -1:
                return stack, True, seen
            tag = source[lt + 1 : j].strip()
            i = j + 1
            if tag.startswith("!"):
                continue  # DOCTYPE
            seen = True
            name = tag.lstrip("/").split(None, 1)[0].rstrip("/").rpartition(":")[2] if tag else ""
            if tag.startswith("/"):
                if name in stack:
                    del stack[len(stack) - 1 - stack[::-1].index(name) :]
            elif not tag.endswith("/"):
                stack.append(name)


def _tag_end(source: str, i: int) -> int:
    """Offset of the `>` ending the tag started before `i` (quotes respected), or -1."""
    quote = None
    while i < len(source):
        char = source[i]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == ">":
            return i
        elif char == "<":
            return -1  # a half-typed tag followed by another one
        i += 1
    return -1


def _yaml(text: str, start: int, end: int) -> SnippetContext | None:
    rest = text[:start] + text[end:]
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in rest.split("\n")):
        return "file"
    column = start - (text.rfind("\n", 0, start) + 1)
    root: int | None = None
    item: int | None = None
    for line in text[: text.rfind("\n", 0, start) + 1].split("\n"):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("databaseChangeLog:"):
            root, item = indent, None
        elif root is not None and item is None and stripped.startswith("- ") and indent >= root:
            item = indent
        elif root is not None and indent <= root and not stripped.startswith("- "):
            root = None  # another top-level key
    if root is None:
        return None
    if item is not None:
        return "step" if column == item else None
    return "step" if column >= root else None


def _sql(text: str, start: int, end: int) -> SnippetContext | None:
    rest = text[:start] + text[end:]
    if not rest.strip():
        return "file"
    if not is_formatted(rest):
        return None
    from migration_lsp.snippets.context import _scan_sql  # context imports the catalogue

    state = _scan_sql(text[:start])
    return None if state.inside or state.code else "step"
