"""The fast paths of the tree-sitter parsers give exactly what the plain ones gave.

Reading a tree in Python costs per node (`Node.type` builds a string, a field found by name is
looked up by name, every child read is a new object), so the parsers compare kind ids, skip
positions they do not need, find heredoc bodies by position and walk only named nodes. Each test
here checks one of those shortcuts against the straightforward way on the fixture workspaces
(and on non-ASCII copies, where byte offsets are not character offsets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from tree_sitter import Node, Query, QueryCursor

from migration_lsp.model import Migration
from migration_lsp.parse import host_strings, laravel
from migration_lsp.parse.javascript import JsSource, Link, chain, js_grammar, visit_chains
from migration_lsp.parse.laravel_php import CALLS, chain_of
from migration_lsp.parse.rails import _heredocs, parse_rails, read_rails
from migration_lsp.parse.treesitter import Grammar, TreeSource, kind_ids, language, walk
from migration_lsp.text import Span

FIXTURES = Path(__file__).parent / "fixtures"
_SUFFIXES: dict[str, Grammar] = {
    ".rb": "ruby",
    ".php": "php",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
}

_EXTRA: dict[Grammar, list[str]] = {
    "ruby": [
        "class A < ActiveRecord::Migration[7.1]\n  def change\n"
        '    add_column :users, :é, :string, null: false, default: "ü" # note\n'
        "    add_index :users, [:a, :b], # the pair\n      unique: true, name: 'idx'\n"
        "    execute <<~SQL, <<~X\n      UPDATE users SET a = 'é' WHERE b IS NULL\n    SQL\n"
        "      ignored #{x}\n    X\n"
        "    foo(<<~A.squish) if bar(<<~B)\n      a\n    A\n      b\n    B\n"
        '    class << self; end\n    s = "<<~NOPE"\n'
        "  end\nend\n",
        "execute <<~SQL\n  é #{<<~X}\n  ü\n X\n  ok\nSQL\n",
        "execute \"UPDATE t SET a = '\\n' WHERE #{b}\"; execute 'it\\'s'\n",
        "\r\nexecute <<~SQL\r\n  a\r\nSQL\r\n",
    ],
    "javascript": [
        "exports.up = async function(knex) {\n"
        "  await (knex.schema.createTable('é', (t) => { t.string('ü').notNullable(); }));\n"
        "  await knex.schema.alterTable('b', function(table) { foo().bar()[0](); (table.x()); });\n"
        "  a()[0](); x = y(z()); tag`hello ${knex.raw('select 1')}`; k /* c */ .m(1)?.n();\n"
        "  knex.raw('it\\'s \\u00e9'); knex.raw(`a\\n${b}\\x41`);\n"
        "};\n",
    ],
    "typescript": [
        "export async function up(knex: Knex): Promise<void> {\n"
        "  await knex!.schema.createTable('t', (t) => { t.increments(); });\n"
        "  await (knex.schema as any).alterTable('b', (t: any) => { t!.foreign('d'); });\n"
        "}\n",
    ],
    "php": [
        "<?php\nreturn new class extends Migration {\n"
        "  public function up(): void {\n"
        "    Schema::table('é', function (Blueprint $table) { $table->string('ü')->change(); });\n"
        '    DB::statement("ALTER {$t} x" . $y);\n'
        "    foreach ($rows as $row) { DB::table('u')->where('id', $row->id)->update([]); }\n"
        "    User::query()->each(fn ($u) => DB::table('x')->insert(['a' => 1]));\n"
        "    $x?->y()->z(1, name: 'n');\n"
        "    DB::statement('it\\'s'); DB::statement(\"a\\n{$b}\\t\");\n"
        "  }\n};\n",
    ],
}


def _texts(grammar: Grammar) -> list[tuple[str, str]]:
    """(path, text) of the fixture files in `grammar`, their non-ASCII copies, and extras."""
    found: list[tuple[str, str]] = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and _SUFFIXES.get(path.suffix) == grammar:
            text = path.read_text(encoding="utf-8")
            found.append((str(path), text))
            found.append((str(path), text.replace("'", "'é", 3).replace('"', '"ü€', 3)))
    suffix = next(s for s, g in _SUFFIXES.items() if g == grammar)
    found.extend((f"extra{suffix}", text) for text in _EXTRA[grammar])
    return found


def _sources(grammar: Grammar) -> Iterator[TreeSource]:
    for _, text in _texts(grammar):
        yield TreeSource(text, grammar)


GRAMMARS: list[Grammar] = ["ruby", "php", "javascript", "typescript"]


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_spans_are_code_point_offsets(grammar: Grammar) -> None:
    for source in _sources(grammar):
        for node in walk(source.root):
            start = len(source.data[: node.start_byte].decode("utf-8", errors="replace"))
            end = len(source.data[: node.end_byte].decode("utf-8", errors="replace"))
            assert source.span(node) == Span(start, end)
            assert source.bounds(node) == (start, end)
            assert (source.start(node), source.end(node)) == (start, end)
            assert source.between(node, node) == Span(start, end)
            expected = source.data[node.start_byte : node.end_byte].decode("utf-8", "replace")
            assert source.node_text(node) == expected


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_kind_ids_name_the_node_types(grammar: Grammar) -> None:
    for source in _sources(grammar):
        previous = "program"
        for node in walk(source.root):
            assert node.kind_id in kind_ids(grammar, node.type)
            if node.type != previous:  # another type's ids never include this node's
                assert node.kind_id not in kind_ids(grammar, previous)
            previous = node.type


_STRINGS: dict[Grammar, tuple[set[str], host_strings.StringGrammar]] = {
    "ruby": ({"string", "heredoc_body"}, host_strings.RUBY),
    "php": ({"string", "encapsed_string", "heredoc", "nowdoc"}, host_strings.PHP),
    "javascript": ({"string", "template_string"}, host_strings.JS),
    "typescript": ({"string", "template_string"}, host_strings.JS),
}


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_string_values_without_positions_match_decode(grammar: Grammar) -> None:
    kinds, strings = _STRINGS[grammar]
    seen = 0
    for source in _sources(grammar):
        for node in walk(source.root):
            if node.type in kinds:
                decoded = host_strings.decode(source, node, strings)
                assert host_strings.decode_value(source, node, strings) == (
                    decoded.value,
                    decoded.formatted,
                )
                seen += 1
    assert seen > 10


def _heredocs_by_query(root: Node) -> dict[int, tuple[int, int]]:
    """The n-th heredoc opener owns the n-th body, both found by a query over every node."""
    query = Query(language("ruby"), "(heredoc_beginning) @open (heredoc_body) @body")
    found = QueryCursor(query).captures(root)
    openers = sorted(found.get("open", ()), key=lambda n: n.start_byte)
    bodies = sorted(found.get("body", ()), key=lambda n: n.start_byte)
    return {o.start_byte: b.byte_range for o, b in zip(openers, bodies, strict=False)}


def test_heredoc_bodies_found_by_position_match_the_query() -> None:
    checked = 0
    for _, text in _texts("ruby"):
        for cut in [len(text), *range(0, len(text), max(1, len(text) // 25))]:
            root = TreeSource(text[:cut], "ruby").root
            found = {start: body.byte_range for start, body in _heredocs(root).items()}
            assert found == _heredocs_by_query(root), text[:cut]
            checked += bool(found)
    assert checked > 20


def _js_sources() -> Iterator[JsSource]:
    for grammar in ("javascript", "typescript"):
        for path, text in _texts(grammar):
            yield JsSource(text, path if js_grammar(path) == grammar else f"x{path}.ts")


def _links(links: list[Link]) -> list[tuple[object, ...]]:
    return [
        (link.name, link.node.byte_range, link.name_node.byte_range, link.is_call, *link.args)
        for link in links
    ]


def test_js_chains_read_by_kind_id_match_those_read_by_name() -> None:
    seen = 0
    for source in _js_sources():
        for node in walk(source.root):
            if node.type == "call_expression":
                assert _links(chain(node, source.grammar)) == _links(chain(node))
                seen += 1
    assert seen > 50


def _visit_every_node(node: Node, handle: Callable[[Node], bool]) -> None:
    """`visit_chains` as it was: every child (tokens included), each with its parent."""
    from migration_lsp.parse.javascript import starts_chain

    stack: list[tuple[Node, Node | None]] = [(node, None)]
    while stack:
        current, parent = stack.pop()
        if current.type == "call_expression" and starts_chain(current, parent) and handle(current):
            continue
        stack.extend((child, current) for child in reversed(current.children))


class _Recorder:
    """A chain handler that notes each chain it is given and takes (skips the inside of) every
    other one, by the parity of its length."""

    def __init__(self, take_even: bool) -> None:
        self.take_even = take_even
        self.seen: list[tuple[int, int]] = []

    def __call__(self, node: Node) -> bool:
        self.seen.append(node.byte_range)
        return self.take_even and (node.end_byte - node.start_byte) % 2 == 0


def test_visit_chains_on_named_nodes_matches_a_walk_over_every_node() -> None:
    seen = 0
    for source in _js_sources():
        for take_even in (False, True):
            reference = _Recorder(take_even)
            _visit_every_node(source.root, reference)
            for grammar in (None, source.grammar):
                found = _Recorder(take_even)
                visit_chains(source.root, found, grammar)
                assert found.seen == reference.seen
            seen += len(reference.seen)
    assert seen > 50


def _laravel_visit_with_parent_lookups(
    reader: laravel._Reader, node: Node, loop: Span | None
) -> None:
    """`_Reader.visit` as it was: every named node, `Node.parent` for each call."""
    from migration_lsp.parse.laravel_php import is_outermost

    stack: list[tuple[Node, Span | None]] = [(c, loop) for c in reversed(node.named_children)]
    while stack:
        child, outer = stack.pop()
        if child.type in CALLS and is_outermost(child):
            found = chain_of(reader.source, child)
            if found is not None:
                reader.chain(found, outer)
        if child.id in reader.done:
            continue
        inner = outer
        if child.type in ("foreach_statement", "for_statement", "while_statement", "do_statement"):
            inner = reader.loop_header(child)
        elif child.type in ("anonymous_function", "arrow_function") and reader.each_closure(child):
            inner = reader.source.span(child)
        stack.extend((grandchild, inner) for grandchild in reversed(child.named_children))


def _outermost_calls_with_parent_lookups(node: Node) -> Iterator[Node]:
    """`laravel._outermost_calls` as it was: `Node.parent` for each call."""
    from migration_lsp.parse.laravel_php import is_outermost

    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in CALLS and is_outermost(current):
            yield current
            continue
        if current.type in ("anonymous_function", "arrow_function") and current is not node:
            continue
        stack.extend(reversed(current.named_children))


def _dump(migration: Migration) -> str:
    return repr([getattr(migration, f.name) for f in fields(migration) if f.name != "_lines"])


def test_laravel_walk_matches_the_walk_with_parent_lookups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = 0
    for path, text in _texts("php"):
        fast = laravel.parse_laravel(path, text, "postgresql")
        with monkeypatch.context() as patched:
            patched.setattr(laravel._Reader, "visit", _laravel_visit_with_parent_lookups)
            patched.setattr(laravel, "_outermost_calls", _outermost_calls_with_parent_lookups)
            slow = laravel.parse_laravel(path, text, "postgresql")
        assert _dump(fast) == _dump(slow)
        seen += len(fast.operations)
    assert seen > 20


def test_parse_rails_without_call_records_gives_the_same_migration() -> None:
    for path, text in _texts("ruby"):
        with_calls = read_rails(path, text, "postgresql")
        assert _dump(parse_rails(path, text, "postgresql")) == _dump(with_calls.migration)
        assert with_calls.calls or not with_calls.migration.operations
