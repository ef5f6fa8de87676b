"""``kill -9`` in the middle of big writes, on a SQLite file served by ``cmdb serve``:
afterwards the store opens cleanly and holds either what it held before or all of it.

1. A large ``cmdb restore`` (one transaction) is killed while it writes, with the
   server running on the same file: the server keeps answering, the CMDB is as before,
   and the same restore run again lands whole (its backup equals the dump).
2. The server itself is killed while clients update CIs: every update it
   acknowledged is there when it starts again.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cmdb.model.records import CI
from tests.api.conftest import free_port

CMDB = [str(Path(sys.executable).with_name("cmdb"))]  # the installed command
RECORDS = 60_000


def cli(*args: str) -> str:
    done = subprocess.run([*CMDB, *args], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def write_dump(path: Path, count: int) -> None:
    """A valid backup file holding ``count`` CIs (see cmdb.services.backup.service)."""
    digest = hashlib.sha256()
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"format": "graph-cmdb-backup", "version": 1, "source": "sqlite",
                            "created_at": "2026-01-01T00:00:00+00:00"}) + "\n")
        for i in range(count):
            ci = CI(class_name="Server", name=f"kill-{i:06d}", state="in_stock",
                    asset_tag=f"KT-{i:06d}", attributes={"note": "x" * 200})
            line = json.dumps({"kind": "ci", "record": ci.model_dump(mode="json")},
                              ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
            digest.update(line.encode())
            f.write(line)
        f.write(json.dumps({"kind": "end", "counts": {"ci": count, "relationship": 0,
                                                      "history": 0, "doc": 0},
                            "sha256": digest.hexdigest()}) + "\n")


def ci_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return int(conn.execute("SELECT count(*) FROM cis").fetchone()[0])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client, Path]]:
    """``cmdb serve`` on a fresh SQLite file, and a client holding an admin token."""
    db = tmp_path / "kill.sqlite3"
    token = cli("token", "create", "--name", "kill-admin", "--role", "admin",
                "--db", str(db), "--create").strip()
    port = free_port()
    server = subprocess.Popen([*CMDB, "serve", "--db", str(db), "--port", str(port),
                               "--log-level", "warning"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "cmdb serve did not start"
        time.sleep(0.1)
    try:
        yield server, client, db
    finally:
        client.close()
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)


def count_api(client: httpx.Client) -> int:
    r = client.post("/graphql", json={"query": "{ cis { totalCount } }"})
    assert r.status_code == 200, r.text
    return int(r.json()["data"]["cis"]["totalCount"])


@pytest.mark.slow
def test_kill_9_during_a_restore_leaves_the_store_as_before(
    served: tuple[subprocess.Popen[bytes], httpx.Client, Path], tmp_path: Path
) -> None:
    _server, client, db = served
    dump = tmp_path / "big.jsonl"
    write_dump(dump, RECORDS)
    wal = db.with_name(db.name + "-wal")
    base = wal.stat().st_size if wal.exists() else 0
    restore = subprocess.Popen([*CMDB, "restore", "--db", str(db), str(dump)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = None
    deadline = time.monotonic() + 120
    while restore.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > base + 8_000_000:
            os.kill(restore.pid, signal.SIGKILL)
            killed_at = wal.stat().st_size
            break
        time.sleep(0.005)
    restore.wait(timeout=30)
    assert killed_at is not None, "the restore finished before it could be killed"
    assert restore.returncode == -signal.SIGKILL
    assert count_api(client) == 0  # the server never saw a partial restore
    assert client.get("/readyz").status_code == 200
    assert ci_count(db) == 0
    cli("restore", "--db", str(db), str(dump))
    assert count_api(client) == RECORDS
    out = tmp_path / "after.jsonl"
    cli("backup", "--db", str(db), "-o", str(out))
    kinds = [json.loads(line).get("kind") for line in out.read_text().splitlines()[1:-1]]
    assert kinds.count("ci") == RECORDS
    print(f"restore of {RECORDS} CIs killed with {killed_at / 1e6:.1f} MB in the WAL")


@pytest.mark.slow
def test_kill_9_of_the_server_keeps_every_acknowledged_update(
    served: tuple[subprocess.Popen[bytes], httpx.Client, Path], tmp_path: Path
) -> None:
    server, client, db = served
    ids = [client.post("/graphql", json={"query": "mutation($n: String!) { createCI(input: "
                                                  "{class: \"Server\", name: $n}) { id } }",
                                         "variables": {"n": f"k{i}"}}).json()[
        "data"]["createCI"]["id"] for i in range(10)]
    acknowledged: dict[str, int] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def writer(ci: str) -> None:
        with httpx.Client(base_url=str(client.base_url), headers=dict(client.headers),
                          timeout=10) as c:
            version = 1
            while not stop.is_set():
                try:
                    r = c.post("/graphql", json={"query": "mutation($id: ID!, $v: Int!) { "
                               "updateCI(id: $id, expectedVersion: $v, input: {attributes: "
                               "{note: \"n\"}}) { version } }", "variables": {
                                   "id": ci, "v": version}})
                except httpx.TransportError:
                    return
                data = r.json().get("data") or {}
                if data.get("updateCI"):
                    version = data["updateCI"]["version"]
                    with lock:
                        acknowledged[ci] = version

    threads = [threading.Thread(target=writer, args=(ci,)) for ci in ids]
    for t in threads:
        t.start()
    time.sleep(2)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert sum(acknowledged.values()) > len(ids), "no update was acknowledged before the kill"
    ci_count(db)
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT id, version FROM cis").fetchall())
    for ci, version in acknowledged.items():
        assert stored[ci] >= version, f"{ci}: acknowledged v{version}, stored v{stored[ci]}"


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_of_the_server_ends_its_worker_processes(
    served: tuple[subprocess.Popen[bytes], httpx.Client, Path],
) -> None:
    """Reports and imports run in worker processes; a server killed with -9 must not
    leave them behind."""
    server, _client, _db = served
    deadline = time.monotonic() + 60
    while len(workers := children(server.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # started in the background when the server starts
    assert workers, "the server started no worker process"
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    deadline = time.monotonic() + 15
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if alive(w)], "worker processes outlived the server"
