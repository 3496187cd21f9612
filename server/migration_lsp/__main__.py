from migration_lsp.cli import main

raise SystemExit(main())
