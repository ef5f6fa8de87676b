"""The ``cmdb`` command: one module of click commands per domain."""
