"""The 10,000-file workspace: one repository holding a project of each of eight tools, every
migration written the way that tool's generator writes it (file names, headers, class names,
autogenerate layout), with realistic sizes (median about 40 lines, a few over 800).

Each project keeps a model of its schema while it writes, so a migration only renames, alters
or drops columns an earlier one created, the way a real history reads. Everything comes from
`random.Random(<tool>)`: the same arguments give byte-identical files."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.history import Schema, camel, describe, grow, sizes
from benchmarks.render import (
    alembic_file,
    django_file,
    knex_file,
    laravel_file,
    plain_sql,
    plain_sql_down,
    prisma_sql,
    rails_file,
)

SHARE = {
    "alembic": 1500,
    "django": 1500,
    "rails": 1500,
    "laravel": 1250,
    "knex": 1250,
    "prisma": 1000,
    "flyway": 1000,
    "golang-migrate": 1000,
}
"""Migration files per tool out of 10,000 (golang-migrate counts its .up and .down files)."""


ALEMBIC_INI = """\
# A generic, single database configuration.

[alembic]
# path to migration scripts
script_location = alembic

# template used to generate migration file names; The default value is %%(rev)s_%%(slug)s
prepend_sys_path = .

version_path_separator = os

sqlalchemy.url = postgresql+psycopg2://billing:billing@localhost:5432/billing

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %%(levelname)-5.5s [%%(name)s] %%(message)s
datefmt = %%H:%%M:%%S
"""

ALEMBIC_ENV = """\
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

MANAGE_PY = """\
#!/usr/bin/env python
\"\"\"Django's command-line utility for administrative tasks.\"\"\"
import os
import sys


def main():
    \"\"\"Run administrative tasks.\"\"\"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
"""

DJANGO_SETTINGS = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "django-insecure-benchmark"
DEBUG = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
{apps}]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "catalog",
    }}
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

RAILS_DATABASE_YML = """\
default: &default
  adapter: postgresql
  encoding: unicode
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

development:
  <<: *default
  database: store_development

production:
  <<: *default
  database: store_production
"""

LARAVEL_DATABASE_PHP = """\
<?php

return [

    'default' => env('DB_CONNECTION', 'pgsql'),

    'connections' => [
        'pgsql' => [
            'driver' => 'pgsql',
            'host' => env('DB_HOST', '127.0.0.1'),
            'database' => env('DB_DATABASE', 'shop'),
        ],
    ],
];
"""

KNEXFILE = """\
// Update with your config settings.

/**
 * @type { Object.<string, import("knex").Knex.Config> }
 */
module.exports = {
  development: {
    client: 'pg',
    connection: { host: '127.0.0.1', database: 'todos_dev', user: 'todos' },
    migrations: { directory: './db/migrations', tableName: 'knex_migrations' },
  },
};
"""

PRISMA_SCHEMA = """\
// This is your Prisma schema file,
// learn more about it in the docs: https://pris.ly/d/prisma-schema

generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Account {
  id    Int    @id @default(autoincrement())
  email String @unique
}
"""


@dataclass
class Generated:
    """What the generator wrote: every migration file with its line count, per tool."""

    root: Path
    files: dict[str, list[tuple[Path, int]]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return text.count("\n")


def _times(rng: random.Random, count: int) -> list[datetime]:
    when = datetime(2019, 1, 7, 9, 0, 0)
    result = []
    for _ in range(count):
        when += timedelta(hours=rng.randint(3, 40), minutes=rng.randint(0, 59))
        result.append(when)
    return result


def _scaled(share: int, total: int) -> int:
    return max(2, round(share * total / 10000))


def write_alembic(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("alembic")
    schema = Schema(rng)
    _write(base / "alembic.ini", ALEMBIC_INI)
    _write(base / "alembic" / "env.py", ALEMBIC_ENV)
    files = []
    down: str | None = None
    for index, (target, when) in enumerate(
        zip(sizes("alembic", count, rng), _times(rng, count), strict=True)
    ):
        rev = f"{rng.getrandbits(48):012x}"
        first = schema.initial(6) if index == 0 else []
        render = functools.partial(alembic_file, rev=rev, down=down, message="", when=when)
        ops, _ = grow(render, schema, target, first)
        message = describe(ops, index).replace("_", " ")
        path = base / "alembic" / "versions" / f"{rev}_{describe(ops, index)[:40]}.py"
        files.append((path, _write(path, alembic_file(ops, rev, down, message, when))))
        down = rev
    return files


def write_django(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("django")
    apps = [f"app_{name}" for name in ("catalog", "pricing", "stock", "media", "search", "reviews")]
    apps += [
        f"app_{name}" for name in ("orders", "returns", "vendors", "tags", "bundles", "promos")
    ]
    _write(base / "manage.py", MANAGE_PY)
    listed = "".join(f'    "{app}",\n' for app in apps)
    _write(base / "catalog" / "settings.py", DJANGO_SETTINGS.format(apps=listed))
    _write(base / "catalog" / "__init__.py", "")
    schemas = {app: Schema(random.Random(f"django-{app}")) for app in apps}
    previous: dict[str, str | None] = dict.fromkeys(apps)
    numbers = dict.fromkeys(apps, 0)
    files = []
    for index, (target, when) in enumerate(
        zip(sizes("django", count, rng), _times(rng, count), strict=True)
    ):
        app = apps[index % len(apps)]
        schema = schemas[app]
        numbers[app] += 1
        first = schema.initial(5) if previous[app] is None else []
        before = previous[app]
        render = functools.partial(django_file, app=app, previous=before, when=when)
        ops, text = grow(render, schema, target, first)
        name = "initial" if before is None else describe(ops, index)[:40]
        stem = f"{numbers[app]:04d}_{name}"
        folder = base / app / "migrations"
        if before is None:
            _write(base / app / "__init__.py", "")
            _write(folder / "__init__.py", "")
        files.append((folder / f"{stem}.py", _write(folder / f"{stem}.py", text)))
        previous[app] = stem
    return files


def write_rails(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("rails")
    schema = Schema(rng)
    _write(
        base / "Gemfile",
        'source "https://rubygems.org"\n\ngem "rails", "~> 7.1.3"\ngem "pg", "~> 1.1"\n',
    )
    _write(base / "config" / "database.yml", RAILS_DATABASE_YML)
    files = []
    for index, (target, when) in enumerate(
        zip(sizes("rails", count, rng), _times(rng, count), strict=True)
    ):
        first = schema.initial(6) if index == 0 else []
        ops, _ = grow(functools.partial(rails_file, class_name="Migration"), schema, target, first)
        snake = describe(ops, index)[:60]
        path = base / "db" / "migrate" / f"{when:%Y%m%d%H%M%S}_{snake}.rb"
        files.append((path, _write(path, rails_file(ops, camel(snake)))))
    return files


def write_laravel(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("laravel")
    schema = Schema(rng)
    _write(
        base / "artisan", "#!/usr/bin/env php\n<?php\n\ndefine('LARAVEL_START', microtime(true));\n"
    )
    composer = '{\n    "name": "acme/shop",\n    "require": {\n'
    composer += '        "laravel/framework": "^11.0"\n    }\n}\n'
    _write(base / "composer.json", composer)
    _write(
        base / ".env", "APP_NAME=Shop\nDB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_DATABASE=shop\n"
    )
    _write(base / "config" / "database.php", LARAVEL_DATABASE_PHP)
    files = []
    for index, (target, when) in enumerate(
        zip(sizes("laravel", count, rng), _times(rng, count), strict=True)
    ):
        first = schema.initial(6) if index == 0 else []
        ops, text = grow(laravel_file, schema, target, first)
        path = (
            base
            / "database"
            / "migrations"
            / f"{when:%Y_%m_%d_%H%M%S}_{describe(ops, index)[:60]}.php"
        )
        files.append((path, _write(path, text)))
    return files


def write_knex(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("knex")
    schema = Schema(rng)
    _write(base / "knexfile.js", KNEXFILE)
    package = (
        '{\n  "name": "todo-service",\n  "dependencies": { "knex": "^3.1.0", "pg": "^8.11.3" }\n}\n'
    )
    _write(base / "package.json", package)
    files = []
    for index, (target, when) in enumerate(
        zip(sizes("knex", count, rng), _times(rng, count), strict=True)
    ):
        first = schema.initial(6) if index == 0 else []
        ops, text = grow(knex_file, schema, target, first)
        path = base / "db" / "migrations" / f"{when:%Y%m%d%H%M%S}_{describe(ops, index)[:60]}.js"
        files.append((path, _write(path, text)))
    return files


def write_prisma(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("prisma")
    schema = Schema(rng)
    package = '{\n  "name": "web",\n  "devDependencies": { "prisma": "^5.8.0" }\n}\n'
    _write(base / "package.json", package)
    _write(base / "prisma" / "schema.prisma", PRISMA_SCHEMA)
    lock = "# Please do not edit this file manually\n"
    lock += "# It should be added in your version-control system (i.e. Git)\n"
    lock += 'provider = "postgresql"\n'
    _write(base / "prisma" / "migrations" / "migration_lock.toml", lock)
    files = []
    for index, (target, when) in enumerate(
        zip(sizes("prisma", count, rng), _times(rng, count), strict=True)
    ):
        first = schema.initial(6) if index == 0 else []
        ops, text = grow(prisma_sql, schema, target, first)
        name = "init" if index == 0 else describe(ops, index)[:50]
        path = base / "prisma" / "migrations" / f"{when:%Y%m%d%H%M%S}_{name}" / "migration.sql"
        files.append((path, _write(path, text)))
    return files


def write_flyway(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("flyway")
    schema = Schema(rng)
    conf = "flyway.url=jdbc:postgresql://localhost:5432/reporting\nflyway.user=reporting\nflyway.locations=filesystem:sql\n"
    _write(base / "flyway.conf", conf)
    files = []
    for index, target in enumerate(sizes("flyway", count, rng)):
        first = schema.initial(6) if index == 0 else []
        ops, text = grow(plain_sql, schema, target, first)
        path = base / "sql" / f"V{index + 1}__{describe(ops, index)[:60]}.sql"
        files.append((path, _write(path, text)))
    return files


def write_golang_migrate(base: Path, count: int) -> list[tuple[Path, int]]:
    rng = random.Random("golang-migrate")
    schema = Schema(rng)
    gomod = "module example.com/ledger\n\ngo 1.22\n\n"
    gomod += "require github.com/golang-migrate/migrate/v4 v4.17.0\n"
    _write(base / "go.mod", gomod)
    files = []
    pairs = max(1, count // 2)
    for index, target in enumerate(sizes("golang-migrate", pairs, rng)):
        first = schema.initial(6) if index == 0 else []
        ops, text = grow(plain_sql, schema, target, first)
        stem = f"{index + 1:06d}_{describe(ops, index)[:60]}"
        folder = base / "db" / "migrations"
        files.append((folder / f"{stem}.up.sql", _write(folder / f"{stem}.up.sql", text)))
        down = plain_sql_down(ops)
        files.append((folder / f"{stem}.down.sql", _write(folder / f"{stem}.down.sql", down)))
    return files


WRITERS: dict[str, tuple[str, Callable[[Path, int], list[tuple[Path, int]]]]] = {
    "alembic": ("services/billing", write_alembic),
    "django": ("services/catalog", write_django),
    "rails": ("services/store", write_rails),
    "laravel": ("services/shop", write_laravel),
    "knex": ("services/todo", write_knex),
    "prisma": ("web", write_prisma),
    "flyway": ("services/reporting", write_flyway),
    "golang-migrate": ("services/ledger", write_golang_migrate),
}


def write_workspace(root: Path, total: int = 10000) -> Generated:
    """Write the monorepo under `root` (which must not exist yet or be empty)."""
    generated = Generated(root)
    _write(root / "README.md", "# Monorepo\n\nEight services, each with its own migrations.\n")
    for tool, (folder, writer) in WRITERS.items():
        generated.files[tool] = writer(root / folder, _scaled(SHARE[tool], total))
    return generated
