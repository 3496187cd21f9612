"""Migration history: which revision lives where, and how revisions chain."""
