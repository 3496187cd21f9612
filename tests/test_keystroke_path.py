"""What runs on every keystroke stays light: libcst (tens of milliseconds per parse of a real
migration) is only for building fix edits when a code action is asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
from pathlib import Path
from migration_lsp.lsp.session import Session
root = Path(sys.argv[1])
session = Session()
session.set_folders([root])
count = 0
for path in sorted(root.rglob("*.py")):
    if "versions" in path.parts or "migrations" in path.parts:
        text = path.read_text(encoding="utf-8")
        document = session.analyse(path.as_uri(), path, text, 1)
        session.analyse(path.as_uri(), path, text.replace("(", "( ", 1), 2)
        count += len(document.analysis.findings)
assert count > 0, "nothing was analysed"
print("libcst" in sys.modules)
"""


def test_analysing_python_migrations_never_loads_libcst() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "examples")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert result.stdout.strip() == "False"
