"""The ``cmdb`` command: a thin wrapper over the services.

Every command takes ``--store-url`` (or ``--db`` for a SQLite file) and reads
``CMDB_*`` environment variables; ``cmdb COMMAND --help`` explains each one.

Only ``cmdb init``, ``cmdb serve``, ``cmdb demo``, ``cmdb restore`` (into a new
store) and a command given ``--create`` make a CMDB where there is none; any other
command answers "no CMDB at <path>" and exits 1, so a mistyped ``--db`` never
creates an empty store (nor its folders).

The commands live in one module per domain (``cmdb.cli.<domain>``) over the shared
options of :mod:`cmdb.cli.base`; this module only gathers them into the group.
"""

from __future__ import annotations

import click

from cmdb.cli import (
    access,
    audit,
    backup,
    cis,
    demo,
    impact,
    imports,
    labels,
    schema,
    serve,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="graph-cmdb")
def main() -> None:
    """A graph-backed CMDB: configuration items, relationships, history, impact, labels."""


for command in (
    serve.serve, demo.demo, schema.sdl, schema.check_schema, labels.labels_command,
    backup.init, backup.backup, backup.restore, backup.migrate,
    impact.impact, imports.import_file, audit.audit, access.token, access.user,
    cis.export,
):
    main.add_command(command)

if __name__ == "__main__":
    main()
