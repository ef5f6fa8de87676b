"""Files the CMDB creates that hold its data: private to their owner (and a group).

The SQLite database (and the ``-wal``/``-shm`` files SQLite makes beside it, which
take the database's mode) and backup dumps hold password hashes and token hashes,
so they are created ``0600``: readable by the user the CMDB runs as, nobody else.
With ``CMDB_FILE_GROUP`` set they are created ``0640`` and given that group, for an
operator group that runs backups or reads the file. A process umask can only make
them stricter.

Files made before this existed keep their content; on open, a database readable by
"other" users loses those permission bits (with a warning in the log).
"""

from __future__ import annotations

import grp
import logging
import os
import stat
from pathlib import Path
from typing import IO

from cmdb.errors import ValidationError

log = logging.getLogger("cmdb.files")

PRIVATE = 0o600
GROUP_READABLE = 0o640


def file_mode(group: str | None) -> int:
    """The mode of a new data file: ``0600``, or ``0640`` when a group is configured."""
    return GROUP_READABLE if group else PRIVATE


def group_id(group: str | None) -> int | None:
    """The id of the configured group (a name or a number); ``None`` when none is set."""
    if not group:
        return None
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValidationError(f"file group {group!r} does not exist on this machine",
                              field="file_group") from None


def _give_group(fd: int, group: str | None) -> None:
    gid = group_id(group)
    if gid is not None:
        os.fchown(fd, -1, gid)


def create_private(path: Path, group: str | None = None) -> bool:
    """Create ``path`` empty with the private mode if it does not exist yet; True when
    this call created it. The parent folder must exist."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode(group))
    except FileExistsError:
        return False
    try:
        _give_group(fd, group)
    finally:
        os.close(fd)
    return True


def open_private(path: Path, group: str | None = None) -> IO[str]:
    """Open ``path`` for writing UTF-8 text, created (or truncated) with the private mode:
    for backups and other dumps of the CMDB's data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode(group))
    try:
        os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & file_mode(group))
        _give_group(fd, group)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "w", encoding="utf-8")


def tighten(path: Path) -> None:
    """Take away what "other" users may do with an existing data file (made by an older
    version, or by hand); log when it had to."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o007:
        try:
            path.chmod(mode & ~0o007)
        except OSError as exc:
            log.warning("%s is readable by every local user (mode %o) and could not be "
                        "made private: %s", path, mode, exc)
            return
        log.warning("%s was readable by every local user (mode %o); now %o", path, mode,
                    mode & ~0o007)
