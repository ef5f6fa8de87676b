"""The command line behind ``scripts/neo4j-server``: start, stop and show a Neo4j 5.26
for manual work, keeping its home, pidfile and state under ``.cache/neo4j/run``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.neo4j_install import (
    ENTRY_POINT,
    REPO_ROOT,
    _read_text,
    cache_dir,
    ensure_neo4j_jars,
)
from tests.support.neo4j_server import ENV_PASSWORD, ENV_URI, ENV_USER, Neo4jServer


def _run_dir(root: Path) -> Path:
    """Where the CLI keeps its server's home, pidfile and state."""
    return cache_dir(root) / "run"


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_our_server(pid: int, home: Path) -> bool:
    """True if ``pid`` is a Neo4j JVM of ``home`` (guards against a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid)
    return ENTRY_POINT.encode() in cmdline and f"--home-dir={home}".encode() in cmdline


def _cli_start(root: Path, port: int | None, fresh: bool) -> int:
    """``start``: launch a detached server (or report the running one) and print how to reach it."""
    run = _run_dir(root)
    state_file = run / "neo4j.json"
    pid_file = run / "neo4j.pid"
    home = run / "home"
    state = json.loads(_read_text(state_file) or "{}")
    pid = state.get("pid")
    if isinstance(pid, int) and _pid_alive(pid) and _is_our_server(pid, home):
        print(f"already running: {state['uri']} pid {pid}")
        return 0
    if fresh:
        shutil.rmtree(home, ignore_errors=True)
    saved_port = state.get("port")
    if port is None and isinstance(saved_port, int) and (home / "data").exists():
        port = saved_port
    run.mkdir(parents=True, exist_ok=True)
    server = Neo4jServer(root, home=home, port=port, use_env=False, die_with_parent=False)
    server.start()
    pid = server.detach()
    user, password = server.auth
    state = {
        "pid": pid,
        "uri": server.uri,
        "port": server.port,
        "user": user,
        "password": password,
        "home": str(home),
        "log": str(server.log_path),
    }
    state_file.write_text(json.dumps(state, indent=2) + "\n")
    pid_file.write_text(f"{pid}\n")
    print(
        f"{server.uri}\npid {pid} (pidfile {pid_file}), started in "
        f"{server.last_start_seconds:.1f} s, log {server.log_path}"
    )
    print(f"export {ENV_URI}={server.uri} {ENV_USER}={user} {ENV_PASSWORD}={password}")
    return 0


def _cli_stop(root: Path, timeout: float) -> int:
    """``stop``: SIGTERM the CLI's server, SIGKILL it after ``timeout`` seconds."""
    run = _run_dir(root)
    state = json.loads(_read_text(run / "neo4j.json") or "{}")
    pid = state.get("pid")
    home = Path(state.get("home", run / "home"))
    if not isinstance(pid, int) or not _pid_alive(pid) or not _is_our_server(pid, home):
        print("not running")
        (run / "neo4j.pid").unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _pid_alive(pid):
            time.sleep(0.1)
        print(f"killed pid {pid} (no exit {timeout:.0f} s after SIGTERM)")
    else:
        print(f"stopped pid {pid}")
    (run / "neo4j.pid").unlink(missing_ok=True)
    state["pid"] = None
    (run / "neo4j.json").write_text(json.dumps(state, indent=2) + "\n")
    return 0


def _cli_status(root: Path) -> int:
    """``status``: print whether the CLI's server runs; exit code 3 if it does not."""
    run = _run_dir(root)
    state = json.loads(_read_text(run / "neo4j.json") or "{}")
    pid = state.get("pid")
    home = Path(state.get("home", run / "home"))
    if isinstance(pid, int) and _pid_alive(pid) and _is_our_server(pid, home):
        print(f"running: {state['uri']} pid {pid}")
        return 0
    print("not running")
    return 3


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scripts/neo4j-server``: start, stop or show a long-lived dev server."""
    parser = argparse.ArgumentParser(
        prog="scripts/neo4j-server",
        description=(
            "Run the Neo4j test server outside pytest (jars from Maven Central, no Docker). "
            f"Its home is .cache/neo4j/run/home; the pid goes to .cache/neo4j/run/neo4j.pid. "
            f"Point the tests at it with the printed export line ({ENV_URI}, ...)."
        ),
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    sub = parser.add_subparsers(dest="action", required=True)
    start = sub.add_parser("start", help="start the server (prints URI, pid, credentials)")
    start.add_argument("--port", type=int, help="Bolt port (default: last one, else free)")
    start.add_argument("--fresh", action="store_true", help="delete the old data first")
    stop = sub.add_parser("stop", help="stop it: SIGTERM, then SIGKILL after --timeout")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    sub.add_parser("status", help="say whether it runs (exit code 3 if not)")
    sub.add_parser("fetch", help="only fetch the jars into .cache/neo4j/lib")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    try:
        if args.action == "start":
            return _cli_start(root, args.port, args.fresh)
        if args.action == "stop":
            return _cli_stop(root, args.timeout)
        if args.action == "fetch":
            print(ensure_neo4j_jars(root))
            return 0
        return _cli_status(root)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
