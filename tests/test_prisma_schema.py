"""schema.prisma: datasources and models read from the Prisma Schema Language, never run."""

from __future__ import annotations

from pathlib import Path

from migration_lsp.parse.prisma_schema import parse_schema
from migration_lsp.project.detect import detect_projects

FIXTURE = Path(__file__).parent / "fixtures" / "prisma"
SCHEMA = (FIXTURE / "prisma" / "schema.prisma").read_text()


def test_provider_models_tables_and_columns() -> None:
    schema = parse_schema(SCHEMA)
    assert schema.provider == "postgresql"
    assert [(m.kind, m.name, m.table) for m in schema.models] == [
        ("model", "User", "User"),
        ("model", "Post", "posts"),
        ("enum", "Role", "Role"),
    ]
    user = schema.models[0]
    assert [(f.name, f.column, f.type, f.optional, f.is_list) for f in user.fields] == [
        ("id", "id", "Int", False, False),
        ("email", "email", "String", False, False),
        ("name", "name", "String", True, False),
        ("role", "role", "String", False, False),
        ("createdAt", "created_at", "DateTime", False, False),
        ("posts", "posts", "Post", False, True),
    ]
    post = schema.models[1]
    assert post.fields[3].is_relation and post.fields[4].column == "author_id"
    assert SCHEMA[post.name_span.start : post.name_span.end] == "Post"
    assert SCHEMA[post.span.start : post.span.end].startswith("model Post {")
    assert SCHEMA[post.span.start : post.span.end].endswith('@@map("posts")\n}')


def test_lookup_by_table_is_case_insensitive_and_unquoted() -> None:
    schema = parse_schema(SCHEMA)
    found = schema.model_for_table('"POSTS"')
    assert found is not None and found.name == "Post"
    assert schema.model_for_table("Role") is None  # an enum is not a table
    assert schema.model_for_table("comments") is None


def test_half_typed_and_broken_schemas_do_not_raise() -> None:
    for end in range(0, len(SCHEMA), 7):
        parse_schema(SCHEMA[:end])
    broken = 'datasource db {\n  provider = "mysql\n}\nmodel {\n}\nmodel A { id Int @id'
    schema = parse_schema(broken)
    assert schema.provider is None  # unfinished string: no provider rather than a wrong one
    assert [m.name for m in schema.models] == ["A"]


def test_strings_and_comments_do_not_confuse_blocks() -> None:
    text = (
        "// model Fake {\n"
        'datasource db {\n  provider = "sqlite" // not "postgresql"\n  url = "file:./x{}.db"\n}\n'
        'model Note {\n  id Int @id\n  text String @default("} model X {")\n}\n'
    )
    schema = parse_schema(text)
    assert schema.provider == "sqlite"
    assert [m.name for m in schema.models] == ["Note"]
    assert [f.name for f in schema.models[0].fields] == ["id", "text"]


def test_detection_reads_the_provider_with_the_parser() -> None:
    (project,) = detect_projects(FIXTURE)
    assert (project.tool, project.dialect, project.settings["provider"]) == (
        "prisma",
        "postgresql",
        "postgresql",
    )
