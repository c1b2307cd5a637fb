"""A throwaway PostgreSQL server for the test session (a pytest plugin, see tests/conftest.py).

Production runs the records on PostgreSQL, so the suite checks them against a real server
rather than trusting SQLite to behave alike. The cluster lives in a temporary directory, listens
on 127.0.0.1 only (its Unix socket stays in that directory), and is removed at the end of the
session. PostgreSQL refuses to run as root, so when the suite runs as root the server runs as
the `postgres` user that Debian's package creates. Missing binaries are an error, never a skip:
a suite that quietly stops testing PostgreSQL would look green for the wrong reason.

Each test gets a database of its own, copied from a template that was migrated once (CREATE
DATABASE ... TEMPLATE is a file copy, much faster than running the migrations again).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import URL

from acd.labhost import free_port

#: Overrides where initdb, pg_ctl and postgres are looked for.
BINDIR_ENV = "ACD_PG_BINDIR"
#: The system user the server runs as when the suite runs as root (Debian's package creates it).
SERVER_USER = "postgres"
#: The superuser the tests connect as.
ROLE = "acd"
TEMPLATE_DB = "acd_template"
START_TIMEOUT = 30  # seconds; pg_ctl waits for the server to accept connections
_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class PgServerError(RuntimeError):
    """The test server could not be found or started."""


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres; the newest major version wins.

    Debian keeps them off PATH, under /usr/lib/postgresql/<major>/bin.
    """
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def major(path: Path) -> int:
        return int(path.parent.name) if path.parent.name.isdigit() else -1

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)
    for bindir in candidates:
        if all((bindir / name).is_file() for name in _PROGRAMS):
            return bindir
    raise PgServerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{[str(c) for c in candidates] or '/usr/lib/postgresql/*/bin'}: install the Debian "
        f"package 'postgresql' (scripts/lib.sh SYSTEM_PACKAGES) or set {BINDIR_ENV}"
    )


def _major_version(bindir: Path) -> int:
    """From `postgres --version`: "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"."""
    out = subprocess.run(
        [bindir / "postgres", "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\) (\d+)", out)
    if found is None:
        raise PgServerError(f"cannot tell the PostgreSQL version from {out!r}")
    return int(found.group(1))


class PgServer:
    """One cluster in a temporary directory; `start`/`stop` may be repeated (outage tests)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.major = _major_version(bindir)
        self._as_server_user = os.geteuid() == 0
        # Not under pytest's tmp_path: that is private to root, and the server user must reach it.
        self.base = Path(tempfile.mkdtemp(prefix="acd-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        # '%', '@' and ':' check that URLs with such passwords reach the server intact.
        self.password = f"pw%@:{secrets.token_hex(8)}"
        self.port = 0
        self._names = itertools.count(1)
        if self._as_server_user:
            shutil.chown(self.base, SERVER_USER, SERVER_USER)
        self.base.chmod(0o700)

    def _run(self, args: Sequence[str | Path], timeout: float = 60) -> None:
        command = [str(a) for a in args]
        if self._as_server_user:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise PgServerError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()[-20:]
        except OSError:
            return ""
        return "\nserver log:\n" + "\n".join(lines)

    def init(self) -> None:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_server_user:
            shutil.chown(pwfile, SERVER_USER, SERVER_USER)
        self._run(
            [
                self.bindir / "initdb",
                "--pgdata",
                self.data,
                "--username",
                ROLE,
                "--pwfile",
                pwfile,
                # The Unix socket (admin) is trusted; TCP needs the password, as in production.
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.base}'",
            # Nothing here must survive a machine crash: trade durability for speed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            # Not UTC, so anything that leans on the server's zone shows up in the tests.
            "timezone": "'Asia/Shanghai'",
            "max_connections": "50",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# acd test server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        """Start (again) and wait until it accepts connections; keeps the port once chosen."""
        attempts = 1 if self.port else 3
        for attempt in range(attempts):
            port = self.port or free_port()
            try:
                self._pg_ctl("start", "-o", f"-p {port}", "-l", self.log)
            except PgServerError:
                if attempt == attempts - 1:
                    raise
                continue  # another process took the port between probe and start
            self.port = port
            return

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def _pg_ctl(self, action: str, *args: str | Path) -> None:
        self._run(
            [
                self.bindir / "pg_ctl",
                action,
                "-D",
                self.data,
                "-w",
                "-t",
                str(START_TIMEOUT),
                *args,
            ],
            timeout=START_TIMEOUT + 10,
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str) -> str:
        """An asyncpg URL over TCP with the password, the way the engine is configured."""
        return URL.create(
            "postgresql+asyncpg",
            username=ROLE,
            password=self.password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    # Administration over the Unix socket. Synchronous (each runs its own event loop), so they
    # must not be called from a running loop: fixtures that need them are synchronous.

    def execute(self, *statements: str) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(
                host=str(self.base), port=self.port, user=ROLE, database="postgres"
            )
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        asyncio.run(run())

    def create_database(self, template: str = "template1") -> str:
        """A new, empty-or-copied database; its name."""
        name = f"test_{next(self._names)}"
        _check_name(template)
        # FILE_COPY (PostgreSQL 15+) copies the few files of a small template about twice as
        # fast as the default WAL_LOG, which writes every page through the WAL.
        strategy = " STRATEGY FILE_COPY" if self.major >= 15 else ""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        return name

    def drop_database(self, name: str) -> None:
        _check_name(name)
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"unexpected database name {name!r}")


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Let a SIGTERM (`timeout`, a CI runner) unwind like Ctrl-C, so pytest's teardown still
    stops the server instead of leaving a postmaster and its files behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: types.FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server, started on first use and removed at session end."""
    server = PgServer(find_bindir())
    with _sigterm_unwinds():
        try:
            server.init()
            server.start()
            yield server
        finally:
            server.close()


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """A database migrated to head once, for tests to copy."""
    from acd.records.migrate import upgrade

    pg_server.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    upgrade(pg_server.url(TEMPLATE_DB))
    return TEMPLATE_DB
