"""What a Neo4j test server runs from: its jars, a JVM, the flags it is started with, the
files of its home, and the cache under ``<repo>/.cache/neo4j`` that makes it start fast.

The server is plain jars from Maven Central (``scripts/neo4j/pom.xml``), copied once into
``<repo>/.cache/neo4j/lib`` by Maven and reused from then on, offline. Starting fast matters,
because the whole suite must stay quick. Besides the flags Neo4j's own launcher passes, only
the C1 JIT compiler runs (``-XX:TieredStopAtLevel=1``): on two cores, C2 compilations compete
with the start-up work itself. And a one-off warm-up run leaves two things under
``.cache/neo4j`` that make every later start about three times quicker:

* a class-data-sharing archive (AppCDS) of the classes a server loads, so later JVMs map them
  instead of loading and verifying some 15,000 classes again;
* a template ``data`` directory of a freshly initialised store, so a new server does not spend
  seconds creating the ``system`` and ``neo4j`` databases and their security graph.

The warm-up costs about half a minute once, so it is skipped when ``CI`` is set (a CI run in a
fresh clone would pay it and never reuse it); ``CMDB_TEST_NEO4J_WARM_UP=1`` or ``0`` decides
instead. The cached copies of the two signed jars (Eclipse Collections) lose their signatures:
the JVM would otherwise hash them on every start, and CDS skips signed jars.

Running the server is :mod:`tests.support.neo4j_server`; it hands the warm-up run in (see
:func:`ensure_warm_cache`), so this module needs nothing of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout this file belongs to: where ``scripts/neo4j/pom.xml`` and ``.cache/`` live."""

POM_PATH = Path("scripts/neo4j/pom.xml")
"""The pom naming the Neo4j version, relative to the repository root."""

CACHE_PATH = Path(".cache/neo4j")
"""Where jars, warm-up artefacts and the CLI's pidfile go, relative to the repository root
(unless ``CMDB_TEST_NEO4J_CACHE`` names another directory)."""

ENV_CACHE = "CMDB_TEST_NEO4J_CACHE"
"""Optional: the cache directory to use instead of ``<repo>/.cache/neo4j`` (e.g. one that
outlives a fresh clone, as CI's is)."""
ENV_WARM_UP = "CMDB_TEST_NEO4J_WARM_UP"
"""``1`` or ``0``: whether to build the warm-up cache (CDS archive, store template) when it is
missing. Default: yes, except when ``CI`` is set (a CI run in a fresh clone pays the warm-up
and never reuses it). An existing warm-up cache is always used."""

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
# The server's home and its JVM


def jvm_command(java: Path, classpath: str, home: Path, *, heap: str, initial_heap: str,
                fast_start: bool, archive: Path | None, dump_archive_to: Path | None = None,
                extra_flags: Sequence[str] = ()) -> list[str]:
    """The JVM command line of a server in ``home``: distribution flags, heap, fast-start and
    CDS flags (using ``archive``, or writing one to ``dump_archive_to``), entry point."""
    flags = [*DISTRIBUTION_JVM_FLAGS, f"-Xms{initial_heap}", f"-Xmx{heap}"]
    if fast_start:
        flags += FAST_START_JVM_FLAGS
    if dump_archive_to is not None:
        flags += [f"-XX:ArchiveClassesAtExit={dump_archive_to}", "-Xlog:cds*=off"]
    elif archive is not None:
        flags += [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds*=off"]
    flags += extra_flags
    return [
        str(java),
        *flags,
        "-cp",
        classpath,
        ENTRY_POINT,
        f"--home-dir={home}",
        f"--config-dir={home / 'conf'}",
        "--console-mode",
    ]


def neo4j_conf(port: int, *, page_cache: str = "64m",
               extra: Mapping[str, str] | None = None) -> str:
    """The ``neo4j.conf`` of a test server listening for Bolt on 127.0.0.1:``port``."""
    more = "".join(f"{k}={v}\n" for k, v in (extra or {}).items())
    return f"""\
# Generated by tests/support/neo4j_install.py for a throw-away test server.
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


# --------------------------------------------------------------------------------------------
# Warm-up cache: CDS archive and store template


WarmUpRun = Callable[[Path], AbstractContextManager[Path]]
"""Runs one server on a fresh store through :data:`WARM_UP_QUERIES`, with its JVM writing a
CDS archive to the path given, and stops it cleanly; yields its ``data`` directory and deletes
its home when left."""


def ensure_warm_cache(
    root: Path, java: Path, classpath: str, user: str, password: str, run: WarmUpRun
) -> tuple[Path | None, Path | None]:
    """Return the CDS archive and the template data dir, each None if there is none.

    If they are missing and a warm-up is wanted (see ``CMDB_TEST_NEO4J_WARM_UP``), one warm-up
    ``run`` makes them first. The archive stays None if this JVM could not write one.
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
                _warm_up(run, archive, archive_failed, template)
    return (archive if archive.is_file() else None), (template if template.is_dir() else None)


def _warm_up_wanted() -> bool:
    """Whether to build a missing warm-up cache: ``CMDB_TEST_NEO4J_WARM_UP``, else not on CI."""
    value = os.environ.get(ENV_WARM_UP, "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    return not os.environ.get("CI", "").strip()


def _warm_up(run: WarmUpRun, archive: Path, archive_failed: Path, template: Path) -> None:
    """Run one server on a fresh store through a little workload, then keep what it made."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial_archive = archive.with_suffix(f".partial-{os.getpid()}")
    partial_archive.unlink(missing_ok=True)
    try:
        with run(partial_archive) as data:
            template.parent.mkdir(parents=True, exist_ok=True)
            partial_template = template.parent / f"data.partial-{os.getpid()}"
            shutil.rmtree(partial_template, ignore_errors=True)
            shutil.copytree(data, partial_template)
            partial_template.rename(template)
            if partial_archive.is_file() and partial_archive.stat().st_size > 0:
                partial_archive.replace(archive)
            else:
                archive_failed.write_text("the JVM wrote no class-data-sharing archive\n")
    finally:
        partial_archive.unlink(missing_ok=True)


WARM_UP_QUERIES = (
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
