"""Re-parsing only the edited statement of a Python migration gives exactly the tree a full
`ast.parse` gives: positions included, for every kind of edit a user types."""

from __future__ import annotations

import ast
import random
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migration_lsp.parse import python as python_parse
from migration_lsp.parse.python import parse_python
from migration_lsp.parse.python_incremental import reparse
from migration_lsp.text import common_prefix, common_suffix

ROOT = Path(__file__).resolve().parents[1]


def _parses(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return False
    return True


MIGRATIONS = sorted(
    p
    for folder in ("tests/fixtures", "examples")
    for p in (ROOT / folder).rglob("*.py")
    if ("versions" in p.parts or "migrations" in p.parts) and p.name != "__init__.py"
    if _parses(p)
)
ALPHABET = "abcxyz_0189 ()[]{},.:'\"#=+-*/\\\t@é🙂"


def dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def full(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def incremental(old: str, new: str) -> ast.Module | None:
    tree = full(old)
    assert tree is not None
    prefix = common_prefix(old, new)
    suffix = common_suffix(old, new, min(len(old), len(new)) - prefix)
    return reparse(old, tree, new, prefix, suffix)


def one_line_edit(text: str, rng: random.Random) -> str:
    """Insert, delete or replace a few characters somewhere on one line."""
    at = rng.randrange(len(text) + 1)
    line_end = text.find("\n", at)
    line_end = len(text) if line_end == -1 else line_end
    delete = rng.randint(0, min(3, line_end - at))
    insert = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 3)))
    return text[:at] + insert + text[at + delete :]


def test_there_are_python_migrations_to_edit() -> None:
    assert len(MIGRATIONS) >= 20


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_one_line_edit_gives_the_full_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rng = random.Random(path.name)
    handled = 0
    for _ in range(60):
        new = one_line_edit(text, rng)
        expected = full(new)
        got = incremental(text, new)
        if got is None:
            continue  # not a statement-local edit: the caller parses it all
        handled += 1
        assert expected is not None, f"accepted text Python rejects:\n{new}"
        assert dump(got) == dump(expected)
    assert handled > 0


def test_typing_a_word_in_a_call_argument_reparses_one_statement() -> None:
    text = (
        "from alembic import op\nimport sqlalchemy as sa\n\n\ndef upgrade():\n"
        "    op.add_column('users', sa.Column('email', sa.String(), nullable=True))\n"
        "    op.create_index('ix_users_email', 'users', ['email'])\n"
    )
    at = text.index("'email'") + 1
    for letter in "address":
        new = text[:at] + letter + text[at:]
        got = incremental(text, new)
        assert got is not None
        assert dump(got) == dump(ast.parse(new))
        text, at = new, at + 1


@pytest.mark.parametrize(
    "before, after",
    [
        ("    op.drop_column('a', 'b')\n", "    op.drop_column('a', 'b'\n"),  # unclosed
        ("    op.drop_column('a', 'b')\n", "    op.drop_column('a, 'b')\n"),  # string
        ("    op.drop_column('a', 'b')\n", "   op.drop_column('a', 'b')\n"),  # indentation
        ("    op.drop_column('a', 'b')\n", "    op.drop_column('a', 'b'); x = 1\n"),
        ("    op.drop_column('a', 'b')\n", "    op.drop_column('a', 'b')  \\\n"),
        ("    op.drop_column('a', 'b')\n", "    op.drop_column('a', '''b')\n"),
    ],
)
def test_edits_that_change_more_than_the_statement_are_left_to_the_full_parse(
    before: str, after: str
) -> None:
    head = "def upgrade():\n"
    tail = "    op.drop_table('c')\n"
    old, new = head + before + tail, head + after + tail
    assert incremental(old, new) is None


def test_parse_python_uses_it_and_still_reports_syntax_errors() -> None:
    old = "def upgrade():\n    op.drop_column('a', 'b')\n"
    python_parse._TREES.clear()
    parse_python(old)
    new = old.replace("'b'", "'bc'")
    assert dump(parse_python(new)) == dump(ast.parse(new))
    with pytest.raises(SyntaxError):
        parse_python(old.replace("'b')", "'b'"))


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=10_000),
    at=st.integers(min_value=0, max_value=100_000),
    delete=st.integers(min_value=0, max_value=4),
    insert=st.text(alphabet=ALPHABET, max_size=4),
)
def test_random_edits_of_random_migrations(index: int, at: int, delete: int, insert: str) -> None:
    text = MIGRATIONS[index % len(MIGRATIONS)].read_text(encoding="utf-8")
    at %= len(text) + 1
    line_end = text.find("\n", at)
    line_end = len(text) if line_end == -1 else line_end
    new = text[:at] + insert + text[at + min(delete, line_end - at) :]
    got = incremental(text, new)
    if got is not None:
        expected = full(new)
        assert expected is not None and dump(got) == dump(expected)
