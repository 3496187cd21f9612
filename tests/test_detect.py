"""Project detection: tool, root, dialect and migration folders from workspace markers."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from migration_lsp.project import dialect as dl
from migration_lsp.project.detect import Project, detect_for_file, detect_projects
from migration_lsp.project.markers import js_pairs, js_path_value

FIXTURES = Path(__file__).parent / "fixtures" / "detect"


def only(name: str) -> Project:
    projects = detect_projects(FIXTURES / name)
    assert len(projects) == 1, [(p.tool, str(p.root)) for p in projects]
    return projects[0]


def rel(paths: list[Path], base: Path) -> list[str]:
    return [p.relative_to(base).as_posix() for p in paths]


# (fixture, tool, flavor, dialect, dialect_source, migration dirs, migration files)
CASES: list[tuple[str, str, str | None, str | None, str | None, list[str], list[str]]] = [
    (
        "alembic_basic",
        "alembic",
        None,
        "postgresql",
        "alembic.ini sqlalchemy.url",
        ["alembic/versions"],
        [
            "alembic/versions/3f2a1b9c4d5e_add_users.py",
            "alembic/versions/7c1d2e3f4a5b_add_orders.py",
        ],
    ),
    (
        "alembic_multi_versions",
        "alembic",
        None,
        "mysql",
        "inferred from migrations",
        ["migrations/versions", "plugins/billing/versions"],
        [
            "migrations/versions/a1b2c3d4e5f6_create_accounts.py",
            "plugins/billing/versions/b7e8f9a0b1c2_create_invoices.py",
        ],
    ),
    (
        "flask_migrate",
        "alembic",
        "flask-migrate",
        "sqlite",
        "config.py SQLALCHEMY_DATABASE_URI",
        ["migrations/versions"],
        ["migrations/versions/1a2b3c4d5e6f_posts_table.py"],
    ),
    (
        "django_basic",
        "django",
        None,
        "postgresql",
        "mysite/settings.py DATABASES ENGINE",
        ["blog/migrations", "shop/migrations"],
        [
            "blog/migrations/0001_initial.py",
            "shop/migrations/0001_initial.py",
            "shop/migrations/0002_product_sku.py",
            "shop/migrations/backfill_skus.py",
        ],
    ),
    (
        "django_settings_package",
        "django",
        None,
        "mysql",
        "config/settings/base.py DATABASES URL",
        ["orders/migrations"],
        ["orders/migrations/0001_initial.py"],
    ),
    (
        "django_reusable_app",
        "django",
        None,
        "postgresql",
        "inferred from migrations",
        ["polls/migrations"],
        ["polls/migrations/0001_initial.py"],
    ),
    (
        "prisma_app",
        "prisma",
        None,
        "postgresql",
        "prisma/schema.prisma datasource provider",
        ["prisma/migrations"],
        [
            "prisma/migrations/20240105120000_init/migration.sql",
            "prisma/migrations/20240110093000_add_posts/migration.sql",
        ],
    ),
    (
        "rails_app",
        "rails",
        None,
        "postgresql",
        "config/database.yml adapter",
        ["db/migrate"],
        [
            "db/migrate/20240105120000_create_users.rb",
            "db/migrate/20240106090000_add_email_index_to_users.rb",
        ],
    ),
    (
        "laravel_app",
        "laravel",
        None,
        "mysql",
        ".env DB_CONNECTION",
        ["database/migrations"],
        [
            "database/migrations/0001_01_01_000000_create_users_table.php",
            "database/migrations/2024_01_05_120000_add_phone_to_users_table.php",
        ],
    ),
    (
        "flyway_conf",
        "flyway",
        None,
        "postgresql",
        "flyway.conf flyway.url",
        ["sql"],
        [
            "sql/R__daily_event_counts.sql",
            "sql/V1.1__add_events_kind_index.sql",
            "sql/V1__create_events.sql",
        ],
    ),
    (
        "flyway_spring",
        "flyway",
        None,
        "mysql",
        "application.yml spring.datasource.url",
        ["src/main/resources/db/migration"],
        [
            "src/main/resources/db/migration/V1__create_products.sql",
            "src/main/resources/db/migration/V2__add_products_sku.sql",
        ],
    ),
    (
        "flyway_toml",
        "flyway",
        None,
        "mssql",
        "flyway.toml url",
        ["migrations"],
        ["migrations/U001__Create_employees.sql", "migrations/V001__Create_employees.sql"],
    ),
    (
        "liquibase_app",
        "liquibase",
        None,
        "oracle",
        "liquibase.properties url",
        ["changelog"],
        [
            "changelog/changes/001-create-departments.xml",
            "changelog/changes/002-departments-location.sql",
            "changelog/db.changelog-master.xml",
        ],
    ),
    (
        "knex_app",
        "knex",
        None,
        "postgresql",
        "knexfile.js client",
        ["db/migrations"],
        [
            "db/migrations/20240105120000_create_todos.js",
            "db/migrations/20240107083000_add_todos_owner.js",
        ],
    ),
    (
        "typeorm_app",
        "typeorm",
        None,
        "postgresql",
        "src/data-source.ts type",
        ["src/migrations"],
        [
            "src/migrations/1704456000000-CreateOrders.ts",
            "src/migrations/1704542400000-AddOrderReferenceIndex.ts",
        ],
    ),
    (
        "sequelize_app",
        "sequelize",
        None,
        "mysql",
        "config/database.json dialect",
        ["db/migrations"],
        ["db/migrations/20240105120000-create-member.js"],
    ),
    (
        "dbmate_app",
        "dbmate",
        None,
        "postgresql",
        ".env DATABASE_URL",
        ["db/migrations"],
        [
            "db/migrations/20240105120000_create_users.sql",
            "db/migrations/20240108094500_add_users_email_index.sql",
        ],
    ),
    (
        "goose_app",
        "goose",
        None,
        "sqlite",
        ".env GOOSE_DRIVER",
        ["migrations"],
        ["migrations/20240105120000_create_notes.sql"],
    ),
    (
        "golang_migrate_app",
        "golang-migrate",
        None,
        "mysql",
        "inferred from migrations",
        ["db/migrations"],
        [
            "db/migrations/000001_create_accounts.down.sql",
            "db/migrations/000001_create_accounts.up.sql",
            "db/migrations/000002_add_accounts_owner_index.down.sql",
            "db/migrations/000002_add_accounts_owner_index.up.sql",
        ],
    ),
    (
        "supabase_app",
        "sql",
        "supabase",
        "postgresql",
        "supabase (always PostgreSQL)",
        ["supabase/migrations"],
        ["supabase/migrations/20240105120000_create_profiles.sql"],
    ),
    (
        "sqitch_app",
        "sql",
        "sqitch",
        "postgresql",
        "sqitch.conf core.engine",
        ["deploy", "revert"],
        ["deploy/appschema.sql", "deploy/users.sql", "revert/appschema.sql", "revert/users.sql"],
    ),
    (
        "generic_sql",
        "sql",
        None,
        "mssql",
        "inferred from migrations",
        ["sql"],
        ["sql/001_create_stock.sql", "sql/002_add_stock_quantity.sql"],
    ),
]


@pytest.mark.parametrize(
    ("name", "tool", "flavor", "dialect", "source", "dirs", "files"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_fixture_workspace(
    name: str,
    tool: str,
    flavor: str | None,
    dialect: str | None,
    source: str | None,
    dirs: list[str],
    files: list[str],
) -> None:
    base = FIXTURES / name
    project = only(name)
    assert project.tool == tool
    assert project.flavor == flavor
    assert project.root == base
    assert project.dialect == dialect
    assert project.dialect_source == source
    assert rel(project.migration_dirs, base) == dirs
    assert rel(project.migration_files(), base) == files
    for f in project.migration_files():
        assert project.is_migration_file(f), f
    assert isinstance(project.settings["config_files"], list)
    for config in project.settings["config_files"]:
        assert Path(config).is_file()


def test_no_migrations() -> None:
    assert detect_projects(FIXTURES / "no_migrations") == []


def test_missing_path_and_file_argument(tmp_path: Path) -> None:
    assert detect_projects(tmp_path / "does-not-exist") == []
    projects = detect_projects(FIXTURES / "rails_app" / "Gemfile")
    assert [p.tool for p in projects] == ["rails"]


# ----------------------------------------------------------------------- settings


def test_alembic_env_settings() -> None:
    basic = only("alembic_basic")
    assert basic.settings["transaction_per_migration"] is True
    assert "transactional_ddl" not in basic.settings
    assert basic.settings["script_location"] == str(FIXTURES / "alembic_basic" / "alembic")
    assert str(FIXTURES / "alembic_basic" / "alembic.ini") in basic.settings["config_files"]

    multi = only("alembic_multi_versions")
    assert multi.settings["transactional_ddl"] is False
    assert multi.settings["recursive_version_locations"] is False

    flask = only("flask_migrate")
    assert flask.settings["render_as_batch"] is True


def test_flyway_settings() -> None:
    conf = only("flyway_conf")
    assert conf.settings["executeInTransaction"] is False
    assert conf.settings["mixed"] is True
    assert conf.settings["config_files"] == [str(FIXTURES / "flyway_conf" / "flyway.conf")]

    toml = only("flyway_toml")
    assert toml.settings["mixed"] is True
    assert toml.settings["executeInTransaction"] is True

    spring = only("flyway_spring")
    assert "mixed" not in spring.settings  # not configured: Flyway's default applies


def test_tool_specific_settings() -> None:
    django = only("django_basic")
    assert django.settings["settings_module"] == "mysite.settings"
    assert django.settings["apps"] == ["blog", "shop"]
    assert only("prisma_app").settings["provider"] == "postgresql"
    assert only("laravel_app").settings["connection"] == "mysql"
    assert only("rails_app").settings["adapter"] == "postgresql"
    sqitch = only("sqitch_app")
    assert sqitch.settings["engine"] == "pg"
    liquibase = only("liquibase_app")
    master = FIXTURES / "liquibase_app" / "changelog" / "db.changelog-master.xml"
    assert liquibase.settings["changelog_file"] == str(master)


def test_to_dict_is_json_ready() -> None:
    import json

    data = only("knex_app").to_dict()
    assert json.loads(json.dumps(data))["tool"] == "knex"


# ----------------------------------------------------------------------- never executes code


def test_django_settings_are_parsed_not_executed() -> None:
    settings = FIXTURES / "django_basic" / "mysite" / "settings.py"
    head = settings.read_text().split("DATABASES", 1)[0]
    # the fixture would crash (and exit) if anything imported it
    assert "import this_module_does_not_exist_anywhere" in head
    assert 'raise SystemExit("settings.py was executed")' in head
    project = only("django_basic")
    assert project.dialect == "postgresql"
    assert project.dialect_source == "mysite/settings.py DATABASES ENGINE"
    assert "this_module_does_not_exist_anywhere" not in sys.modules
    assert "mysite" not in sys.modules


def test_django_settings_package_follows_star_imports() -> None:
    project = only("django_settings_package")
    assert project.settings["settings_module"] == "config.settings.local"
    base = FIXTURES / "django_settings_package" / "config" / "settings" / "base.py"
    assert str(base) in project.settings["config_files"]


# ----------------------------------------------------------------------- monorepo


def test_monorepo_holds_several_projects() -> None:
    base = FIXTURES / "monorepo"
    projects = detect_projects(base)
    summary = [
        (p.root.relative_to(base).as_posix(), p.tool, p.dialect, rel(p.migration_dirs, base))
        for p in projects
    ]
    assert summary == [
        ("infra", "golang-migrate", "postgresql", ["infra/db/migrations"]),
        ("services/billing", "alembic", "mysql", ["services/billing/migrations/versions"]),
        ("services/catalog", "django", "sqlite", ["services/catalog/products/migrations"]),
        ("web", "prisma", "postgresql", ["web/prisma/migrations"]),  # cockroachdb
    ]
    # vendored packages and hidden folders are never looked at
    assert all("vendor" not in p.root.parts and ".cache" not in p.root.parts for p in projects)
    assert projects == sorted(projects, key=lambda p: (p.root, p.tool))
    by_tool = {p.tool: p for p in projects}
    assert by_tool["golang-migrate"].dialect_source == ".env DATABASE_URL"


def test_detect_for_file_in_workspace() -> None:
    base = FIXTURES / "monorepo"
    target = base / "services" / "catalog" / "products" / "migrations" / "0002_new.py"
    project = detect_for_file(target, base)  # need not exist yet
    assert project is not None
    assert (project.tool, project.root) == ("django", base / "services" / "catalog")
    prisma_file = base / "web" / "prisma" / "migrations" / "20240301090000_init" / "migration.sql"
    found = detect_for_file(prisma_file, base)
    assert found is not None and found.tool == "prisma"
    assert detect_for_file(base / "README.md", base) is None


def test_detect_for_file_without_workspace(tmp_path: Path) -> None:
    app = tmp_path / "rails_app"
    shutil.copytree(FIXTURES / "rails_app", app)
    target = app / "db" / "migrate" / "20240105120000_create_users.rb"
    project = detect_for_file(target)
    assert project is not None
    assert (project.tool, project.root, project.dialect) == ("rails", app, "postgresql")
    unsaved = app / "db" / "migrate" / "20240301000000_add_name_to_users.rb"
    found = detect_for_file(unsaved)
    assert found is not None and found.root == app
    assert detect_for_file(app / "Gemfile") is None


# ----------------------------------------------------------------------- is_migration_file


@pytest.mark.parametrize(
    ("name", "path", "expected"),
    [
        ("alembic_basic", "alembic/versions/9e8d7c6b5a4f_new.py", True),
        ("alembic_basic", "alembic/versions/__init__.py", False),
        ("alembic_basic", "alembic/env.py", False),
        ("alembic_basic", "alembic/versions/notes.txt", False),
        ("alembic_multi_versions", "plugins/billing/versions/c0ffee000000_x.py", True),
        ("django_basic", "shop/migrations/0003_product_price.py", True),
        ("django_basic", "newapp/migrations/0001_initial.py", True),
        ("django_basic", "shop/migrations/__init__.py", False),
        ("django_basic", "shop/models.py", False),
        ("prisma_app", "prisma/migrations/20240201000000_x/migration.sql", True),
        ("prisma_app", "prisma/migrations/migration_lock.toml", False),
        ("prisma_app", "prisma/schema.prisma", False),
        ("rails_app", "db/migrate/20240301000000_add_name.rb", True),
        ("rails_app", "db/schema.rb", False),
        ("laravel_app", "database/migrations/2024_03_01_000000_x.php", True),
        ("laravel_app", "database/seeders/DatabaseSeeder.php", False),
        ("flyway_conf", "sql/V2__add_column.sql", True),
        ("flyway_conf", "sql/archive/V0_9__old.sql", True),
        ("flyway_conf", "sql/R__views.sql", True),
        ("flyway_conf", "sql/README.md", False),
        ("flyway_conf", "sql/notes.sql", False),
        ("liquibase_app", "changelog/db.changelog-master.xml", True),
        ("liquibase_app", "changelog/changes/003-more.yaml", True),
        ("liquibase_app", "liquibase.properties", False),
        ("knex_app", "db/migrations/20240301000000_x.ts", True),
        ("knex_app", "db/seeds/01_todos.js", False),
        ("typeorm_app", "src/migrations/1709251200000-X.ts", True),
        ("typeorm_app", "src/migrations/types.d.ts", False),
        ("typeorm_app", "src/entity/Order.ts", False),
        ("golang_migrate_app", "db/migrations/000003_x.up.sql", True),
        ("golang_migrate_app", "db/migrations/000003_x.sql", False),
        ("goose_app", "migrations/20240301000000_x.sql", True),
        ("goose_app", "main.go", False),
        ("supabase_app", "supabase/migrations/20240301000000_x.sql", True),
        ("supabase_app", "supabase/seed.sql", False),
        ("sqitch_app", "deploy/widgets.sql", True),
        ("sqitch_app", "verify/widgets.sql", False),
        ("generic_sql", "sql/003_x.sql", True),
        ("generic_sql", "scripts/report.sql", False),
    ],
)
def test_is_migration_file(name: str, path: str, expected: bool) -> None:
    project = only(name)
    assert project.is_migration_file(FIXTURES / name / path) is expected


def test_is_migration_file_accepts_relative_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    project = only("rails_app")
    monkeypatch.chdir(FIXTURES / "rails_app")
    assert project.is_migration_file(Path("db/migrate/20240301000000_add_name.rb"))


# ----------------------------------------------------------------------- robustness


def test_broken_config_files_do_not_crash() -> None:
    base = FIXTURES / "broken_configs"
    projects = detect_projects(base)
    found = {(p.root.relative_to(base).as_posix(), p.tool): p for p in projects}
    assert set(found) == {
        ("api", "knex"),
        ("hr", "liquibase"),
        ("members", "sequelize"),
        ("py", "alembic"),
        ("reports", "flyway"),
        ("shop", "rails"),
        ("site", "django"),
        ("web", "prisma"),
    }
    # a value that was still readable is used; broken sources are ignored
    assert found[("api", "knex")].dialect == "mysql"
    for key in [("py", "alembic"), ("shop", "rails"), ("site", "django"), ("web", "prisma")]:
        assert found[key].dialect is None, key
    assert rel(found[("members", "sequelize")].migration_dirs, base) == ["members/db/migrations"]
    assert rel(found[("reports", "flyway")].migration_dirs, base) == ["reports/sql"]
    assert "mixed" not in found[("reports", "flyway")].settings  # "maybe" is not a bool
    for project in projects:
        assert project.migration_files()


def test_non_utf8_and_binary_files(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_bytes(
        b"[alembic]\nscript_location = %(here)s/alembic\n# caf\xe9 \xff\xfe\n"
        b"sqlalchemy.url = sqlite:///app.db\n"
    )
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic" / "env.py").write_bytes(b"\xff\xfe\x00garbage\x00")
    (versions / "abc123_x.py").write_bytes(b"revision = 'abc123'\ndown_revision = None\n\xc3\x28")
    (versions / "blob.py").write_bytes(bytes(range(256)) * 20)
    sql = tmp_path / "db" / "migrations"
    sql.mkdir(parents=True)
    (sql / "001_init.sql").write_bytes(b"-- migrate:up\nCREATE TABLE t (x TEXT); -- \xe9\xe8\n")
    projects = detect_projects(tmp_path)
    assert [(p.tool, p.dialect) for p in projects] == [("alembic", "sqlite"), ("dbmate", None)]


def _run_with_timeout(func: Any, seconds: float) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(func()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "detection did not finish"
    return result[0]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    migrations = ws / "app" / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "001_init.sql").write_text("CREATE TABLE t (id SERIAL);\n")
    (ws / "app" / "loop").symlink_to(ws)  # to an ancestor
    (migrations / "self").symlink_to(migrations)  # to itself
    (ws / "a").mkdir()
    (ws / "b").mkdir()
    (ws / "a" / "to_b").symlink_to(ws / "b")
    (ws / "b" / "to_a").symlink_to(ws / "a")
    (ws / "broken").symlink_to(tmp_path / "nowhere")
    projects = _run_with_timeout(lambda: detect_projects(ws), 10)
    assert [(p.tool, p.root, p.migration_dirs) for p in projects] == [
        ("sql", ws / "app", [migrations])
    ]
    files = _run_with_timeout(projects[0].migration_files, 10)
    assert files == [migrations / "001_init.sql"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_to_outside_folder_is_not_followed(tmp_path: Path) -> None:
    """Files outside the workspace folder are never scanned, whatever links point there
    (issue 10: a cloned repository may link to ~/.ssh or /proc)."""
    shared = tmp_path / "shared"
    (shared / "migrations").mkdir(parents=True)
    (shared / "migrations" / "001_init.sql").write_text("CREATE TABLE t (id INT);\n")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "one").symlink_to(shared)
    (ws / "two").symlink_to(shared)
    assert detect_projects(ws) == []


def test_unreadable_directory_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES / "dbmate_app", tmp_path / "dbmate_app")
    secret = tmp_path / "secret"
    (secret / "migrations").mkdir(parents=True)
    (secret / "migrations" / "001_x.sql").write_text("SELECT 1;\n")
    # chmod is not enough when the tests run as root, so also refuse the listing itself
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == secret:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    secret.chmod(0)
    try:
        projects = detect_projects(tmp_path)
    finally:
        secret.chmod(0o755)
    assert [(p.tool, p.root) for p in projects] == [("dbmate", tmp_path / "dbmate_app")]


def test_unreadable_and_special_files(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "knex_app", tmp_path / "app")
    knexfile = tmp_path / "app" / "knexfile.js"
    knexfile.unlink()
    if hasattr(os, "mkfifo"):
        os.mkfifo(knexfile)  # opening a FIFO for reading would block forever
        os.mkfifo(tmp_path / "app" / "db" / "migrations" / "20240201000000_fifo.js")
    env = tmp_path / "app" / ".env"
    env.write_text("DATABASE_URL=postgres://x@y/z\n")
    env.chmod(0)
    try:
        projects = _run_with_timeout(lambda: detect_projects(tmp_path), 10)
    finally:
        env.chmod(0o644)
    assert [p.tool for p in projects] == ["knex"]


def test_large_workspace_finds_only_real_projects(tmp_path: Path) -> None:
    for i in range(100):
        pkg = tmp_path / "src" / f"pkg{i:03d}"
        pkg.mkdir(parents=True)
        for j in range(96):
            (pkg / f"module_{j:03d}.py").write_text("x = 1\n")
    skipped = tmp_path / "node_modules" / "dep"
    skipped.mkdir(parents=True)
    for j in range(300):
        (skipped / f"f{j}.js").write_text("module.exports = 1\n")
    shutil.copytree(FIXTURES / "django_basic", tmp_path / "site")
    shutil.copytree(FIXTURES / "golang_migrate_app", tmp_path / "ledger")
    assert sum(1 for _ in tmp_path.rglob("*")) > 10_000
    projects = detect_projects(tmp_path)
    assert [p.tool for p in projects] == ["golang-migrate", "django"]


# ----------------------------------------------------------------------- dialect helpers


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg2://u:p@h/db", "postgresql"),
        ("postgres://u@h/db", "postgresql"),
        ("postgresql+asyncpg://h/db", "postgresql"),
        ("mysql+pymysql://u@h/db", "mysql"),
        ("mariadb+mariadbconnector://h/db", "mysql"),
        ("sqlite:///app.db", "sqlite"),
        ("sqlite:memory", "sqlite"),
        ("mssql+pyodbc://u@dsn", "mssql"),
        ("oracle+oracledb://u@h/db", "oracle"),
        ("jdbc:postgresql://h:5432/db", "postgresql"),
        ("jdbc:mysql://h/db", "mysql"),
        ("jdbc:mariadb://h/db", "mysql"),
        ("jdbc:sqlite:app.db", "sqlite"),
        ("jdbc:sqlserver://h;databaseName=x", "mssql"),
        ("jdbc:oracle:thin:@h:1521/x", "oracle"),
        ("driver://user:pass@localhost/dbname", None),
        ("${DATABASE_URL}", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_dialect_from_url(url: str, expected: str | None) -> None:
    assert dl.from_url(url) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pg", "postgresql"),
        ("postgis", "postgresql"),
        ("cockroachdb", "postgresql"),
        ("pgsql", "postgresql"),
        ("mysql2", "mysql"),
        ("trilogy", "mysql"),
        ("mariadb", "mysql"),
        ("better-sqlite3", "sqlite"),
        ("sqlite3", "sqlite"),
        ("tedious", "mssql"),
        ("sqlserver", "mssql"),
        ("sqlsrv", "mssql"),
        ("oracledb", "oracle"),
        ("mongodb", None),
        (None, None),
    ],
)
def test_dialect_names(name: str | None, expected: str | None) -> None:
    assert dl.normalize(name) == expected


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("django.db.backends.postgresql", "postgresql"),
        ("django.db.backends.postgresql_psycopg2", "postgresql"),
        ("django.contrib.gis.db.backends.postgis", "postgresql"),
        ("django.db.backends.mysql", "mysql"),
        ("django.db.backends.sqlite3", "sqlite"),
        ("django.db.backends.oracle", "oracle"),
        ("mssql", "mssql"),
        ("sql_server.pyodbc", "mssql"),
        ("django.db.backends.dummy", None),
    ],
)
def test_django_engines(engine: str, expected: str | None) -> None:
    assert dl.from_django_engine(engine) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CREATE TABLE t (id BIGSERIAL, data JSONB);", "postgresql"),
        ("UPDATE t SET x = y::text;", "postgresql"),
        ("CREATE TABLE `t` (id INT AUTO_INCREMENT) ENGINE=InnoDB;", "mysql"),
        ("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);", "sqlite"),
        ("CREATE TABLE [dbo].[t] (id INT IDENTITY(1,1));\nGO\n", "mssql"),
        ("class AddX < ActiveRecord::Migration[7.1]\nend\n", None),
        ("CREATE TABLE t (id INT);", None),
    ],
)
def test_infer_dialect(text: str, expected: str | None) -> None:
    assert dl.infer_from_texts([text]) == expected


def test_django_settings_variants(tmp_path: Path) -> None:
    pkg = tmp_path / "proj"
    pkg.mkdir()
    settings = pkg / "settings.py"
    settings.write_text(
        "import os\n"
        "DATABASES = {'default': {'ENGINE': os.environ.get('DB_ENGINE', "
        "'django.db.backends.oracle')}}\n"
    )
    result, _, _ = dl.django_dialect(settings, [tmp_path])
    assert result is not None and result.dialect == "oracle"

    settings.write_text(
        "import dj_database_url\n"
        "DATABASES = {}\n"
        "DATABASES['default'] = dj_database_url.parse('postgres://localhost/x')\n"
    )
    result, _, _ = dl.django_dialect(settings, [tmp_path])
    assert result is not None and (result.dialect, result.detail) == ("postgresql", "DATABASES URL")

    settings.write_text("DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql'}}\n")
    result, _, _ = dl.django_dialect(settings, [tmp_path])
    assert result is not None and result.dialect == "mysql"

    settings.write_text(
        "import dj_database_url\nDATABASES = {'default': dj_database_url.config()}\n"
    )
    result, uses_env, _ = dl.django_dialect(settings, [tmp_path])
    assert result is None and uses_env


def test_django_reads_database_url_from_env_file(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n"
    )
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "settings.py").write_text(
        "import environ\nenv = environ.Env()\nDATABASES = {'default': env.db('DATABASE_URL')}\n"
    )
    (tmp_path / ".env").write_text("DATABASE_URL=mysql://u:p@localhost/site\n")
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.dialect, project.dialect_source) == (
        "django",
        "mysql",
        ".env DATABASE_URL",
    )


def test_knexfile_prefers_development(tmp_path: Path) -> None:
    (tmp_path / "knexfile.ts").write_text(
        "import type { Knex } from 'knex';\n"
        "const config: { [key: string]: Knex.Config } = {\n"
        "  production: { client: 'postgresql', migrations: { directory: 'migrations' } },\n"
        "  development: { client: 'better-sqlite3', connection: { filename: './dev.sqlite3' } },\n"
        "};\n"
        "module.exports = config;\n"
    )
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.dialect) == ("knex", "sqlite")
    assert project.migration_dirs == [tmp_path / "migrations"]


def test_alembic_env_py_without_ini(tmp_path: Path) -> None:
    script = tmp_path / "service" / "alembic"
    (script / "versions").mkdir(parents=True)
    (script / "env.py").write_text(
        "from alembic import context\n"
        "context.configure(url='postgresql://localhost/app', transactional_ddl=True)\n"
    )
    (script / "versions" / "abc_first.py").write_text(
        "revision: str = 'abc'\ndown_revision: str | None = None\n"
    )
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.root) == ("alembic", tmp_path / "service")
    assert (project.dialect, project.dialect_source) == ("postgresql", "env.py database URL")
    assert project.settings["transactional_ddl"] is True


def test_rails_multi_database_and_erb(tmp_path: Path) -> None:
    (tmp_path / "Gemfile").write_text('gem "rails"\n')
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "database.yml").write_text(
        "development:\n"
        "  primary:\n"
        "    adapter: <%= ENV.fetch('DB_ADAPTER', 'trilogy') %>\n"
        "  animals:\n"
        "    adapter: trilogy\n"
        "    migrations_paths: db/animals_migrate\n"
    )
    (tmp_path / "db" / "migrate").mkdir(parents=True)
    (tmp_path / "db" / "animals_migrate").mkdir()
    (tmp_path / "db" / "animals_migrate" / "20240101000000_create_dogs.rb").write_text("")
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.dialect) == ("rails", "mysql")
    assert rel(project.migration_dirs, tmp_path) == ["db/animals_migrate", "db/migrate"]


def test_js_pairs_reads_simple_values() -> None:
    text = """
    // a comment: client: 'nope'
    module.exports = {
      development: {
        client: "pg", /* block: 'x' */
        migrations: { directory: path.join(__dirname, 'db', "migrations") },
      },
      test: { client: process.env.CI ? 'pg' : 'sqlite3' },
    };
    """
    pairs = js_pairs(text)
    clients = [(p.path, p.strings) for p in pairs if p.key == "client"]
    assert clients == [(("development",), ["pg"]), (("test",), ["pg", "sqlite3"])]
    directory = next(p for p in pairs if p.key == "directory")
    assert directory.path == ("development", "migrations")
    assert js_path_value(directory) == "db/migrations"


def test_ignored_folders_are_not_walked(tmp_path: Path) -> None:
    for ignored in ["node_modules/pkg", ".venv/lib", "venv", "env", "dist", "build", "target"]:
        folder = tmp_path / ignored / "migrations"
        folder.mkdir(parents=True)
        (folder / "001_init.sql").write_text("CREATE TABLE t (id INT);\n")
    (tmp_path / ".hidden" / "db" / "migrate").mkdir(parents=True)
    (tmp_path / ".hidden" / "db" / "migrate" / "20240101000000_x.rb").write_text("")
    assert detect_projects(tmp_path) == []


def test_flask_migrate_from_dependencies_and_flaskenv(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "blog"\ndependencies = ["flask", "flask-migrate>=4"]\n'
    )
    (tmp_path / ".flaskenv").write_text(
        "FLASK_APP=blog\nDATABASE_URL=postgresql://localhost/blog\n"
    )
    script = tmp_path / "migrations"
    (script / "versions").mkdir(parents=True)
    (script / "env.py").write_text("from alembic import context\n")
    (script / "versions" / "aaa_first.py").write_text("revision = 'aaa'\ndown_revision = None\n")
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.flavor, project.root) == ("alembic", "flask-migrate", tmp_path)
    assert (project.dialect, project.dialect_source) == ("postgresql", ".flaskenv DATABASE_URL")


def test_plain_alembic_is_not_flask(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("alembic==1.13.1\nflask==3.0\n")
    script = tmp_path / "alembic"
    (script / "versions").mkdir(parents=True)
    (script / "env.py").write_text("from alembic import context\n")
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.flavor) == ("alembic", None)
    assert project.migration_files() == []


def test_typeorm_ormconfig_json(tmp_path: Path) -> None:
    (tmp_path / "ormconfig.json").write_text(
        '{"type": "mariadb", "migrations": ["src/migration/**/*.ts"],'
        ' "cli": {"migrationsDir": "src/migration"}}'
    )
    nested = tmp_path / "src" / "migration" / "2024"
    nested.mkdir(parents=True)
    (nested / "1704456000000-Init.ts").write_text("import { MigrationInterface } from 'typeorm'\n")
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.dialect) == ("typeorm", "mysql")
    assert project.migration_dirs == [tmp_path / "src" / "migration"]
    assert project.settings["recursive"] is True
    assert project.migration_files() == [nested / "1704456000000-Init.ts"]


def test_prisma_provider_from_migration_lock(tmp_path: Path) -> None:
    prisma = tmp_path / "prisma"
    (prisma / "migrations").mkdir(parents=True)
    (prisma / "schema.prisma").write_text(
        'datasource db {\n  provider = env("PROVIDER")\n  url = env("DATABASE_URL")\n}\n'
    )
    (prisma / "migrations" / "migration_lock.toml").write_text('provider = "sqlserver"\n')
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.dialect) == ("prisma", "mssql")
    assert project.dialect_source == "prisma/migrations/migration_lock.toml provider"


def test_spring_liquibase(tmp_path: Path) -> None:
    resources = tmp_path / "src" / "main" / "resources"
    changelog = resources / "db" / "changelog"
    changelog.mkdir(parents=True)
    (tmp_path / "build.gradle").write_text("plugins { id 'org.springframework.boot' }\n")
    (resources / "application.properties").write_text(
        "spring.datasource.url=jdbc:postgresql://localhost/app\n"
        "spring.liquibase.change-log=classpath:db/changelog/db.changelog-master.yaml\n"
    )
    (changelog / "db.changelog-master.yaml").write_text(
        "databaseChangeLog:\n  - include:\n      file: db/changelog/001-init.sql\n"
    )
    (changelog / "001-init.sql").write_text("--liquibase formatted sql\n")
    project = detect_projects(tmp_path)[0]
    assert (project.tool, project.root, project.dialect) == ("liquibase", tmp_path, "postgresql")
    assert project.dialect_source == "application.properties spring.datasource.url"
    assert project.migration_dirs == [changelog]
    assert [f.name for f in project.migration_files()] == [
        "001-init.sql",
        "db.changelog-master.yaml",
    ]


def test_detect_for_file_without_markers(tmp_path: Path) -> None:
    folder = tmp_path / "proj" / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_init.sql").write_text("CREATE TABLE t (id INT);\n")
    project = detect_for_file(folder / "002_next.sql")
    assert project is not None
    assert (project.tool, project.root) == ("sql", tmp_path / "proj")
