"""SQL handed to the database from another language: `execute`, `DB::statement`, `knex.raw`...

Every host-language parser finds the call and decodes its string literal (with `positions`
mapping each character of the value back to the document); this module turns that into the
`ExecuteSQL` for the call followed by the operations of the SQL inside it, so statement rules
report on the exact text inside the string, whatever language the migration is written in.
"""

from __future__ import annotations

from collections.abc import Sequence

from migration_lsp.model import ExecuteSQL, Operation, ParseProblem, Step
from migration_lsp.parse.sql import TransactionMode, parse_sql
from migration_lsp.text import Span


def sql_operations(
    *,
    call: Span,
    keyword: Span,
    string: Span,
    value: str | None,
    positions: Sequence[int] | None,
    formatted: bool,
    step: Step,
    in_transaction: bool,
    transaction: TransactionMode,
    dialect: str | None,
    origin: str,
    result_used: bool = False,
) -> tuple[list[Operation], list[ParseProblem]]:
    """An `ExecuteSQL` spanning `call`, then the operations parsed from `value`.

    `value` is None when the SQL is built at run time; `positions[i]` is the document offset of
    `value[i]` (length `len(value) + 1`), or None to report everything on `string`.
    """
    execute = ExecuteSQL(
        span=call,
        step=step,
        in_transaction=in_transaction,
        origin=origin,
        spans={"sql": string, "keyword": keyword},
        sql=value,
        formatted=formatted,
        result_used=result_used,
    )
    ops: list[Operation] = [execute]
    problems: list[ParseProblem] = []
    if value is not None:
        if positions is None:  # a literal we could not map: report on the whole string
            positions = [string.start] * len(value) + [string.end]
        result = parse_sql(value, dialect, positions=positions, step=step, transaction=transaction)
        for op in result.operations:
            op.in_transaction = op.in_transaction or in_transaction
            ops.append(op)
        problems.extend(result.problems)
    return ops, problems
