"""What the Neo4j adapter tells the CMDB when the server refuses a unit of work."""

from __future__ import annotations

from neo4j.exceptions import Neo4jError, TransientError

from cmdb.errors import LimitExceededError
from cmdb.store.neo4j.store import TOO_LARGE, _transient


def test_a_unit_of_work_over_the_transaction_memory_is_a_coded_refusal() -> None:
    server = Neo4jError._hydrate_neo4j(  # what the driver raises, as it builds it
        code=TOO_LARGE, message="The allocation of an extra 2.0 MiB would use more than "
        "the limit 1.4 GiB. dbms.memory.transaction.total.max threshold reached")
    assert isinstance(server, TransientError)
    mapped = _transient(server)
    assert isinstance(mapped, LimitExceededError)
    assert mapped.code == "LIMIT_EXCEEDED"
    assert "dbms.memory.transaction.total.max" in mapped.message
    assert mapped.details["setting"] == "dbms.memory.transaction.total.max"


def test_other_transient_errors_pass_through() -> None:
    deadlock = Neo4jError._hydrate_neo4j(
        code="Neo.TransientError.Transaction.DeadlockDetected", message="deadlock")
    assert isinstance(deadlock, TransientError)
    assert _transient(deadlock) is deadlock
