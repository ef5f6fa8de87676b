"""``python -m cmdb.cli``."""

from cmdb.cli.main import main

main()
