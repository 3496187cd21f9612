"""migration-lsp: finds unsafe database migrations in the editor and in CI."""

__version__ = "0.1.0"
