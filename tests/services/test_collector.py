"""The cycle collector pauses for bulk jobs and comes back as it was."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from cmdb.services.collector import collector_paused, tidy


@pytest.fixture
def enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_nested_jobs_share_one_pause(enabled: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer job still runs
    assert gc.isenabled()


def test_a_failing_job_still_resumes_it(enabled: None) -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_paused_by_the_host_stays_paused(enabled: None) -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_tidy_frees_cycles_made_while_paused(enabled: None) -> None:
    class Node:
        ref: object = None

    with collector_paused():
        a, b = Node(), Node()
        a.ref, b.ref = b, a
        dead = weakref.ref(a)
        del a, b
        kept = [Node() for _ in range(5000)]  # enough for automatic collections to run
        assert dead() is not None  # paused: nothing collected it
        del kept
        tidy()
        assert dead() is None
