"""Workspace side: which migration projects a folder holds, and their configuration."""
