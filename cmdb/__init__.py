"""A graph-backed, audited CMDB: configuration items, relationships, history, impact."""

__version__ = "0.1.0"
