"""Web users: argon2 hashes in `web_users`, passwords never from argv."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.cli.users import PASSWORD_ENV, read_password
from acd.records.migrate import upgrade
from acd.records.store import Records
from acd.web.users import UserError, add_user, authenticate, list_users, set_password


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def records(url: str) -> AsyncIterator[Records]:
    async with Records(url) as records:
        yield records


async def test_only_an_argon2_hash_is_stored_and_it_verifies(
    records: Records, tmp_path: Path
) -> None:
    await add_user(records, "lead", "supervisor", "1090", "correct horse battery")
    with sqlite3.connect(tmp_path / "acd.db") as db:
        (stored,) = db.execute("SELECT password_hash FROM web_users").fetchone()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    user = await authenticate(records, "lead", "correct horse battery")
    assert user is not None and (user.role, user.agent) == ("supervisor", "1090")
    assert await authenticate(records, "lead", "correct horse batter") is None
    assert await authenticate(records, "nobody", "correct horse battery") is None


async def test_a_new_password_replaces_the_old(records: Records) -> None:
    await add_user(records, "fang", "agent", "1001", "first password")
    assert await set_password(records, "fang", "second password")
    assert await authenticate(records, "fang", "first password") is None
    assert await authenticate(records, "fang", "second password") is not None
    assert not await set_password(records, "ghost", "second password")


async def test_users_are_refused_when_they_cannot_work(records: Records) -> None:
    with pytest.raises(UserError, match="needs --agent"):
        await add_user(records, "fang", "agent", None, "long enough pw")
    with pytest.raises(UserError, match="at least 10"):
        await add_user(records, "fang", "agent", "1001", "short")
    with pytest.raises(UserError, match="role"):
        await add_user(records, "fang", "boss", "1001", "long enough pw")
    with pytest.raises(UserError, match="user name"):
        await add_user(records, "Fang Li", "agent", "1001", "long enough pw")
    await add_user(records, "fang", "agent", "1001", "long enough pw")
    with pytest.raises(UserError, match="exists"):
        await add_user(records, "fang", "admin", None, "long enough pw")
    assert [(u.name, u.role) for u in await list_users(records)] == [("fang", "agent")]


def test_the_password_comes_from_the_environment_or_stdin() -> None:
    assert read_password({PASSWORD_ENV: "from the environment"}) == "from the environment"
    assert read_password({}, io.StringIO("piped in password\n")) == "piped in password"
    with pytest.raises(UserError):
        read_password({}, io.StringIO("short\n"))


def test_the_cli_has_no_password_option() -> None:
    from acd.cli.main import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["user", "add", "lead", "--role", "supervisor", "--password", "x"])


def test_acd_user_add_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from acd.cli.main import main

    shipped = str(Path(__file__).resolve().parents[3] / "dialplans")
    monkeypatch.setenv("ACD_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    monkeypatch.setenv(PASSWORD_ENV, "team lead password")
    assert (
        main(["user", "add", "lead", "--role", "supervisor", "--agent", "1090", "-c", shipped]) == 0
    )
    assert main(["user", "add", "x", "--role", "agent", "--agent", "9999", "-c", shipped]) == 1
    capsys.readouterr()
    assert main(["user", "list", "--json", "-c", shipped]) == 0
    assert '"agent": "1090"' in capsys.readouterr().out
