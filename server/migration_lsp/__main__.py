"""`python -m migration_lsp`: the command line, as editors start the server.

For `-m` (and `-c`) Python puts the current folder first on the module path, and editors
start the server in the workspace folder: a repository's `yaml.py` or `tree_sitter.py` would
be imported instead of the library, and run. That entry goes before anything else is
imported. (A repository's own `migration_lsp/` folder is found before this file runs: start
the server with `python -P -m migration_lsp` or the `migration-lsp` script to rule that out.)
"""

import os
import sys

if not sys.flags.safe_path and sys.path and os.path.abspath(sys.path[0] or ".") == os.getcwd():
    del sys.path[0]

from migration_lsp.cli import main

raise SystemExit(main())
