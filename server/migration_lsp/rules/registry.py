"""Every rule migration-lsp ships, listed explicitly (a test fails when one is missing here)."""

from __future__ import annotations

from migration_lsp.rules import (
    auto_reverse,
    code,
    data,
    design,
    destructive,
    history,
    locks,
    meta,
    naming,
    postgres,
    reversibility,
)
from migration_lsp.rules.base import Rule

RULES: tuple[Rule, ...] = (
    # reversibility
    reversibility.missing_downgrade,
    reversibility.empty_downgrade,
    reversibility.incomplete_downgrade,
    reversibility.runpython_without_reverse,
    reversibility.runsql_without_reverse,
    auto_reverse.irreversible_change,
    auto_reverse.changeset_without_rollback,
    # locks and downtime
    locks.non_concurrent_index,
    locks.non_concurrent_index_drop,
    locks.concurrent_index_in_transaction,
    locks.add_not_null_column_without_default,
    locks.set_not_null_on_existing_column,
    locks.add_column_volatile_default,
    locks.change_column_type,
    locks.foreign_key_without_not_valid,
    locks.check_constraint_without_not_valid,
    locks.unique_constraint_without_index,
    locks.missing_lock_timeout,
    destructive.rename_column,
    destructive.rename_table,
    destructive.drop_column,
    destructive.drop_table,
    destructive.truncate_table,
    # data migrations
    data.mixed_schema_and_data_change,
    data.unbatched_data_update,
    data.update_with_limit,
    data.model_import_in_migration,
    data.sql_string_formatting,
    data.execute_result_used,
    *code.RULES,
    # PostgreSQL statements
    *postgres.RULES,
    # schema design
    *design.RULES,
    # the file itself
    *history.HISTORY_RULES,
    naming.invalid_migration_filename,
    meta.migration_parse_error,
    meta.unused_ignore,
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

PARSE_ERROR = meta.migration_parse_error.id
UNUSED_IGNORE = meta.unused_ignore.id
