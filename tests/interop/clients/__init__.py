"""Thin wrappers around each real client, shared by the interop tests."""
