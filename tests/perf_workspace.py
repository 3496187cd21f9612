"""A generated workspace of many migration projects, for measuring and testing `check` at scale.

Eight projects (Alembic, Django, Rails, Laravel, Knex, Prisma, Flyway, golang-migrate) built on
the detection fixtures' skeletons, each holding generated migrations written the way the tool's
generator writes them, mixing safe and unsafe operations. Deterministic for a given count.

    .venv/bin/python tests/perf_workspace.py /tmp/ws10k 10000
"""

from __future__ import annotations

import random
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

DETECT = Path(__file__).parent / "fixtures" / "detect"

SKELETONS = {
    "alembic": ("alembic_basic", "alembic/versions"),
    "django": ("django_basic", ""),
    "rails": ("rails_app", "db/migrate"),
    "laravel": ("laravel_app", "database/migrations"),
    "knex": ("knex_app", "db/migrations"),
    "prisma": ("prisma_app", "prisma/migrations"),
    "flyway": ("flyway_conf", "sql"),
    "golang-migrate": ("golang_migrate_app", "db/migrations"),
}
DJANGO_APPS = ("blog", "shop")
SAFE_SHARE = 0.8

TABLES = ("users", "orders", "invoices", "events", "products", "accounts", "payments", "tags")
COLUMNS = ("email", "status", "owner_id", "amount", "note", "kind", "region", "score")


def _ops(rng: random.Random, median: int) -> int:
    """Operations per file: about `median` (about 40 lines), one file in 100 over 800 lines."""
    if rng.random() < 0.01:
        return median * rng.randint(20, 40)
    return max(1, round(rng.lognormvariate(0, 0.6) * median))


def _pick(rng: random.Random, safe: tuple[str, ...], unsafe: tuple[str, ...]) -> str:
    """Four operations in five are safe, as in a real project's history."""
    return rng.choice(safe if rng.random() < SAFE_SHARE else unsafe)


def _sql_op(rng: random.Random, i: int) -> str:
    t, c = rng.choice(TABLES), rng.choice(COLUMNS)
    return _pick(
        rng,
        (
            f"ALTER TABLE {t} ADD COLUMN {c}_{i} text;",
            f"CREATE TABLE IF NOT EXISTS t_{i} (\n    id bigserial PRIMARY KEY,\n"
            f"    {c} text NOT NULL,\n    created_at timestamptz NOT NULL DEFAULT now()\n);",
            f"COMMENT ON COLUMN {t}.{c} IS 'step {i}';",
        ),
        (
            f"ALTER TABLE {t} ADD COLUMN {c}_{i} integer DEFAULT 0 NOT NULL;",
            f"CREATE INDEX idx_{t}_{c}_{i} ON {t} ({c});",
            f"CREATE INDEX CONCURRENTLY idx_{t}_{c}_{i}_c ON {t} ({c});",
            f"ALTER TABLE {t} ADD CONSTRAINT fk_{t}_{i} FOREIGN KEY ({c}) REFERENCES users (id);",
            f"ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint;",
            f"ALTER TABLE {t} RENAME COLUMN {c} TO {c}_{i};",
            f"ALTER TABLE {t} DROP COLUMN IF EXISTS {c}_{i};",
            f"UPDATE {t} SET {c} = NULL WHERE id < {i};",
        ),
    )


def _alembic(rng: random.Random, n: int, prev: str | None) -> tuple[str, str]:
    rev = f"{rng.getrandbits(48):012x}"
    body = []
    for i in range(_ops(rng, 10)):
        t, c = rng.choice(TABLES), rng.choice(COLUMNS)
        body.append(
            _pick(
                rng,
                (
                    f'    op.add_column("{t}", sa.Column("{c}_{i}", sa.Text(), nullable=True))',
                    f'    op.create_table(\n        "t_{n}_{i}",\n'
                    '        sa.Column("id", sa.Integer(), nullable=False),\n'
                    f'        sa.Column("{c}", sa.Text(), nullable=True),\n'
                    '        sa.PrimaryKeyConstraint("id"),\n    )',
                ),
                (
                    f'    op.add_column("{t}", sa.Column("{c}_{i}", sa.Integer(), nullable=False))',
                    f'    op.create_index("ix_{t}_{c}_{i}", "{t}", ["{c}"])',
                    f'    op.drop_column("{t}", "{c}")',
                    f'    op.alter_column("{t}", "{c}", type_=sa.BigInteger())',
                    f'    op.create_table(\n        "t_{n}_{i}",\n'
                    '        sa.Column("id", sa.Integer(), nullable=False),\n'
                    f'        sa.Column("{c}", sa.Text(), nullable=True),\n'
                    '        sa.PrimaryKeyConstraint("id"),\n    )',
                    f'    op.execute("UPDATE {t} SET {c} = 0")',
                ),
            )
        )
    down = repr(prev) if prev else "None"
    text = (
        f'"""step {n}\n\nRevision ID: {rev}\nRevises: {prev or ""}\n'
        'Create Date: 2024-01-09 08:30:00.000000\n\n"""\n'
        "from typing import Sequence, Union\n\n"
        "from alembic import op\nimport sqlalchemy as sa\n\n\n"
        f'revision: str = "{rev}"\ndown_revision: Union[str, None] = {down}\n'
        "branch_labels: Union[str, Sequence[str], None] = None\n"
        "depends_on: Union[str, Sequence[str], None] = None\n\n\n"
        "def upgrade() -> None:\n" + "\n".join(body) + "\n\n\ndef downgrade() -> None:\n"
        "    pass\n"
    )
    return f"{rev}_step_{n}.py", text


def _django(rng: random.Random, n: int, app: str) -> str:
    body = []
    for i in range(_ops(rng, 7)):
        model, c = rng.choice(("product", "order", "customer")), rng.choice(COLUMNS)
        body.append(
            _pick(
                rng,
                (
                    f'        migrations.AddField(\n            model_name="{model}",\n'
                    f'            name="{c}_{n}_{i}",\n'
                    "            field=models.IntegerField(null=True),\n        ),",
                    f'        migrations.AlterModelOptions(\n            name="{model}",\n'
                    f'            options={{"ordering": ["{c}"]}},\n        ),',
                ),
                (
                    f'        migrations.AddField(\n            model_name="{model}",\n'
                    f'            name="{c}_{n}_{i}",\n'
                    "            field=models.IntegerField(default=0),\n        ),",
                    f'        migrations.RemoveField(\n            model_name="{model}",\n'
                    f'            name="{c}",\n        ),',
                    f'        migrations.AlterField(\n            model_name="{model}",\n'
                    f'            name="{c}",\n'
                    "            field=models.CharField(max_length=64, null=True),\n        ),",
                    f'        migrations.AddIndex(\n            model_name="{model}",\n'
                    f'            index=models.Index(fields=["{c}"], name="{model}_{c}_{n}_{i}"),'
                    "\n        ),",
                    f'        migrations.RunSQL("UPDATE {app}_{model} SET {c} = 0"),',
                ),
            )
        )
    create = ""
    if n == 1:
        create = (
            "        migrations.CreateModel(\n"
            '            name="Product",\n            fields=[\n'
            '                ("id", models.BigAutoField(primary_key=True, serialize=False)),\n'
            '                ("name", models.CharField(max_length=200)),\n            ],\n'
            "        ),\n"
        )
    deps = f'        ("{app}", "{n - 1:04d}_auto"),\n' if n > 1 else ""
    return (
        "# Generated by Django 5.0.1 on 2024-01-12 15:30\n\n"
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n\n"
        f"    dependencies = [\n{deps}    ]\n\n"
        f"    operations = [\n{create}" + "\n".join(body) + "\n    ]\n"
    )


def _rails(rng: random.Random, n: int) -> str:
    body = []
    for i in range(_ops(rng, 24)):
        t, c = rng.choice(TABLES), rng.choice(COLUMNS)
        body.append(
            _pick(
                rng,
                (
                    f"    add_column :{t}, :{c}_{i}, :string",
                    f"    create_table :t_{n}_{i} do |t|\n      t.string :{c}\n\n"
                    "      t.timestamps\n    end",
                ),
                (
                    f"    add_column :{t}, :{c}_{i}, :integer, default: 0, null: false",
                    f"    add_index :{t}, :{c}",
                    f"    remove_column :{t}, :{c}, :string",
                    f"    change_column :{t}, :{c}, :bigint",
                    f"    rename_column :{t}, :{c}, :{c}_{i}",
                    f"    create_table :t_{n}_{i} do |t|\n      t.string :{c}, null: false\n\n"
                    "      t.timestamps\n    end",
                    f"    add_foreign_key :{t}, :users",
                ),
            )
        )
    return (
        f"class Step{n} < ActiveRecord::Migration[7.1]\n  def change\n"
        + "\n".join(body)
        + "\n  end\nend\n"
    )


def _laravel(rng: random.Random, n: int) -> str:
    t = rng.choice(TABLES)
    body = []
    for i in range(_ops(rng, 20)):
        c = rng.choice(COLUMNS)
        body.append(
            _pick(
                rng,
                (
                    f"            $table->string('{c}_{i}')->nullable()->after('id');",
                    f"            $table->text('{c}_{i}_note')->nullable();",
                ),
                (
                    f"            $table->integer('{c}_{i}')->default(0);",
                    f"            $table->index('{c}');",
                    f"            $table->dropColumn('{c}');",
                    f"            $table->renameColumn('{c}', '{c}_{i}');",
                    f"            $table->foreign('{c}')->references('id')->on('users');",
                ),
            )
        )
    return (
        "<?php\n\nuse Illuminate\\Database\\Migrations\\Migration;\n"
        "use Illuminate\\Database\\Schema\\Blueprint;\n"
        "use Illuminate\\Support\\Facades\\Schema;\n\n"
        "return new class extends Migration\n{\n    public function up(): void\n    {\n"
        f"        Schema::table('{t}', function (Blueprint $table) {{\n"
        + "\n".join(body)
        + "\n        });\n    }\n\n    public function down(): void\n    {\n"
        f"        Schema::table('{t}', function (Blueprint $table) {{\n"
        "            //\n        });\n    }\n};\n"
    )


def _knex(rng: random.Random, n: int) -> str:
    t = rng.choice(TABLES)
    body = []
    for i in range(_ops(rng, 30)):
        c = rng.choice(COLUMNS)
        body.append(
            _pick(
                rng,
                (
                    f"    table.integer('{c}_{i}').nullable();",
                    f"    table.string('{c}_{i}_label');",
                ),
                (
                    f"    table.integer('{c}_{i}').notNullable().defaultTo(0);",
                    f"    table.index(['{c}']);",
                    f"    table.dropColumn('{c}');",
                    f"    table.renameColumn('{c}', '{c}_{i}');",
                    f"    table.integer('{c}_{i}_id').references('users.id');",
                ),
            )
        )
    return (
        "exports.up = async (knex) => {\n"
        f"  await knex.schema.alterTable('{t}', (table) => {{\n"
        + "\n".join(body)
        + "\n  });\n};\n\nexports.down = async (knex) => {\n"
        f"  await knex.schema.alterTable('{t}', (table) => {{\n  }});\n}};\n"
    )


def _sql(rng: random.Random) -> str:
    lines = []
    for i in range(_ops(rng, 13)):
        lines.append(f"-- step {i}\n" + _sql_op(rng, i))
    return "\n\n".join(lines) + "\n"


def _stamp(n: int) -> str:
    return f"2024{1 + n // 40000 % 12:02d}{1 + n // 1000 % 28:02d}{n % 1000:06d}"


def generate(root: Path, count: int, seed: int = 7) -> list[Path]:
    """Write `count` migration files under `root` (removed first); the project folders."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    per = max(1, count // len(SKELETONS))
    projects = []
    for tool, (fixture, migrations) in SKELETONS.items():
        project = root / tool
        shutil.copytree(DETECT / fixture, project)
        projects.append(project)
        writers[tool](rng, project, project / migrations, per)
    return projects


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _clear(folder: Path, keep: tuple[str, ...] = ()) -> None:
    for old in list(folder.iterdir()):
        if old.name in keep:
            continue
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def _gen_alembic(rng: random.Random, project: Path, folder: Path, per: int) -> None:
    _clear(folder, ("__init__.py",))
    prev = None
    for n in range(per):
        name, text = _alembic(rng, n, prev)
        prev = name.split("_", 1)[0]
        _write(folder / name, text)


def _gen_django(rng: random.Random, project: Path, folder: Path, per: int) -> None:
    for app in DJANGO_APPS:
        migrations = project / app / "migrations"
        _clear(migrations, ("__init__.py",))
        for n in range(1, per // len(DJANGO_APPS) + 1):
            _write(migrations / f"{n:04d}_auto.py", _django(rng, n, app))


def _gen_each(
    make: Callable[[random.Random, int], str], name: Callable[[int], str]
) -> Callable[[random.Random, Path, Path, int], None]:
    def gen(rng: random.Random, project: Path, folder: Path, per: int) -> None:
        _clear(folder, ("migration_lock.toml",))
        for n in range(per):
            _write(folder / name(n), make(rng, n))

    return gen


def _gen_golang(rng: random.Random, project: Path, folder: Path, per: int) -> None:
    _clear(folder)
    for n in range(per // 2):
        _write(folder / f"{n + 1:06d}_step_{n}.up.sql", _sql(rng))
        t = rng.choice(TABLES)
        _write(folder / f"{n + 1:06d}_step_{n}.down.sql", f"DROP TABLE IF EXISTS t_{n}_{t};\n")


writers: dict[str, Callable[[random.Random, Path, Path, int], None]] = {
    "alembic": _gen_alembic,
    "django": _gen_django,
    "rails": _gen_each(_rails, lambda n: f"{_stamp(n)}_step_{n}.rb"),
    "laravel": _gen_each(
        _laravel, lambda n: f"2024_01_01_{n:06d}_step_{n}_table.php".replace("__", "_")
    ),
    "knex": _gen_each(_knex, lambda n: f"{_stamp(n)}_step_{n}.js"),
    "prisma": _gen_each(lambda rng, n: _sql(rng), lambda n: f"{_stamp(n)}_step_{n}/migration.sql"),
    "flyway": _gen_each(lambda rng, n: _sql(rng), lambda n: f"V{n + 1}__step_{n}.sql"),
    "golang-migrate": _gen_golang,
}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    generate(target, total)
    files = [p for p in target.rglob("*") if p.is_file()]
    print(f"{target}: {len(files)} files")
