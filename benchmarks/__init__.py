"""The migration-lsp benchmark: generated and real inputs, measured through the real interfaces
(the language server over stdio, the CLI as a process) side by side with squawk.

Run it with `python -m benchmarks` (see `benchmarks/README.md`)."""
