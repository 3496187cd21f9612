"""History rules: the revision graph and the migrations the default branch already applied.

They read `Context.history` (the project's graph, built from every migration file) and
`Context.applied` (git), and report on the file being checked, at the line declaring the id.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from migration_lsp.findings import Finding
from migration_lsp.history.git import AppliedChange
from migration_lsp.history.graph import History, Node
from migration_lsp.model import Severity
from migration_lsp.project.detect import Project
from migration_lsp.rules.base import Context, rule
from migration_lsp.text import Span


def _here(ctx: Context) -> tuple[History, list[Node]] | None:
    """The history and the file's nodes in it (looked up once for all the history rules)."""
    return ctx.memo(_here, _find_here)


def _find_here(ctx: Context) -> tuple[History, list[Node]] | None:
    if ctx.history is None:
        return None
    nodes = ctx.history.nodes_in(os.path.abspath(ctx.migration.path))
    return (ctx.history, nodes) if nodes else None


def _where(node: Node, root: Path) -> str:
    try:
        return node.path.relative_to(root).as_posix()
    except ValueError:
        return node.path.name


def _short(node_id: str) -> str:
    return node_id.rsplit(".", 1)[-1] if "." in node_id else node_id


@rule(
    "multiple-heads",
    summary="The history has more than one head (two migrations with the same parent)",
    severity=Severity.ERROR,
    category="history",
    fix="create-merge-migration",
    anchors={"alembic": "alembic heads / alembic merge", "django": "makemigrations --merge"},
)
def multiple_heads(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags each head revision when a history has more than one: two Alembic revisions with the
    same `down_revision` and no merge, or two leaf migrations in one Django app. It is reported
    on the line declaring each head.

    ## Why is this bad?
    It happens when two branches each add a migration and both are merged. `alembic upgrade
    head` then stops with "Multiple head revisions are present", and Django's `migrate` with
    "Conflicting migrations detected": the deploy fails before running anything.

    ## Example
    Two branches each added a revision on top of `1975ea83b712`, and both were merged:

    ```python
    # alembic: alembic/versions/1975ea83b712_create_users.py
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("users")
    ```

    ```python
    # alembic: alembic/versions/27c6a30d7c24_add_email.py
    revision = "27c6a30d7c24"
    down_revision = "1975ea83b712"


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ```python
    # alembic: alembic/versions/ae1027a6acf_add_phone.py
    revision = "ae1027a6acf"
    down_revision = "1975ea83b712"


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ## Use instead
    A merge revision with both heads as parents, as `alembic merge heads` writes it:

    ```python
    # alembic: alembic/versions/1975ea83b712_create_users.py
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("users")
    ```

    ```python
    # alembic: alembic/versions/27c6a30d7c24_add_email.py
    revision = "27c6a30d7c24"
    down_revision = "1975ea83b712"


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ```python
    # alembic: alembic/versions/ae1027a6acf_add_phone.py
    revision = "ae1027a6acf"
    down_revision = "1975ea83b712"


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ```python
    # alembic: alembic/versions/3c1f0e9ab5d2_merge_email_and_phone.py
    revision = "3c1f0e9ab5d2"
    down_revision = ("27c6a30d7c24", "ae1027a6acf")


    def upgrade():
        pass


    def downgrade():
        pass
    ```

    ## Fix safety
    The fix creates the merge migration (Alembic: a revision with a tuple `down_revision`;
    Django: a migration depending on both leaves, as `makemigrations --merge` writes). It has
    no operations, so it is safe; check that the two branches do not conflict.
    """
    found = _here(ctx)
    if found is None:
        return
    history, nodes = found
    for node in nodes:
        heads = history.heads(node.app)
        if node.app is None:  # Alembic: labelled independent branches are intended
            roots = history.roots_of(node.id)
            labelled = bool(history.labels_of(node.id))
            heads = [
                h
                for h in heads
                if history.roots_of(h.id) & roots or not (labelled and history.labels_of(h.id))
            ]
        if len(heads) < 2 or node.id not in {h.id for h in heads}:
            continue
        others = [h for h in heads if h.id != node.id]
        data = {"heads": [h.id for h in heads], "app": node.app}
        listed = ", ".join(
            f"{_short(h.id)} ({_where(h, history.project.root)})" for h in others[:3]
        )
        if node.app is not None:
            yield ctx.finding(
                node.span,
                f"Migration {_short(node.id)} is one of {len(heads)} leaf migrations of app "
                f"'{node.app}' (also {listed}): `manage.py migrate` stops with \"Conflicting "
                'migrations detected". Add a merge migration (`makemigrations --merge`).',
                data=data,
            )
        else:
            yield ctx.finding(
                node.span,
                f"Revision {node.id} is one of {len(heads)} heads (also {listed}): `alembic "
                'upgrade head` fails with "Multiple head revisions are present". Add a merge '
                "revision (`alembic merge heads`).",
                data=data,
            )


@rule(
    "missing-parent-revision",
    summary="A parent revision or dependency that no migration file declares",
    severity=Severity.ERROR,
    category="history",
    anchors={"alembic": "KeyError: Revision ... not present", "django": "NodeNotFoundError"},
)
def missing_parent_revision(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a `down_revision`, `depends_on` or Django dependency naming a migration that no file
    of the project declares: the parent was deleted, renamed, or the id is mistyped.

    ## Why is this bad?
    Alembic cannot build its revision map ("Revision ... referenced from ... is not present")
    and Django raises `NodeNotFoundError`: every migration command fails, not only this one.

    ## Example
    ```python
    # alembic: alembic/versions/1975ea83b712_create_users.py
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("users")
    ```

    ```python
    # alembic: alembic/versions/ae1027a6acf_add_phone.py
    revision = "ae1027a6acf"
    down_revision = "1975ea83b71"  # the parent is 1975ea83b712


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/1975ea83b712_create_users.py
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))


    def downgrade():
        op.drop_table("users")
    ```

    ```python
    # alembic: alembic/versions/ae1027a6acf_add_phone.py
    revision = "ae1027a6acf"
    down_revision = "1975ea83b712"


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ## Fix safety
    No automatic fix: completion inside `down_revision` offers the ids that exist.
    """
    found = _here(ctx)
    if found is None:
        return
    history, nodes = found
    for node in nodes:
        for ref in history.missing(node):
            close = difflib.get_close_matches(ref.id, list(history.by_id), n=1, cutoff=0.8)
            hint = f" Did you mean {close[0]}?" if close else ""
            what = "Dependency" if node.app is not None else "Parent revision"
            yield ctx.finding(
                ref.span,
                f"{what} {ref.id} is not declared by any migration of this project (deleted, "
                f"renamed or mistyped): every migration command fails.{hint}",
            )


@rule(
    "revision-cycle",
    summary="The chain of parent revisions loops",
    severity=Severity.ERROR,
    category="history",
    anchors={"alembic": "CycleDetected", "django": "CircularDependencyError"},
)
def revision_cycle(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags revisions whose parent chain comes back to themselves (`a` revises `b`, `b` revises
    `a`), usually after a bad merge or a hand-edited `down_revision`.

    ## Why is this bad?
    There is no order to apply them in: Alembic raises `CycleDetected`, Django
    `CircularDependencyError`, and no migration runs.

    ## Example
    ```python
    # alembic: alembic/versions/a1b2c3d4e5f6_add_email.py
    revision = "a1b2c3d4e5f6"
    down_revision = "b2c3d4e5f6a7"


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ```python
    # alembic: alembic/versions/b2c3d4e5f6a7_add_phone.py
    revision = "b2c3d4e5f6a7"
    down_revision = "a1b2c3d4e5f6"


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ## Use instead
    Point the oldest of them at the revision that really came before it:

    ```python
    # alembic: alembic/versions/a1b2c3d4e5f6_add_email.py
    revision = "a1b2c3d4e5f6"
    down_revision = None


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ```python
    # alembic: alembic/versions/b2c3d4e5f6a7_add_phone.py
    revision = "b2c3d4e5f6a7"
    down_revision = "a1b2c3d4e5f6"


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ## Fix safety
    No automatic fix: which link is wrong needs a human.
    """
    found = _here(ctx)
    if found is None:
        return
    history, nodes = found
    mine = {n.id: n for n in nodes}
    for cycle in history.cycles():
        for node_id in cycle:
            if node_id in mine:
                loop = " → ".join(_short(i) for i in [*cycle, cycle[0]])
                yield ctx.finding(
                    mine[node_id].span,
                    f"The parent chain loops ({loop}): there is no order to apply these "
                    "migrations in, and every migration command fails.",
                )


@rule(
    "duplicate-revision",
    summary="Two migration files declare the same revision id or version",
    severity=Severity.ERROR,
    category="history",
    anchors={
        "flyway": "Found more than one migration with version",
        "rails": "DuplicateMigrationVersionError",
    },
)
def duplicate_revision(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags files declaring the same id: an Alembic `revision`, a Flyway version (`V1_1__` and
    `V1.1__` are the same version), a Rails, golang-migrate, goose or dbmate version number,
    and Liquibase changeSets repeating an id and author within one changelog.

    ## Why is this bad?
    Usually a copied file or two branches that picked the same number. Flyway refuses to
    migrate ("Found more than one migration with version"), Rails raises
    `DuplicateMigrationVersionError`, Alembic silently keeps only one of the two files.

    ## Example
    ```sql
    -- flyway: db/migration/V7__add_email.sql
    ALTER TABLE users ADD COLUMN email text;
    ```

    ```sql
    -- flyway: db/migration/V7__add_phone.sql
    ALTER TABLE users ADD COLUMN phone text;
    ```

    ## Use instead
    Renumber the migration that is not applied anywhere yet:

    ```sql
    -- flyway: db/migration/V7__add_email.sql
    ALTER TABLE users ADD COLUMN email text;
    ```

    ```sql
    -- flyway: db/migration/V8__add_phone.sql
    ALTER TABLE users ADD COLUMN phone text;
    ```

    ## Fix safety
    No automatic fix: renumber the migration that is not applied anywhere yet.
    """
    yield from _duplicate_changesets(ctx)
    found = _here(ctx)
    if found is None:
        return
    history, nodes = found
    mine = {id(n) for n in nodes}
    for group in history.duplicates():
        for node in group:
            if id(node) not in mine:
                continue
            others = [o for o in group if o is not node]
            listed = ", ".join(_where(o, history.project.root) for o in others[:3])
            what = "revision" if history.is_graph else "version"
            yield ctx.finding(
                node.span,
                f"{what.capitalize()} {node.id} is also declared by {listed}: the tool refuses "
                f"to run (or keeps only one of them). Give this migration a new {what}.",
            )


def _duplicate_changesets(ctx: Context) -> Iterator[Finding]:
    """Liquibase identifies a changeSet by id, author and file: a repeat in one file."""
    first: dict[tuple[str, ...], int] = {}
    for cs in ctx.migration.changesets:
        if not cs.identity:
            continue
        if cs.identity in first:
            line = ctx.migration.lines.position(first[cs.identity])[0] + 1
            yield ctx.finding(
                cs.span,
                f"{cs.label} has the same id and author as the changeSet on line {line}: "
                'Liquibase refuses the changelog ("changesets had duplicate identifiers"). '
                "Give it a new id.",
            )
        else:
            first[cs.identity] = cs.span.start


@rule(
    "revision-id-mismatch",
    summary="The file name does not carry the revision the file declares",
    severity=Severity.INFO,
    category="history",
    anchors={"alembic": "file_template %(rev)s_%(slug)s"},
)
def revision_id_mismatch(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags an Alembic revision file whose name does not carry the `revision` it declares, under
    the project's `file_template` (by default `<rev>_<slug>.py`): a file copied from another
    revision and edited, or a revision id changed by hand.

    ## Why is this bad?
    People and tools find revisions by file name. A file named after one revision but declaring
    another is a copy-paste accident waiting to happen: the id in the name is the one the team
    will search for, and it leads to the wrong file.

    ## Example
    ```python
    # alembic: alembic/versions/27c6a30d7c24_add_email.py
    revision = "ae1027a6acf"
    down_revision = None


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ## Use instead
    ```python
    # alembic: alembic/versions/ae1027a6acf_add_email.py
    revision = "ae1027a6acf"
    down_revision = None


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ## Fix safety
    No automatic fix: rename the file (or correct the id if the file was copied).
    """
    found = _here(ctx)
    if found is None or found[0].project.tool not in ("alembic", "flask-migrate"):
        return
    history, nodes = found
    template = str(history.project.settings.get("file_template", "%(rev)s_%(slug)s"))
    if "%(rev)s" not in template:
        return
    at_start = template.startswith("%(rev)s")
    for node in nodes:
        name = node.path.stem
        ok = name.startswith(node.id) if at_start else node.id in name
        if ok:
            continue
        yield ctx.finding(
            node.span,
            f"This file declares revision {node.id}, but its name {node.path.name} does not "
            f"carry it (file_template {template}): rename the file so its name carries "
            f"{node.id}, or correct the id if the file was copied.",
        )


def _applied_where(change: AppliedChange) -> str:
    return f"{change.base_ref} (merge base {change.base[:10]})"


@rule(
    "modified-applied-migration",
    summary="A migration already applied on the default branch has been edited",
    severity=Severity.WARNING,
    category="history",
    anchors={"guide": "Don't modify existing migrations", "flyway": "validate (checksum)"},
)
def modified_applied_migration(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a migration file that exists in the merge base with the default branch (it has been
    merged, so it ran in production and on every teammate's database) and whose content now
    differs, in the work tree or in the editor. Files added on the current branch are free to
    change. "Applied" is judged from git alone; no database is contacted.

    ## Why is this bad?
    Databases that already ran the migration never run it again: the edit silently does not
    happen there, while new databases get the edited version, so environments drift apart.
    Flyway's validate fails on the changed checksum.

    ## Example
    The migration as it was merged last month, and as it is edited today:

    ```python
    # alembic: alembic/versions/1975ea83b712_add_email.py (on main)
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ```python
    # alembic: alembic/versions/1975ea83b712_add_email.py
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
        op.drop_column("users", "email")
    ```

    ## Use instead
    Leave the merged migration as it is and write a new one that makes the change:

    ```python
    # alembic: alembic/versions/1975ea83b712_add_email.py (on main)
    revision = "1975ea83b712"
    down_revision = None


    def upgrade():
        op.add_column("users", sa.Column("email", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "email")
    ```

    ```python
    # alembic: alembic/versions/ae1027a6acf_add_phone.py
    revision = "ae1027a6acf"
    down_revision = "1975ea83b712"


    def upgrade():
        op.add_column("users", sa.Column("phone", sa.Text(), nullable=True))


    def downgrade():
        op.drop_column("users", "phone")
    ```

    ## Fix safety
    No automatic fix.
    """
    index = ctx.applied
    if index is None:
        return
    path = Path(os.path.abspath(ctx.migration.path))
    for change in index.changes([path], {path: ctx.migration.text}):
        if change.kind != "modified":
            continue
        nodes = ctx.history.nodes_in(path) if ctx.history is not None else []
        at = nodes[0].span if nodes else first_line(ctx)
        yield ctx.finding(
            at,
            f"This migration is already applied on {_applied_where(change)} and has been "
            "edited: databases that ran it will never see the change, new ones will. Revert "
            "the edit and write a new migration.",
        )


@rule(
    "deleted-applied-migration",
    summary="A migration applied on the default branch has been deleted",
    severity=Severity.WARNING,
    category="history",
    anchors={"flyway": "validate (missing applied migration)"},
)
def deleted_applied_migration(ctx: Context) -> Iterator[Finding]:
    """
    ## What it does
    Flags a migration file that exists in the merge base with the default branch but no
    longer in the work tree. It is reported on the first line of the migration that now
    follows the deleted one in its folder (or the last one), since the deleted file cannot be
    shown; `migration-lsp check` names the deleted path.

    ## Why is this bad?
    Databases that ran the migration keep its changes while new ones never get them; Alembic
    and Django cannot find a revision the database says it is at, and Flyway's validate fails
    on the missing applied migration.

    ## Example
    `V3` is on the default branch (so it ran in production); this branch deletes it and adds `V4`:

    ```sql
    -- flyway: db/migration/V3__add_email.sql (on main, deleted on this branch)
    ALTER TABLE users ADD COLUMN email text;
    ```

    ```sql
    -- flyway: db/migration/V4__add_phone.sql
    ALTER TABLE users ADD COLUMN phone text;
    ```

    ## Use instead
    Keep the file; to undo its effect, write a new migration:

    ```sql
    -- flyway: db/migration/V3__add_email.sql (on main)
    ALTER TABLE users ADD COLUMN email text;
    ```

    ```sql
    -- flyway: db/migration/V4__add_phone.sql
    ALTER TABLE users ADD COLUMN phone text;
    ```

    ## Fix safety
    No automatic fix.
    """
    index, history = ctx.applied, ctx.history
    if index is None or history is None:
        return
    project = history.project
    deleted = index.deleted(project.migration_dirs, project.is_migration_file)
    if not deleted:  # the usual case: no need to look further
        return
    here = Path(os.path.abspath(ctx.migration.path))
    targets = history.memo(
        ("deleted-applied", id(index)), lambda: (index, _deleted_targets(project, deleted))
    )
    if targets[0] is not index:  # another check's index (a reused id)
        targets = (index, _deleted_targets(project, deleted))
    for change in targets[1].get(here, ()):
        yield ctx.finding(
            first_line(ctx),
            f"{change.path.name} is applied on {_applied_where(change)} and has been deleted: "
            "databases that ran it keep its changes, new ones never get them, and the tool "
            "may refuse to run. Restore it; undo its effect with a new migration.",
        )


def _deleted_targets(
    project: Project, deleted: list[AppliedChange]
) -> dict[Path, list[AppliedChange]]:
    """Where each deleted migration is reported: on the migration that now follows it in its
    folder (or the last one), by absolute path; the folders are listed once."""
    folders: dict[Path, list[Path]] = {change.path.parent: [] for change in deleted}
    for path in project.migration_files():
        if path.parent in folders:
            folders[path.parent].append(path)
    out: dict[Path, list[AppliedChange]] = {}
    for change in deleted:
        siblings = sorted(folders[change.path.parent])
        after = [p for p in siblings if p.name > change.path.name]
        target = after[0] if after else (siblings[-1] if siblings else None)
        if target is None:
            continue
        here = Path(os.path.abspath(target))
        if here.parent == change.path.parent:
            out.setdefault(here, []).append(change)
    return out


HISTORY_RULES = (
    multiple_heads,
    missing_parent_revision,
    revision_cycle,
    duplicate_revision,
    revision_id_mismatch,
    modified_applied_migration,
    deleted_applied_migration,
)


def first_line(ctx: Context) -> Span:
    text = ctx.migration.text
    return Span(0, len(text.split("\n", 1)[0].rstrip("\r")))
