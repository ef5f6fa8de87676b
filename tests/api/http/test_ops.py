"""Operations: Prometheus /metrics, JSON request logs with request ids, the auth audit log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from cmdb.api.web.logs import JsonFormatter
from tests.api.conftest import LiveServer
from tests.api.signin import sign_in


class Lines(logging.Handler):
    """Collects log records as the JSON lines the server would write."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logs() -> Iterator[Lines]:
    handler = Lines()
    for name in ("cmdb.access", "cmdb.audit"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for name in ("cmdb.access", "cmdb.audit"):
        logging.getLogger(name).removeHandler(handler)


def test_metrics_count_requests_operations_and_store_calls(live: LiveServer) -> None:
    live.ok('mutation { createCI(input: {class: "Room", name: "r1"}) { id } }')
    live.ok("query Rooms { cis { totalCount } }")
    httpx.post(f"{live.url}/graphql", json={"query": "{ __typename }"})
    r = live.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert 'cmdb_graphql_operations_total{operation="mutation createCI",outcome="ok"} 1' in text
    assert 'cmdb_graphql_operations_total{operation="query cis",outcome="ok"} 1' in text
    assert 'cmdb_http_requests_total{method="POST",route="/graphql",status="2xx"}' in text
    assert 'cmdb_http_requests_total{method="POST",route="/graphql",status="4xx"} 1' in text
    assert 'cmdb_access_refusals_total{code="UNAUTHENTICATED"} 1' in text
    assert 'cmdb_store_call_duration_seconds_bucket{call="write",le="+Inf"}' in text
    assert 'cmdb_graphql_operation_duration_seconds_count{operation="query cis"} 1' in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2, line


def test_each_request_is_one_json_line_with_who_and_what(live: LiveServer, logs: Lines) -> None:
    r = live.client.post("/graphql", json={"query": "query Count { cis { totalCount } }"},
                         headers={"X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    made = live.client.post("/graphql", json={"query": "{ __typename }"},
                            headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    httpx.post(f"{live.url}/graphql", json={"query": "{ __typename }"},
               headers={"Authorization": "Bearer cmdb_not-a-real-token-0000000000"})
    # The server logs a request once its response is sent: the last line may come a
    # moment after the client has the response.
    deadline = time.monotonic() + 5
    while (not any(line.get("status") == 401 for line in logs.lines)
           and time.monotonic() < deadline):
        time.sleep(0.01)
    access = [line for line in logs.lines if line["logger"] == "cmdb.access"]
    first = next(line for line in access if line["request_id"] == "req-42")
    assert first["principal"] == "tests-admin"
    assert first["role"] == "admin"
    assert first["operation"] == "query cis"
    assert first["operation_name"] == "Count"
    assert first["status"] == 200
    assert isinstance(first["duration_ms"], float)
    refused = [line for line in access if line["status"] == 401]
    assert refused
    assert refused[0]["refusal"] == "UNAUTHENTICATED"
    audit = [line for line in logs.lines if line["logger"] == "cmdb.audit"]
    assert {"event": "auth.refused", "reason": "unknown token"}.items() <= audit[-1].items()


def test_the_audit_log_records_sign_ins_and_token_management(live: LiveServer,
                                                             logs: Lines) -> None:
    live.ok('mutation { createUser(login: "li.na", password: "long enough 1", role: READER) '
            "{ login } }")
    live.ok('mutation { createToken(name: "scanner", role: LABELER) { token } }')
    live.ok('mutation { revokeToken(id: "scanner") { active } }')
    with httpx.Client(base_url=live.url) as c:
        sign_in(c, "li.na", "nope nope")
        sign_in(c, "li.na", "long enough 1")
    events = [(line["event"], line.get("user") or line.get("token"))
              for line in logs.lines if line["logger"] == "cmdb.audit"]
    assert ("user.created", "li.na") in events
    assert ("token.created", "scanner") in events
    assert ("token.revoked", "scanner") in events
    assert ("signin.failed", "li.na") in events
    assert ("signin.ok", "li.na") in events
    assert not [line for line in logs.lines if "nope nope" in json.dumps(line)]
