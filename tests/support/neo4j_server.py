"""Start and stop a real Neo4j 5.26 LTS Community server for the test suite, without Docker.

Each server runs in its own temporary home with a generated ``neo4j.conf``: loopback only, one
free port for Bolt, HTTP and HTTPS off, authentication on with known credentials, small memory,
no usage reporting. What it runs from (the jars from Maven Central, the JVM and its flags, the
warm-up cache that makes a start about three times quicker) is
:mod:`tests.support.neo4j_install`.

Set ``CMDB_TEST_NEO4J_URI`` (with ``CMDB_TEST_NEO4J_USER`` and ``CMDB_TEST_NEO4J_PASSWORD``) to
use a server that is already running instead: then nothing is started or stopped.
Pass ``fast_start=False`` for the plain setup: distribution flags only, no warm-up cache.

Nothing here skips a test: if Neo4j cannot be fetched or started, an exception says why.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import (
    AuthError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from tests.support.neo4j_install import (
    REPO_ROOT,
    WARM_UP_QUERIES,
    _classpath,
    _read_text,
    _tail_lines,
    ensure_neo4j_jars,
    ensure_warm_cache,
    find_java,
    free_port,
    jvm_command,
    neo4j_conf,
    write_initial_password,
)

Auth = tuple[str, str]
"""A (user, password) pair, as the Neo4j driver takes it."""

ENV_URI = "CMDB_TEST_NEO4J_URI"
ENV_USER = "CMDB_TEST_NEO4J_USER"
ENV_PASSWORD = "CMDB_TEST_NEO4J_PASSWORD"

DEFAULT_USER = "neo4j"
DEFAULT_PASSWORD = "cmdb-test-password"
"""Known credentials of the servers started here (Neo4j wants at least 8 characters)."""

# --------------------------------------------------------------------------------------------
# External server from the environment


def external_neo4j_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, Auth] | None:
    """Return ``(uri, auth)`` of the server named by ``CMDB_TEST_NEO4J_URI``, or None if unset.

    ``CMDB_TEST_NEO4J_USER`` defaults to ``neo4j``; ``CMDB_TEST_NEO4J_PASSWORD`` is required.
    """
    env = os.environ if environ is None else environ
    uri = env.get(ENV_URI, "").strip()
    if not uri:
        return None
    password = env.get(ENV_PASSWORD)
    if password is None:
        raise RuntimeError(f"{ENV_URI} is set, so {ENV_PASSWORD} must be set too")
    return uri, (env.get(ENV_USER, "").strip() or DEFAULT_USER, password)


# --------------------------------------------------------------------------------------------
# The server


class Neo4jServer:
    """A real Neo4j Community server for tests: one JVM, one temporary home, one Bolt port.

    ``start()`` launches it and returns once a query runs; ``stop()`` ends it by pid (SIGTERM,
    then SIGKILL after ``stop_timeout``); ``restart()`` does both, keeping data dir and port;
    ``cleanup()`` stops it and deletes the temporary home. It is also a context manager.
    If ``CMDB_TEST_NEO4J_URI`` is set (and ``use_env`` is true), no process is started: the
    object just points at that server, ``stop()`` does nothing, and ``restart()`` refuses.
    """

    def __init__(
        self,
        root: Path = REPO_ROOT,
        *,
        home: Path | None = None,
        port: int | None = None,
        password: str = DEFAULT_PASSWORD,
        heap: str = "512m",
        initial_heap: str = "128m",
        page_cache: str = "64m",
        startup_timeout: float = 90.0,
        stop_timeout: float = 30.0,
        use_env: bool = True,
        fast_start: bool = True,
        die_with_parent: bool = True,
        extra_jvm_flags: Sequence[str] = (),
        extra_conf: Mapping[str, str] | None = None,
    ) -> None:
        """Describe a server; nothing runs until ``start()``.

        ``home`` defaults to a new temporary directory (deleted by ``cleanup()``), ``port`` to a
        free one. The user is always ``neo4j``, the only one an initial password can be set
        for; ``password`` needs at least 8 characters. ``die_with_parent`` makes the JVM get
        SIGTERM if this process dies without stopping it (Linux ``setpriv --pdeathsig``, when
        available). ``extra_conf`` adds ``neo4j.conf`` settings (e.g. a transaction memory
        limit).
        """
        self.root = root.resolve()
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.heap = heap
        self.initial_heap = initial_heap
        self.page_cache = page_cache
        self.fast_start = fast_start
        self.die_with_parent = die_with_parent
        self.extra_jvm_flags = tuple(extra_jvm_flags)
        self.extra_conf = dict(extra_conf or {})
        self.last_start_seconds: float | None = None
        """Seconds from launching the JVM to the first answered query, in the last ``start()``
        (fetching jars or a warm-up run before the launch is not counted)."""
        self._home = home.resolve() if home is not None else None
        self._owns_home = False
        self._port = port
        self._user = DEFAULT_USER
        self._password = password
        self._process: subprocess.Popen[bytes] | None = None
        self._command: list[str] = []
        self._dump_archive_to: Path | None = None  # set only for the warm-up run
        self._external = external_neo4j_from_env() if use_env else None

    # -- what a test needs --------------------------------------------------------------------

    @property
    def uri(self) -> str:
        """The Bolt URI, ``bolt://127.0.0.1:PORT`` (or the external server's)."""
        if self._external is not None:
            return self._external[0]
        if self._port is None:
            raise RuntimeError("the Neo4j server has no port yet: call start() first")
        return f"bolt://127.0.0.1:{self._port}"

    @property
    def auth(self) -> Auth:
        """The ``(user, password)`` to connect with."""
        if self._external is not None:
            return self._external[1]
        return (self._user, self._password)

    @property
    def external(self) -> bool:
        """True when this points at a server named by ``CMDB_TEST_NEO4J_URI``."""
        return self._external is not None

    @property
    def port(self) -> int | None:
        """The Bolt port of a local server (None before the first start, or when external)."""
        return None if self._external is not None else self._port

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs, else None."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    @property
    def home(self) -> Path | None:
        """The server's home directory (conf/, data/, logs/), once chosen."""
        return self._home

    @property
    def log_path(self) -> Path | None:
        """The JVM's stdout and stderr (Neo4j's console log), appended to across restarts."""
        return None if self._home is None else self._home / "logs" / "console.log"

    @property
    def command(self) -> list[str]:
        """The exact command line of the last launch."""
        return list(self._command)

    def driver(self) -> Driver:
        """A new driver for this server; the caller closes it."""
        return GraphDatabase.driver(self.uri, auth=self.auth)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Launch the server and wait until Bolt answers a query; raise if it does not.

        The first start of a checkout may fetch the jars and make the warm-up cache first; the
        ``startup_timeout`` counts from the JVM's launch.
        """
        started = time.monotonic()
        if self._external is not None:
            _wait_until_ready(self.uri, self.auth, started + self.startup_timeout, None, None)
            self.last_start_seconds = time.monotonic() - started
            return
        if self.pid is not None:
            raise RuntimeError(f"the Neo4j server is already running (pid {self.pid})")
        lib = ensure_neo4j_jars(self.root)
        java = find_java()
        classpath = _classpath(lib)
        archive: Path | None = None
        template: Path | None = None
        if self.fast_start and self._dump_archive_to is None:
            archive, template = ensure_warm_cache(
                self.root, java, classpath, self._user, self._password,
                functools.partial(_warm_up_run, self.root, self._password),
            )
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="cmdb-neo4j-"))
            self._owns_home = True
            _OWNED_HOMES.add(self._home)
        if self._port is None:
            self._port = free_port()
        home = self._home
        for sub in ("conf", "logs", "run"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        if not (home / "data").exists():
            if template is not None:
                shutil.copytree(template, home / "data")
            else:
                write_initial_password(home / "data", self._user, self._password)
        (home / "conf" / "neo4j.conf").write_text(
            neo4j_conf(self._port, page_cache=self.page_cache, extra=self.extra_conf)
        )
        self._command = jvm_command(
            java, classpath, home, heap=self.heap, initial_heap=self.initial_heap,
            fast_start=self.fast_start, archive=archive, dump_archive_to=self._dump_archive_to,
            extra_flags=self.extra_jvm_flags,
        )
        launch = self._command
        if self.die_with_parent and shutil.which("setpriv"):
            launch = ["setpriv", "--pdeathsig", "TERM", *launch]
        log_path = home / "logs" / "console.log"
        started = time.monotonic()
        with log_path.open("ab") as log:
            log.write(f"\n=== launch at {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                launch,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _RUNNING.add(self)
        try:
            _wait_until_ready(
                self.uri, self.auth, started + self.startup_timeout, self._process, home
            )
        except BaseException:
            self._kill()
            raise
        self.last_start_seconds = time.monotonic() - started

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server by pid: SIGTERM, then SIGKILL if it has not exited after ``timeout``.

        Does nothing for an external server or one that is not running.
        """
        process = self._process
        if self._external is not None or process is None:
            return
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(self.stop_timeout if timeout is None else timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            self._process = None
            _RUNNING.discard(self)

    def restart(self) -> None:
        """Stop and start again with the same home (so the same data) and the same port."""
        if self._external is not None:
            raise RuntimeError(f"cannot restart the external Neo4j server at {self.uri}")
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and delete its home if it was a temporary one made here."""
        self.stop()
        if self._owns_home and self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            _OWNED_HOMES.discard(self._home)
            self._home = None
            self._owns_home = False

    def detach(self) -> int:
        """Leave the server running after this Python process exits; return its pid (for the CLI).

        This object then forgets the process: ``stop()`` no longer reaches it.
        """
        pid = self.pid
        if pid is None:
            raise RuntimeError("the Neo4j server is not running")
        self._process = None
        _RUNNING.discard(self)
        return pid

    def __enter__(self) -> Neo4jServer:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and remove its temporary home."""
        self.cleanup()

    # -- internals ------------------------------------------------------------------------------

    def _kill(self) -> None:
        """End the JVM at once (after a failed start)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None
        _RUNNING.discard(self)


def wipe(uri: str, auth: Auth, database: str | None = None) -> None:
    """Delete every node and relationship, keeping constraints and indexes.

    Deletes in batches of 10,000 nodes so a large graph does not need one huge transaction.
    """
    with GraphDatabase.driver(uri, auth=auth) as driver, driver.session(database=database) as s:
        s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


# --------------------------------------------------------------------------------------------
# The warm-up run


@contextlib.contextmanager
def _warm_up_run(root: Path, password: str, archive: Path) -> Iterator[Path]:
    """One server on a fresh store through the warm-up workload, its JVM writing the CDS
    ``archive`` (see :data:`~tests.support.neo4j_install.WarmUpRun`)."""
    server = Neo4jServer(
        root, password=password, use_env=False, fast_start=True, stop_timeout=180.0
    )
    server._dump_archive_to = archive
    try:
        server.start()
        with server.driver() as driver:
            for query in WARM_UP_QUERIES:
                driver.execute_query(query)
        wipe(server.uri, server.auth)
        server.stop()  # a clean shutdown: the JVM writes the archive as it exits
        assert server.home is not None
        yield server.home / "data"
    finally:
        server.cleanup()


# --------------------------------------------------------------------------------------------
# Helpers


def _wait_until_ready(
    uri: str,
    auth: Auth,
    deadline: float,
    process: subprocess.Popen[bytes] | None,
    home: Path | None,
) -> None:
    """Poll until ``RETURN 1`` runs over Bolt; raise with the server's log tail if it cannot."""
    last_error: BaseException | None = None
    with GraphDatabase.driver(uri, auth=auth, connection_timeout=2.0) as driver:
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"the Neo4j server exited with code {process.returncode} while starting"
                    f"{_log_tails(home)}"
                )
            try:
                driver.verify_connectivity()
                driver.execute_query("RETURN 1")
                return
            except AuthError as error:
                raise RuntimeError(
                    f"Neo4j at {uri} refused the credentials for user {auth[0]!r}: {error}"
                    f"{_log_tails(home)}"
                ) from error
            except (ServiceUnavailable, SessionExpired, TransientError, OSError) as error:
                last_error = error
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"Neo4j at {uri} did not answer within the start-up deadline "
                    f"(last error: {last_error!r}){_log_tails(home)}"
                )
            time.sleep(0.1)


def _log_tails(home: Path | None) -> str:
    """The last lines of the console log and debug log of a server home, for error messages."""
    if home is None:
        return ""
    parts = []
    for name, lines in (("console.log", 60), ("debug.log", 30)):
        path = home / "logs" / name
        text = _read_text(path)
        if text:
            parts.append(f"\n--- last lines of {path} ---\n{_tail_lines(text, lines)}")
    return "".join(parts)


_RUNNING: set[Neo4jServer] = set()
_OWNED_HOMES: set[Path] = set()


@atexit.register
def _clean_up_at_exit() -> None:
    """Stop servers left running and delete temporary homes left behind, at interpreter exit.

    So no JVM outlives the test run and /tmp does not fill up when a fixture only calls
    ``stop()``; ``cleanup()`` does the same at once.
    """
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):
            server.stop(timeout=10.0)
    for home in list(_OWNED_HOMES):
        shutil.rmtree(home, ignore_errors=True)
