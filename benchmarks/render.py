"""Each tool's file format: one abstract operation → the lines that tool's generator (or a
developer following its documentation) writes, forward and in reverse."""

from __future__ import annotations

from datetime import datetime

from benchmarks.history import Column, Op, camel

# ------------------------------------------------------------ SQL (prisma, flyway, golang-migrate)

SQL_TYPES = {
    "string": "VARCHAR(255)",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP(3)",
    "text": "TEXT",
    "decimal": "DECIMAL(65,30)",
}


def _q(name: str, quoted: bool) -> str:
    return f'"{name}"' if quoted else name


def sql_up(op: Op, quoted: bool) -> list[str]:
    """One operation as PostgreSQL, with Prisma's `-- Kind` comments when `quoted`."""

    def q(name: str) -> str:
        return _q(name, quoted)

    col = op.column
    if op.kind == "create_table":
        body = [f"    {q('id')} SERIAL NOT NULL,"]
        for c in op.columns:
            null = "" if c.nullable else " NOT NULL"
            body.append(f"    {q(c.name)} {SQL_TYPES[c.type]}{null},")
        body.append(f"    {q('created_at')} TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,")
        body += ["", f"    CONSTRAINT {q(op.table + '_pkey')} PRIMARY KEY ({q('id')})"]
        return ["-- CreateTable", f"CREATE TABLE {q(op.table)} (", *body, ");"]
    assert col is not None
    table = q(op.table)
    if op.kind == "add_column":
        rest = "" if col.nullable else f" NOT NULL DEFAULT {op.default}"
        spacing = "     " if quoted else " "
        return [
            "-- AlterTable",
            f"ALTER TABLE {table} ADD COLUMN{spacing}{q(col.name)} {SQL_TYPES[col.type]}{rest};",
        ]
    if op.kind == "add_index":
        name = q(f"{op.table}_{col.name}_idx")
        return ["-- CreateIndex", f"CREATE INDEX {name} ON {table}({q(col.name)});"]
    if op.kind == "add_fk":
        name = q(f"{op.table}_{col.name}_fkey")
        return [
            "-- AlterTable",
            f"ALTER TABLE {table} ADD COLUMN {q(col.name)} BIGINT;",
            "",
            "-- AddForeignKey",
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({q(col.name)}) "
            f"REFERENCES {q(op.new_name)}({q('id')}) ON DELETE RESTRICT ON UPDATE CASCADE;",
        ]
    if op.kind == "change_type":
        return [
            "-- AlterTable",
            f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DATA TYPE {SQL_TYPES[col.type]};",
        ]
    if op.kind == "rename_column":
        return [
            "-- AlterTable",
            f"ALTER TABLE {table} RENAME COLUMN {q(col.name)} TO {q(op.new_name)};",
        ]
    if op.kind == "drop_column":
        return ["-- AlterTable", f"ALTER TABLE {table} DROP COLUMN {q(col.name)};"]
    return [
        "-- Backfill",
        f"UPDATE {table} SET {q(col.name)} = NULL WHERE {q(col.name)} IS NOT NULL;",
    ]


def sql_down(op: Op) -> list[str]:
    """The reverse of one operation (golang-migrate's .down.sql), unquoted."""
    col = op.column
    if op.kind == "create_table":
        return [f"DROP TABLE IF EXISTS {op.table};"]
    assert col is not None
    if op.kind in ("add_column", "add_fk"):
        return [f"ALTER TABLE {op.table} DROP COLUMN IF EXISTS {col.name};"]
    if op.kind == "add_index":
        return [f"DROP INDEX IF EXISTS {op.table}_{col.name}_idx;"]
    if op.kind == "change_type":
        return [f"ALTER TABLE {op.table} ALTER COLUMN {col.name} TYPE {SQL_TYPES[op.old_type]};"]
    if op.kind == "rename_column":
        return [f"ALTER TABLE {op.table} RENAME COLUMN {op.new_name} TO {col.name};"]
    if op.kind == "drop_column":
        return [f"ALTER TABLE {op.table} ADD COLUMN {col.name} {SQL_TYPES[col.type]};"]
    return []


def prisma_sql(ops: list[Op]) -> str:
    drops = [op for op in ops if op.kind == "drop_column" and op.column]
    lines: list[str] = []
    if drops:
        lines += ["/*", "  Warnings:", ""]
        for op in drops:
            assert op.column is not None
            lines.append(
                f"  - You are about to drop the column `{op.column.name}` on the `{op.table}` "
                "table. All the data in the column will be lost."
            )
        lines += ["", "*/"]
    for op in ops:
        lines += [*sql_up(op, quoted=True), ""]
    return "\n".join(lines)


def plain_sql(ops: list[Op]) -> str:
    lines: list[str] = []
    for op in ops:
        lines += [line for line in sql_up(op, quoted=False) if not line.startswith("-- ")]
        lines.append("")
    return "\n".join(lines)


def plain_sql_down(ops: list[Op]) -> str:
    lines = [line for op in reversed(ops) for line in sql_down(op)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Alembic

SA_TYPES = {
    "string": "sa.String(length=255)",
    "integer": "sa.Integer()",
    "bigint": "sa.BigInteger()",
    "boolean": "sa.Boolean()",
    "timestamp": "sa.DateTime()",
    "text": "sa.Text()",
    "decimal": "sa.Numeric(precision=12, scale=2)",
}
SA_REFLECTED = {
    "string": "sa.VARCHAR(length=255)",
    "integer": "sa.INTEGER()",
    "bigint": "sa.BIGINT()",
    "boolean": "sa.BOOLEAN()",
    "timestamp": "postgresql.TIMESTAMP()",
    "text": "sa.TEXT()",
    "decimal": "sa.NUMERIC(precision=12, scale=2)",
}


def alembic_up(op: Op) -> list[str]:
    col = op.column
    if op.kind == "create_table":
        lines = [f"    op.create_table('{op.table}',"]
        lines.append("    sa.Column('id', sa.BigInteger(), nullable=False),")
        for c in op.columns:
            lines.append(f"    sa.Column('{c.name}', {SA_TYPES[c.type]}, nullable={c.nullable}),")
        lines += ["    sa.PrimaryKeyConstraint('id')", "    )"]
        return lines
    assert col is not None
    if op.kind == "add_column":
        value = (op.default or "").strip("'")
        default = "" if op.default is None else f", server_default={value!r}"
        return [
            f"    op.add_column('{op.table}', sa.Column('{col.name}', {SA_TYPES[col.type]}"
            f"{default}, nullable={col.nullable}))"
        ]
    if op.kind == "add_index":
        index = f"op.f('ix_{op.table}_{col.name}')"
        return [f"    op.create_index({index}, '{op.table}', ['{col.name}'], unique=False)"]
    if op.kind == "add_fk":
        return [
            f"    op.add_column('{op.table}', sa.Column('{col.name}', sa.BigInteger(), "
            "nullable=True))",
            f"    op.create_foreign_key(None, '{op.table}', '{op.new_name}', "
            f"['{col.name}'], ['id'])",
        ]
    if op.kind == "change_type":
        return [
            f"    op.alter_column('{op.table}', '{col.name}',",
            f"               existing_type={SA_REFLECTED[op.old_type]},",
            f"               type_={SA_TYPES[col.type]},",
            f"               existing_nullable={col.nullable})",
        ]
    if op.kind == "rename_column":
        return [f"    op.alter_column('{op.table}', '{col.name}', new_column_name='{op.new_name}')"]
    if op.kind == "drop_column":
        return [f"    op.drop_column('{op.table}', '{col.name}')"]
    return [
        f'    op.execute("UPDATE {op.table} SET {col.name} = NULL WHERE {col.name} IS NOT NULL")'
    ]


def alembic_down(op: Op) -> list[str]:
    col = op.column
    if op.kind == "create_table":
        return [f"    op.drop_table('{op.table}')"]
    assert col is not None
    if op.kind == "add_column":
        return [f"    op.drop_column('{op.table}', '{col.name}')"]
    if op.kind == "add_index":
        return [f"    op.drop_index(op.f('ix_{op.table}_{col.name}'), table_name='{op.table}')"]
    if op.kind == "add_fk":
        return [
            f"    op.drop_constraint(None, '{op.table}', type_='foreignkey')",
            f"    op.drop_column('{op.table}', '{col.name}')",
        ]
    if op.kind == "change_type":
        return [
            f"    op.alter_column('{op.table}', '{col.name}',",
            f"               existing_type={SA_TYPES[col.type]},",
            f"               type_={SA_REFLECTED[op.old_type]},",
            f"               existing_nullable={col.nullable})",
        ]
    if op.kind == "rename_column":
        return [f"    op.alter_column('{op.table}', '{op.new_name}', new_column_name='{col.name}')"]
    if op.kind == "drop_column":
        return [
            f"    op.add_column('{op.table}', sa.Column('{col.name}', {SA_REFLECTED[col.type]}, "
            "autoincrement=False, nullable=True))"
        ]
    return []


def alembic_file(ops: list[Op], rev: str, down: str | None, message: str, when: datetime) -> str:
    up = [line for op in ops for line in alembic_up(op)]
    back = [line for op in reversed(ops) for line in alembic_down(op)] or ["    pass"]
    uses_pg = any("postgresql." in line for line in up + back)
    return "\n".join(
        [
            f'"""{message}',
            "",
            f"Revision ID: {rev}",
            f"Revises: {down or ''}",
            f"Create Date: {when.isoformat(sep=' ')}.000000",
            "",
            '"""',
            "from typing import Sequence, Union",
            "",
            "from alembic import op",
            "import sqlalchemy as sa",
            *(["from sqlalchemy.dialects import postgresql"] if uses_pg else []),
            "",
            "# revision identifiers, used by Alembic.",
            f"revision: str = {rev!r}",
            f"down_revision: Union[str, None] = {down!r}",
            "branch_labels: Union[str, Sequence[str], None] = None",
            "depends_on: Union[str, Sequence[str], None] = None",
            "",
            "",
            "def upgrade() -> None:",
            "    # ### commands auto generated by Alembic - please adjust! ###",
            *up,
            "    # ### end Alembic commands ###",
            "",
            "",
            "def downgrade() -> None:",
            "    # ### commands auto generated by Alembic - please adjust! ###",
            *back,
            "    # ### end Alembic commands ###",
            "",
        ]
    )


# --------------------------------------------------------------------------- Django

DJ_FIELDS = {
    "string": "models.CharField(max_length=255{extra})",
    "integer": "models.IntegerField({extra0})",
    "bigint": "models.BigIntegerField({extra0})",
    "boolean": "models.BooleanField({extra0})",
    "timestamp": "models.DateTimeField({extra0})",
    "text": "models.TextField({extra0})",
    "decimal": "models.DecimalField(decimal_places=2, max_digits=12{extra})",
}


def dj_field(column: Column, default: str | None = None) -> str:
    options = []
    if default is not None:
        options.append(f"default={_py_default(default)}")
    if column.nullable:
        options += ["blank=True", "null=True"]
    extra = "".join(f", {o}" for o in options)
    return DJ_FIELDS[column.type].format(extra=extra, extra0=", ".join(options))


def _py_default(sql: str) -> str:
    return {"0": "0", "false": "False"}.get(sql, '"active"')


def model_of(table: str) -> str:
    return table.rstrip("s").replace("_", "")


def django_ops(op: Op, app: str) -> list[str]:
    col = op.column
    model = model_of(op.table)
    if op.kind == "create_table":
        lines = [
            "        migrations.CreateModel(",
            f'            name="{camel(op.table.rstrip("s"))}",',
            "            fields=[",
            "                (",
            '                    "id",',
            "                    models.BigAutoField(",
            "                        auto_created=True,",
            "                        primary_key=True,",
            "                        serialize=False,",
            '                        verbose_name="ID",',
            "                    ),",
            "                ),",
        ]
        for c in op.columns:
            lines.append(f'                ("{c.name}", {dj_field(c)}),')
        return [*lines, "            ],", "        ),"]
    assert col is not None
    if op.kind in ("add_column", "add_fk"):
        name = col.name.removesuffix("_id") if op.kind == "add_fk" else col.name
        field_text = dj_field(col, op.default)
        if op.kind == "add_fk":
            field_text = (
                "models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, "
                f'to="{app}.{model_of(op.new_name)}")'
            )
        lines = [
            "        migrations.AddField(",
            f'            model_name="{model}",',
            f'            name="{name}",',
            f"            field={field_text},",
        ]
        if op.default is not None:
            lines.append("            preserve_default=False,")
        return [*lines, "        ),"]
    if op.kind == "add_index":
        name = f"{app[:8]}_{model[:8]}_{col.name[:10]}_idx"
        return [
            "        migrations.AddIndex(",
            f'            model_name="{model}",',
            f'            index=models.Index(fields=["{col.name}"], name="{name}"),',
            "        ),",
        ]
    if op.kind == "change_type":
        return [
            "        migrations.AlterField(",
            f'            model_name="{model}",',
            f'            name="{col.name}",',
            f"            field={dj_field(col)},",
            "        ),",
        ]
    if op.kind == "rename_column":
        return [
            "        migrations.RenameField(",
            f'            model_name="{model}",',
            f'            old_name="{col.name}",',
            f'            new_name="{op.new_name}",',
            "        ),",
        ]
    if op.kind == "drop_column":
        return [
            "        migrations.RemoveField(",
            f'            model_name="{model}",',
            f'            name="{col.name}",',
            "        ),",
        ]
    return [
        "        migrations.RunSQL(",
        f'            "UPDATE {app}_{model} SET {col.name} = NULL WHERE {col.name} IS NOT NULL",',
        "            reverse_sql=migrations.RunSQL.noop,",
        "        ),",
    ]


def django_file(ops: list[Op], app: str, previous: str | None, when: datetime) -> str:
    body = [line for op in ops for line in django_ops(op, app)]
    imports = ["from django.db import migrations, models"]
    if any("django.db.models.deletion" in line for line in body):
        imports.insert(0, "import django.db.models.deletion")
    head = [f"# Generated by Django 5.0.6 on {when:%Y-%m-%d %H:%M}", "", *imports, "", ""]
    head += ["class Migration(migrations.Migration):", ""]
    if previous is None:
        head += ["    initial = True", "", "    dependencies = []", ""]
    else:
        head += ["    dependencies = [", f'        ("{app}", "{previous}"),', "    ]", ""]
    return "\n".join([*head, "    operations = [", *body, "    ]", ""])


# --------------------------------------------------------------------------- Rails

RB_TYPES = {
    "string": ":string",
    "integer": ":integer",
    "bigint": ":bigint",
    "boolean": ":boolean",
    "timestamp": ":datetime",
    "text": ":text",
    "decimal": ":decimal",
}


def _rb_default(sql: str | None) -> str:
    return (
        "" if sql is None else ", null: false, default: " + {"'active'": '"active"'}.get(sql, sql)
    )


def rails_up(op: Op) -> list[str]:
    col = op.column
    if op.kind == "create_table":
        lines = [f"    create_table :{op.table} do |t|"]
        for c in op.columns:
            null = "" if c.nullable else ", null: false"
            lines.append(f"      t.{RB_TYPES[c.type][1:]} :{c.name}{null}")
        return [*lines, "", "      t.timestamps", "    end"]
    assert col is not None
    if op.kind == "add_column":
        return [
            f"    add_column :{op.table}, :{col.name}, {RB_TYPES[col.type]}"
            f"{_rb_default(op.default)}"
        ]
    if op.kind == "add_index":
        return [f"    add_index :{op.table}, :{col.name}"]
    if op.kind == "add_fk":
        return [
            f"    add_column :{op.table}, :{col.name}, :bigint",
            f"    add_foreign_key :{op.table}, :{op.new_name}, column: :{col.name}",
        ]
    if op.kind == "change_type":
        return [f"    change_column :{op.table}, :{col.name}, {RB_TYPES[col.type]}"]
    if op.kind == "rename_column":
        return [f"    rename_column :{op.table}, :{col.name}, :{op.new_name}"]
    if op.kind == "drop_column":
        return [f"    remove_column :{op.table}, :{col.name}, {RB_TYPES[col.type]}"]
    return [
        "    execute <<~SQL",
        f"      UPDATE {op.table} SET {col.name} = NULL WHERE {col.name} IS NOT NULL",
        "    SQL",
    ]


def rails_down(op: Op) -> list[str]:
    col = op.column
    if op.kind == "create_table":
        return [f"    drop_table :{op.table}"]
    assert col is not None
    if op.kind in ("add_column", "add_fk"):
        return [f"    remove_column :{op.table}, :{col.name}"]
    if op.kind == "add_index":
        return [f"    remove_index :{op.table}, :{col.name}"]
    if op.kind == "change_type":
        return [f"    change_column :{op.table}, :{col.name}, {RB_TYPES[op.old_type]}"]
    if op.kind == "rename_column":
        return [f"    rename_column :{op.table}, :{op.new_name}, :{col.name}"]
    if op.kind == "drop_column":
        return [f"    add_column :{op.table}, :{col.name}, {RB_TYPES[col.type]}"]
    return []


def rails_file(ops: list[Op], class_name: str) -> str:
    """`def change` when every operation is reversible, else `def up` / `def down`."""
    head = f"class {class_name} < ActiveRecord::Migration[7.1]"
    up = [line for op in ops for line in rails_up(op)]
    if not any(op.kind in ("change_type", "data_update") for op in ops):
        return "\n".join([head, "  def change", *up, "  end", "end", ""])
    down = [line for op in reversed(ops) for line in rails_down(op)]
    return "\n".join([head, "  def up", *up, "  end", "", "  def down", *down, "  end", "end", ""])


# ------------------------------------------------------------ Laravel and Knex (grouped by table)

PHP_TYPES = {
    "string": "string",
    "integer": "integer",
    "bigint": "bigInteger",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "text": "text",
    "decimal": "decimal",
}


def _groups(ops: list[Op]) -> list[tuple[str, list[Op]]]:
    """Consecutive operations on one table share one `Schema::table` / `alterTable` block."""
    groups: list[tuple[str, list[Op]]] = []
    for op in ops:
        if op.kind in ("create_table", "data_update"):
            groups.append((op.kind, [op]))
        elif groups and groups[-1][0] == "alter" and groups[-1][1][0].table == op.table:
            groups[-1][1].append(op)
        else:
            groups.append(("alter", [op]))
    return groups


def _php_default(sql: str | None) -> str:
    return "" if sql is None else f"->default({sql})"


def laravel_line(op: Op, up: bool) -> list[str]:
    col = op.column
    assert col is not None
    t = "            $table->"
    if op.kind == "add_column":
        if not up:
            return [f"{t}dropColumn('{col.name}');"]
        null = "->nullable()" if col.nullable else ""
        return [f"{t}{PHP_TYPES[col.type]}('{col.name}'){null}{_php_default(op.default)};"]
    if op.kind == "add_index":
        return [f"{t}{'index' if up else 'dropIndex'}(['{col.name}']);"]
    if op.kind == "add_fk":
        if not up:
            return [f"{t}dropConstrainedForeignId('{col.name}');"]
        return [f"{t}foreignId('{col.name}')->nullable()->constrained('{op.new_name}');"]
    if op.kind == "change_type":
        kind = col.type if up else op.old_type
        return [f"{t}{PHP_TYPES[kind]}('{col.name}')->change();"]
    if op.kind == "rename_column":
        old, new = (col.name, op.new_name) if up else (op.new_name, col.name)
        return [f"{t}renameColumn('{old}', '{new}');"]
    if up:
        return [f"{t}dropColumn('{col.name}');"]
    return [f"{t}{PHP_TYPES[col.type]}('{col.name}')->nullable();"]


def laravel_block(kind: str, ops: list[Op], up: bool) -> list[str]:
    op = ops[0]
    if kind == "data_update":
        assert op.column is not None
        if not up:
            return []
        return [
            f"        DB::table('{op.table}')->whereNotNull('{op.column.name}')"
            f"->update(['{op.column.name}' => null]);"
        ]
    if kind == "create_table":
        if not up:
            return [f"        Schema::dropIfExists('{op.table}');"]
        lines = [f"        Schema::create('{op.table}', function (Blueprint $table) {{"]
        lines.append("            $table->id();")
        for c in op.columns:
            null = "->nullable()" if c.nullable else ""
            lines.append(f"            $table->{PHP_TYPES[c.type]}('{c.name}'){null};")
        return [*lines, "            $table->timestamps();", "        });"]
    body = [line for o in (ops if up else list(reversed(ops))) for line in laravel_line(o, up)]
    return [
        f"        Schema::table('{op.table}', function (Blueprint $table) {{",
        *body,
        "        });",
    ]


def laravel_file(ops: list[Op]) -> str:
    groups = _groups(ops)
    up = [line for kind, group in groups for line in [*laravel_block(kind, group, True), ""]]
    down = [
        line
        for kind, group in reversed(groups)
        for line in [*laravel_block(kind, group, False), ""]
    ]
    uses = ["use Illuminate\\Database\\Migrations\\Migration;"]
    uses.append("use Illuminate\\Database\\Schema\\Blueprint;")
    if any(op.kind == "data_update" for op in ops):
        uses.append("use Illuminate\\Support\\Facades\\DB;")
    uses.append("use Illuminate\\Support\\Facades\\Schema;")
    return "\n".join(
        [
            "<?php",
            "",
            *uses,
            "",
            "return new class extends Migration",
            "{",
            "    /**",
            "     * Run the migrations.",
            "     */",
            "    public function up(): void",
            "    {",
            *up[:-1],
            "    }",
            "",
            "    /**",
            "     * Reverse the migrations.",
            "     */",
            "    public function down(): void",
            "    {",
            *(down[:-1] or ["        //"]),
            "    }",
            "};",
            "",
        ]
    )


JS_TYPES = {
    "string": "string",
    "integer": "integer",
    "bigint": "bigInteger",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "text": "text",
    "decimal": "decimal",
}


def knex_line(op: Op, up: bool) -> list[str]:
    col = op.column
    assert col is not None
    t = "    table."
    if op.kind == "add_column":
        if not up:
            return [f"{t}dropColumn('{col.name}');"]
        rest = "" if col.nullable else f".notNullable().defaultTo({op.default})"
        return [f"{t}{JS_TYPES[col.type]}('{col.name}'){rest};"]
    if op.kind == "add_index":
        return [f"{t}{'index' if up else 'dropIndex'}(['{col.name}']);"]
    if op.kind == "add_fk":
        if not up:
            return [f"{t}dropForeign(['{col.name}']);", f"{t}dropColumn('{col.name}');"]
        return [f"{t}bigInteger('{col.name}').references('id').inTable('{op.new_name}');"]
    if op.kind == "change_type":
        kind = col.type if up else op.old_type
        return [f"{t}{JS_TYPES[kind]}('{col.name}').alter();"]
    if op.kind == "rename_column":
        old, new = (col.name, op.new_name) if up else (op.new_name, col.name)
        return [f"{t}renameColumn('{old}', '{new}');"]
    if up:
        return [f"{t}dropColumn('{col.name}');"]
    return [f"{t}{JS_TYPES[col.type]}('{col.name}');"]


def knex_block(kind: str, ops: list[Op], up: bool) -> list[str]:
    op = ops[0]
    if kind == "data_update":
        assert op.column is not None
        if not up:
            return []
        return [
            f"  await knex('{op.table}').whereNotNull('{op.column.name}')"
            f".update({{ {op.column.name}: null }});"
        ]
    if kind == "create_table":
        if not up:
            return [f"  await knex.schema.dropTableIfExists('{op.table}');"]
        lines = [f"  await knex.schema.createTable('{op.table}', function(table) {{"]
        lines.append("    table.bigIncrements('id');")
        for c in op.columns:
            rest = "" if c.nullable else ".notNullable()"
            lines.append(f"    table.{JS_TYPES[c.type]}('{c.name}'){rest};")
        return [*lines, "    table.timestamps(true, true);", "  });"]
    body = [line for o in (ops if up else list(reversed(ops))) for line in knex_line(o, up)]
    return [f"  await knex.schema.alterTable('{op.table}', function(table) {{", *body, "  });"]


def knex_file(ops: list[Op]) -> str:
    groups = _groups(ops)
    up = [line for kind, group in groups for line in knex_block(kind, group, True)]
    down = [line for kind, group in reversed(groups) for line in knex_block(kind, group, False)]
    doc = [
        "/**",
        ' * @param { import("knex").Knex } knex',
        " * @returns { Promise<void> }",
        " */",
    ]
    return "\n".join(
        [
            *doc,
            "exports.up = async function(knex) {",
            *up,
            "};",
            "",
            *doc,
            "exports.down = async function(knex) {",
            *down,
            "};",
            "",
        ]
    )
