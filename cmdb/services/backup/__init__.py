"""Backups: the whole CMDB dumped to one file and restored from it."""
