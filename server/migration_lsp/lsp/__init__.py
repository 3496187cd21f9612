"""The language server: a thin layer that converts between LSP and the engine."""
