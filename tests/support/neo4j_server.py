"""Start and stop a real Neo4j 5.26 LTS Community server for the test suite, without Docker.

The server is plain jars from Maven Central (``scripts/neo4j/pom.xml``), copied once into
``<repo>/.cache/neo4j/lib`` by Maven and reused from then on, offline. Each server runs in its
own temporary home with a generated ``neo4j.conf``: loopback only, one free port for Bolt, HTTP
and HTTPS off, authentication on with known credentials, small memory, no usage reporting.

Set ``CMDB_TEST_NEO4J_URI`` (with ``CMDB_TEST_NEO4J_USER`` and ``CMDB_TEST_NEO4J_PASSWORD``) to
use a server that is already running instead: then nothing is started or stopped.

Starting fast matters, because the whole suite must stay quick. Besides the flags Neo4j's own
launcher passes, only the C1 JIT compiler runs (``-XX:TieredStopAtLevel=1``): on two cores, C2
compilations compete with the start-up work itself. And a one-off warm-up run leaves two things
under ``.cache/neo4j`` that make every later start about three times quicker:

* a class-data-sharing archive (AppCDS) of the classes a server loads, so later JVMs map them
  instead of loading and verifying some 15,000 classes again;
* a template ``data`` directory of a freshly initialised store, so a new server does not spend
  seconds creating the ``system`` and ``neo4j`` databases and their security graph.

The warm-up costs about half a minute once, so it is skipped when ``CI`` is set (a CI run in a
fresh clone would pay it and never reuse it); ``CMDB_TEST_NEO4J_WARM_UP=1`` or ``0`` decides
instead. The cached copies of the two signed jars (Eclipse Collections) lose their signatures:
the JVM would otherwise hash them on every start, and CDS skips signed jars.
Pass ``fast_start=False`` for the plain setup: distribution flags only, no warm-up cache.

Nothing here skips a test: if Neo4j cannot be fetched or started, an exception says why.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import zipfile
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

Auth = tuple[str, str]
"""A (user, password) pair, as the Neo4j driver takes it."""

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout this file belongs to: where ``scripts/neo4j/pom.xml`` and ``.cache/`` live."""

POM_PATH = Path("scripts/neo4j/pom.xml")
"""The pom naming the Neo4j version, relative to the repository root."""

CACHE_PATH = Path(".cache/neo4j")
"""Where jars, warm-up artefacts and the CLI's pidfile go, relative to the repository root
(unless ``CMDB_TEST_NEO4J_CACHE`` names another directory)."""

ENV_URI = "CMDB_TEST_NEO4J_URI"
ENV_USER = "CMDB_TEST_NEO4J_USER"
ENV_PASSWORD = "CMDB_TEST_NEO4J_PASSWORD"
ENV_CACHE = "CMDB_TEST_NEO4J_CACHE"
"""Optional: the cache directory to use instead of ``<repo>/.cache/neo4j`` (e.g. one that
outlives a fresh clone, as CI's is)."""
ENV_WARM_UP = "CMDB_TEST_NEO4J_WARM_UP"
"""``1`` or ``0``: whether to build the warm-up cache (CDS archive, store template) when it is
missing. Default: yes, except when ``CI`` is set (a CI run in a fresh clone pays the warm-up
and never reuses it). An existing warm-up cache is always used."""

DEFAULT_USER = "neo4j"
DEFAULT_PASSWORD = "cmdb-test-password"
"""Known credentials of the servers started here (Neo4j wants at least 8 characters)."""

DISTRIBUTION_JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
    # Added by the launcher itself (BootloaderOsAbstraction), after server.jvm.additional:
    "-Dfile.encoding=UTF-8",
)
"""The JVM flags the 5.26 tarball's ``neo4j console`` passes: its default ``neo4j.conf``
``server.jvm.additional`` lines plus what the launcher adds (heap flags come after these)."""

FAST_START_JVM_FLAGS: tuple[str, ...] = ("-XX:TieredStopAtLevel=1",)
"""Extra flags for a quick start on small machines: C1 only, no C2 compile threads."""

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"

_WARMUP_SCHEME = "1"  # bump to invalidate cached CDS archives and store templates
_JAR_SIGNATURE = re.compile(r"^META-INF/[^/]+\.(SF|RSA|DSA|EC)$", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Jars from Maven Central


def ensure_neo4j_jars(root: Path = REPO_ROOT) -> Path:
    """Return the directory holding the Neo4j server's jars, fetching them with Maven if needed.

    The jars are copied by ``mvn dependency:copy-dependencies`` from ``scripts/neo4j/pom.xml``
    into ``<root>/.cache/neo4j/lib``. A stamp records which pom they came from, so a populated
    cache is reused without running Maven (offline, in milliseconds) until the pom changes.
    Raises RuntimeError, with the tail of Maven's output, when the jars cannot be had.
    """
    root = root.resolve()
    pom = root / POM_PATH
    cache = cache_dir(root)
    lib = cache / "lib"
    if not pom.is_file():
        raise RuntimeError(f"Neo4j pom not found: {pom}")
    stamp = hashlib.sha256(pom.read_bytes()).hexdigest()
    if _read_text(lib / ".complete") == stamp:
        return lib
    with _cache_lock(cache):
        if _read_text(lib / ".complete") == stamp:  # another process filled it meanwhile
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError(
                "Maven ('mvn') is needed once to fetch the Neo4j server jars into "
                f"{lib}, but it is not on PATH (Debian: apt-get install maven)"
            )
        partial = cache / f"lib.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        command = [
            mvn,
            "-B",
            "--no-transfer-progress",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ]
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not any(partial.glob("neo4j-*.jar")):
            shutil.rmtree(partial, ignore_errors=True)
            output = _tail_lines(proc.stdout + proc.stderr, 40)
            raise RuntimeError(
                f"fetching the Neo4j jars failed (mvn exit code {proc.returncode}): "
                f"{' '.join(command)}\n--- last lines of Maven's output ---\n{output}"
            )
        _strip_jar_signatures(partial)
        (partial / ".complete").write_text(stamp)
        shutil.rmtree(lib, ignore_errors=True)
        partial.rename(lib)
    return lib


def cache_dir(root: Path = REPO_ROOT) -> Path:
    """The Neo4j cache: ``$CMDB_TEST_NEO4J_CACHE`` if set, else ``<root>/.cache/neo4j``."""
    override = os.environ.get(ENV_CACHE, "").strip()
    return Path(override).resolve() if override else root.resolve() / CACHE_PATH


def _strip_jar_signatures(lib: Path) -> None:
    """Drop signature files from signed jars in ``lib`` (a cache-only copy).

    Signed jars cost start-up time: the JVM verifies every entry's digest as it loads classes,
    and class-data sharing refuses to archive classes from signed jars. Maven already checked
    the downloads against the repository's checksums.
    """
    for jar in sorted(lib.glob("*.jar")):
        with zipfile.ZipFile(jar) as source:
            entries = source.infolist()
            if not any(_JAR_SIGNATURE.match(e.filename) for e in entries):
                continue
            unsigned = jar.with_suffix(".unsigned")
            with zipfile.ZipFile(unsigned, "w") as target:
                for entry in entries:
                    if not _JAR_SIGNATURE.match(entry.filename):
                        target.writestr(entry, source.read(entry))
        unsigned.replace(jar)


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
            archive, template = _ensure_warm_cache(
                self.root, java, classpath, self._user, self._password
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
        self._command = self._build_command(java, classpath, archive)
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

    def _build_command(self, java: Path, classpath: str, archive: Path | None) -> list[str]:
        """The JVM command line: distribution flags, heap, fast-start and CDS flags, entry point."""
        flags = [*DISTRIBUTION_JVM_FLAGS, f"-Xms{self.initial_heap}", f"-Xmx{self.heap}"]
        if self.fast_start:
            flags += FAST_START_JVM_FLAGS
        if self._dump_archive_to is not None:
            flags += [f"-XX:ArchiveClassesAtExit={self._dump_archive_to}", "-Xlog:cds*=off"]
        elif archive is not None:
            flags += [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds*=off"]
        flags += self.extra_jvm_flags
        assert self._home is not None
        return [
            str(java),
            *flags,
            "-cp",
            classpath,
            ENTRY_POINT,
            f"--home-dir={self._home}",
            f"--config-dir={self._home / 'conf'}",
            "--console-mode",
        ]

    def _kill(self) -> None:
        """End the JVM at once (after a failed start)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None
        _RUNNING.discard(self)


def neo4j_conf(port: int, *, page_cache: str = "64m",
               extra: Mapping[str, str] | None = None) -> str:
    """The ``neo4j.conf`` of a test server listening for Bolt on 127.0.0.1:``port``."""
    more = "".join(f"{k}={v}\n" for k, v in (extra or {}).items())
    return f"""\
# Generated by tests/support/neo4j_server.py for a throw-away test server.
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:{port}
server.bolt.advertised_address=127.0.0.1:{port}
server.bolt.tls_level=DISABLED
server.http.enabled=false
server.https.enabled=false
dbms.security.auth_enabled=true
server.memory.pagecache.size={page_cache}
db.tx_log.rotation.retention_policy=1 files
db.tx_log.rotation.size=8M
db.tx_log.preallocate=false
db.logs.query.enabled=OFF
dbms.usage_report.enabled=false
# Bolt's Netty waits a 5 s quiet period twice on shutdown; tests want a quick stop.
internal.dbms.bolt.netty_server_shutdown_quiet_period=0
internal.dbms.bolt.netty_server_shutdown_timeout=5s
{more}"""


def write_initial_password(data_dir: Path, user: str, password: str) -> None:
    """Set the initial admin's password in a store that was never started.

    Writes ``data/dbms/auth.ini`` exactly as ``neo4j-admin dbms set-initial-password`` does
    (SHA-256, random 32-byte salt, 1024 iterations) without paying for another JVM start.
    Neo4j reads it once, when it creates the system database.
    """
    salt = secrets.token_bytes(32)
    digest = hashlib.sha256(salt + password.encode()).digest()
    for _ in range(1023):
        digest = hashlib.sha256(digest).digest()
    dbms = data_dir / "dbms"
    dbms.mkdir(parents=True, exist_ok=True)
    (dbms / "auth.ini").write_text(f"{user}:SHA-256,{digest.hex()},{salt.hex()},1024:\n")


def find_java() -> Path:
    """The ``java`` to run Neo4j with: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return Path(java_home) / "bin" / "java"
    found = shutil.which("java")
    if found is None:
        raise RuntimeError(
            "Java 17 or 21 is needed to run the Neo4j test server, but there is no 'java' on "
            "PATH and no JAVA_HOME (Debian: apt-get install openjdk-17-jre-headless)"
        )
    return Path(found)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wipe(uri: str, auth: Auth, database: str | None = None) -> None:
    """Delete every node and relationship, keeping constraints and indexes.

    Deletes in batches of 10,000 nodes so a large graph does not need one huge transaction.
    """
    with GraphDatabase.driver(uri, auth=auth) as driver, driver.session(database=database) as s:
        s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


# --------------------------------------------------------------------------------------------
# Warm-up cache: CDS archive and store template


def _ensure_warm_cache(
    root: Path, java: Path, classpath: str, user: str, password: str
) -> tuple[Path | None, Path | None]:
    """Return the CDS archive and the template data dir, each None if there is none.

    If they are missing and a warm-up is wanted (see ``CMDB_TEST_NEO4J_WARM_UP``), one warm-up
    run makes them first. The archive stays None if this JVM could not write one.
    """
    cache = cache_dir(root)
    java_id = _java_identity(java)
    archive_key = _digest(_WARMUP_SCHEME, java_id, classpath)
    template_key = _digest(_WARMUP_SCHEME, java_id, classpath, user, password)
    archive = cache / "cds" / f"{archive_key}.jsa"
    archive_failed = archive.with_suffix(".failed")
    template = cache / "template" / template_key / "data"

    def ready() -> bool:
        """Whether the template exists and the archive exists or is known to be impossible."""
        return template.is_dir() and (archive.is_file() or archive_failed.exists())

    if not ready() and _warm_up_wanted():
        with _cache_lock(cache):
            if not ready():
                _warm_up(root, archive, archive_failed, template, user, password)
    return (archive if archive.is_file() else None), (template if template.is_dir() else None)


def _warm_up_wanted() -> bool:
    """Whether to build a missing warm-up cache: ``CMDB_TEST_NEO4J_WARM_UP``, else not on CI."""
    value = os.environ.get(ENV_WARM_UP, "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    return not os.environ.get("CI", "").strip()


def _warm_up(
    root: Path, archive: Path, archive_failed: Path, template: Path, user: str, password: str
) -> None:
    """Run one server on a fresh store through a little workload, then keep what it made."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial_archive = archive.with_suffix(f".partial-{os.getpid()}")
    partial_archive.unlink(missing_ok=True)
    server = Neo4jServer(
        root, password=password, use_env=False, fast_start=True, stop_timeout=180.0
    )
    server._dump_archive_to = partial_archive
    try:
        server.start()
        with server.driver() as driver:
            for query in _WARM_UP_QUERIES:
                driver.execute_query(query)
        wipe(server.uri, server.auth)
        server.stop()  # a clean shutdown: the JVM writes the archive as it exits
        assert server.home is not None
        template.parent.mkdir(parents=True, exist_ok=True)
        partial_template = template.parent / f"data.partial-{os.getpid()}"
        shutil.rmtree(partial_template, ignore_errors=True)
        shutil.copytree(server.home / "data", partial_template)
        partial_template.rename(template)
        if partial_archive.is_file() and partial_archive.stat().st_size > 0:
            partial_archive.replace(archive)
        else:
            archive_failed.write_text("the JVM wrote no class-data-sharing archive\n")
    finally:
        server.cleanup()
        partial_archive.unlink(missing_ok=True)


_WARM_UP_QUERIES = (
    "RETURN 1",
    "CREATE CONSTRAINT warm_up_key IF NOT EXISTS FOR (n:WarmUp) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX warm_up_name IF NOT EXISTS FOR (n:WarmUp) ON (n.name)",
    "UNWIND range(1, 100) AS i CREATE (:WarmUp {key: i, name: 'n' + i})",
    "MATCH (a:WarmUp {key: 1}), (b:WarmUp {key: 2}) MERGE (a)-[:LINKS {since: date()}]->(b)",
    "MATCH p = (:WarmUp)-[*1..3]->(:WarmUp) RETURN count(p)",
    "MATCH (n:WarmUp) WHERE n.name STARTS WITH 'n1' RETURN n.key ORDER BY n.key LIMIT 5",
    "SHOW CONSTRAINTS",
    "SHOW INDEXES",
    "DROP CONSTRAINT warm_up_key IF EXISTS",
    "DROP INDEX warm_up_name IF EXISTS",
)


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


def _tail_lines(text: str, count: int) -> str:
    """The last ``count`` lines of ``text``, for error messages."""
    return "\n".join(text.rstrip().splitlines()[-count:])


def _read_text(path: Path) -> str | None:
    """The file's text, or None if it cannot be read (missing, say)."""
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _classpath(lib: Path) -> str:
    """All jars of ``lib`` in a fixed order (CDS archives need the very same class path)."""
    jars = sorted(lib.glob("*.jar"))
    if not jars:
        raise RuntimeError(f"no jars in {lib}: delete {lib} and try again")
    return os.pathsep.join(str(jar) for jar in jars)


def _java_identity(java: Path) -> str:
    """What a CDS archive depends on: the real JVM binary and its release."""
    real = java.resolve()
    return f"{real}\n{_read_text(real.parent.parent / 'release') or ''}"


def _digest(*parts: str) -> str:
    """A short stable hash of ``parts``, to name cache entries by what they depend on."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


_LOCK_GUARD = threading.RLock()
_LOCKS_HELD: dict[Path, tuple[int, int]] = {}  # cache dir -> (file descriptor, depth)


@contextlib.contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    """Hold the cache's file lock, so concurrent test processes fill the cache only once.

    Re-entrant within this process (the warm-up run starts a server, which checks the jars).
    """
    with _LOCK_GUARD:
        held = _LOCKS_HELD.get(cache)
        if held is None:
            cache.mkdir(parents=True, exist_ok=True)
            fd = os.open(cache / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = (fd, 0)
        _LOCKS_HELD[cache] = (held[0], held[1] + 1)
        try:
            yield
        finally:
            fd, depth = _LOCKS_HELD[cache]
            if depth == 1:
                del _LOCKS_HELD[cache]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                _LOCKS_HELD[cache] = (fd, depth - 1)


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
