"""Record ids: sortable by time, unique, random bytes never shared with a forked child."""

from __future__ import annotations

import os

from cmdb.model.records import new_id


def test_ids_are_unique_sortable_and_hex() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)


def test_a_forked_child_draws_its_own_random_bytes() -> None:
    new_id()  # the parent has bytes buffered
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.write(write, ",".join(new_id()[12:] for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    os.waitpid(pid, 0)
    parent = {new_id()[12:] for _ in range(50)}
    assert len(child) == 50
    assert not child & parent
