"""Rollbacks the tool derives itself: Rails `change`, Liquibase changeSets without `<rollback>`.

Both tools invert the forward operations to roll back; both fail at rollback time on an
operation whose inverse they cannot know (raw SQL, data changes, a type change, a drop whose
definition the file does not state). Which operations those are is judged once, here.
"""

from __future__ import annotations

from collections.abc import Iterator

from migration_lsp.findings import Finding
from migration_lsp.model import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    Changeset,
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
    Severity,
    TransactionControl,
    Truncate,
    ValidateConstraint,
)
from migration_lsp.rules.base import Context, rule

_ALWAYS = (
    CreateTable,
    AddColumn,
    CreateIndex,
    AddConstraint,
    RenameColumn,
    RenameTable,
    ValidateConstraint,
    SetSetting,
    TransactionControl,
)


def why_not_derivable(op: Operation) -> str | None:
    """Why a tool that derives the rollback cannot invert `op` (None: it can)."""
    if isinstance(op, _ALWAYS):
        return None
    if isinstance(op, DropTable | DropColumn | DropIndex | DropConstraint):
        if op.restorable:
            return None
        what = {
            DropTable: "the table's columns",
            DropColumn: "the column's type",
            DropIndex: "the index's columns",
            DropConstraint: "the constraint's definition",
        }[type(op)]
        return f"it drops something without stating {what}"
    if isinstance(op, AlterColumn):
        if op.new_type is not None or not op.type_change_known:
            return "it changes a column's type and the old type is not recorded"
        if op.nullable is not None or op.restorable:
            return None
        return "it changes a column without stating the previous definition"
    if isinstance(op, ExecuteSQL):
        return "it runs SQL"
    if isinstance(op, DataChange):
        return "it changes data"
    if isinstance(op, RunCode):
        return "it runs code"
    if isinstance(op, Truncate):
        return "it deletes every row"
    if isinstance(op, OtherStatement):
        return None if op.restorable else "it runs a statement with no known inverse"
    return None


def _blockers(cs: Changeset) -> Iterator[tuple[Operation, str]]:
    """The operations of `cs` the tool cannot invert; SQL parsed from inside an `execute`
    string counts once, as the call."""
    calls = [op.span for op in cs.operations if isinstance(op, ExecuteSQL)]
    for op in cs.operations:
        if op.is_sql and any(s.contains(op.span) and s != op.span for s in calls):
            continue
        reason = why_not_derivable(op)
        if reason is not None:
            yield op, reason


def _name(op: Operation, ctx: Context) -> str:
    keyword = op.spans.get("keyword")
    if keyword is not None:
        return ctx.migration.text[keyword.start : keyword.end]
    return op.origin if op.origin and op.origin != "sql" else type(op).__name__


@rule(
    "irreversible-change",
    summary="Rails cannot reverse an operation inside `change`",
    severity=Severity.WARNING,
    category="reversibility",
    fix="convert-to-up-down",
    anchors={"rails": "ActiveRecord::IrreversibleMigration at rollback"},
)
def irreversible_change(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags an operation inside a Rails `change` method that Rails cannot invert: `execute`,
    `change_column`, `remove_column` without the column type, `drop_table` without its block,
    `remove_index` without the columns, data changes.

    ## Why is this bad?
    Rails rolls a `change` migration back by inverting each operation it recorded. For these it
    cannot: `rails db:rollback` stops with `ActiveRecord::IrreversibleMigration`, at the moment
    a rollback is needed, and every later migration is stuck behind it.

    ## Example
    ```ruby
    # rails: db/migrate/20240501120000_remove_legacy_code_from_users.rb
    class RemoveLegacyCodeFromUsers < ActiveRecord::Migration[7.1]
      def change
        remove_column :users, :legacy_code
      end
    end
    ```

    ## Use instead
    ```ruby
    # rails: db/migrate/20240501120000_remove_legacy_code_from_users.rb
    class RemoveLegacyCodeFromUsers < ActiveRecord::Migration[7.1]
      def change
        remove_column :users, :legacy_code, :string
      end
    end
    ```
    or write `up` and `down` methods, or wrap the step in `reversible do |dir| ... end`.

    ## Fix safety
    The fix turns `change` into `up` plus a `down` that inverts what it can and raises
    `ActiveRecord::IrreversibleMigration` for the rest: review the `down` it writes.
    """
    m = ctx.migration
    if m.tool != "rails":
        return
    for cs in m.changesets:
        if cs.rollback is not None:
            continue
        for op, reason in _blockers(cs):
            yield ctx.finding(
                op,
                f"Rails cannot reverse `{_name(op, ctx)}` inside `{cs.label}` ({reason}): "
                "`rails db:rollback` will raise ActiveRecord::IrreversibleMigration. State "
                "what the inverse needs, wrap it in `reversible`, or write `up` and `down`.",
                part="keyword",
            )


@rule(
    "changeset-without-rollback",
    summary="A Liquibase changeSet Liquibase cannot roll back by itself has no <rollback>",
    severity=Severity.WARNING,
    category="reversibility",
    fix="add-rollback",
    anchors={"liquibase": "rollback fails with No inverse to ... created"},
)
def changeset_without_rollback(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a Liquibase changeSet with no `<rollback>` whose changes Liquibase cannot roll back
    automatically: `sql`, `sqlFile`, `update`, `delete`, `insert`, `dropTable`, `dropColumn`,
    `modifyDataType`, formatted-SQL changesets.

    ## Why is this bad?
    Liquibase derives a rollback only for changes whose inverse it knows (`createTable`,
    `addColumn`, `createIndex`, ...). For the others `liquibase rollback` stops with
    "No inverse to ... created", in the middle of an incident.

    ## Example
    ```xml
    <!-- liquibase: db/changelog.xml -->
    <databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
        <changeSet id="7" author="alice">
            <dropColumn tableName="users" columnName="legacy_code"/>
        </changeSet>
    </databaseChangeLog>
    ```

    ## Use instead
    ```xml
    <!-- liquibase: db/changelog.xml -->
    <databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
        <changeSet id="7" author="alice">
            <dropColumn tableName="users" columnName="legacy_code"/>
            <rollback>
                <addColumn tableName="users">
                    <column name="legacy_code" type="varchar(32)"/>
                </addColumn>
            </rollback>
        </changeSet>
    </databaseChangeLog>
    ```

    ## Fix safety
    The fix adds a `<rollback>` block (a `--rollback` comment in formatted SQL) with the
    inverses it can write and a marked place for the rest: fill it in before committing.
    """
    m = ctx.migration
    if m.tool != "liquibase":
        return
    for cs in m.changesets:
        if cs.rollback is not None:
            continue
        names: list[str] = []
        for op, _reason in _blockers(cs):
            name = _name(op, ctx)
            if name not in names:
                names.append(name)
        if names:
            yield ctx.finding(
                cs.span,
                f"{cs.label} has no rollback, and Liquibase cannot derive one for "
                f"{', '.join(f'`{n}`' for n in names)}: `liquibase rollback` will fail here. "
                "Add a rollback block.",
            )
