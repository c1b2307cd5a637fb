"""The web pages over a real core, without Asterisk.

`facade` is a `CoreFacade`: the shipped config's core, fed events by the test, with a migrated
SQLite database holding three users - a supervisor (lead, phone 1090), an agent (fang, 1001)
and an admin (root). `client` is Starlette's TestClient on the app; `served` runs the app in
uvicorn on a free loopback port for the browser, and `browser` is Debian's chromium driven by
Playwright.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, Page, async_playwright
from starlette.applications import Starlette
from starlette.testclient import TestClient

from acd.clock import ManualClock
from acd.config import Config, load_config
from acd.core import events as ev
from acd.records.migrate import upgrade
from acd.records.store import Records
from acd.settings import Paths
from acd.web.app import create_app
from acd.web.auth import LoginThrottle
from acd.web.facade import CoreFacade
from acd.web.server import WebServer
from acd.web.users import add_user
from tests.unit.core.conftest import Driver

SHIPPED = Path(__file__).resolve().parents[3] / "dialplans"
PASSWORDS = {"lead": "lead-pass-2024", "fang": "fang-pass-2024", "root": "root-pass-2024"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, on a loop of its own in another thread
    (so it never meets the test's loop or TestClient's)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(SHIPPED)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the three users, made once (argon2 is slow on purpose)."""
    path = tmp_path_factory.mktemp("web") / "acd.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)

    async def users() -> None:
        async with Records(url) as records:
            await add_user(records, "lead", "supervisor", "1090", PASSWORDS["lead"])
            await add_user(records, "fang", "agent", "1001", PASSWORDS["fang"])
            await add_user(records, "root", "admin", None, PASSWORDS["root"])

    run_async(users())
    return path


@pytest.fixture
def facade(config: Config, tmp_path: Path, seeded_db: Path) -> CoreFacade:
    shutil.copy(seeded_db, tmp_path / "acd.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    paths = Paths(tmp_path, tmp_path / "secrets.json", tmp_path / "run" / "acd.sock", url)
    facade = CoreFacade(config, paths, ManualClock())
    for agent in ("1001", "1002", "1003", "1004"):
        facade.feed(ev.DeviceState(agent, "NOT_INUSE"))
        facade.feed(ev.AgentLogin(agent))
    return facade


@pytest.fixture
def driver(config: Config) -> Driver:
    return Driver(config)


@pytest.fixture
def throttle_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(facade: CoreFacade, throttle_clock: ManualClock) -> Starlette:
    return create_app(
        facade,
        session_secret="unit-test-session-secret-0123456789",
        throttle=LoginThrottle(max_failures=3, window=60, clock=throttle_clock.now),
        min_interval=0.05,
    )


ORIGIN = "http://testserver"


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN}) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str, password: str | None = None) -> str:
    """Sign in through the form; returns the session's CSRF token for API calls."""
    page = client.get("/login").text
    assert client.cookies.get("acd_session"), "the login page starts a session for its token"
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"username": name, "password": password or PASSWORDS[name], "csrf": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/", follow_redirects=True).text
    return home.split('name="csrf-token" content="')[1].split('"')[0]


@pytest.fixture
async def served(app: Starlette) -> AsyncIterator[str]:
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    # launch() gives every run a fresh temporary profile (user data dir) of its own.
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def signed_in_page(browser: Browser, base: str, name: str) -> Page:
    """A new browser context (its own cookies) signed in as `name` through the login form."""
    context = await browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    await page.goto("/")
    await page.fill("#username", name)
    await page.fill("#password", PASSWORDS[name])
    await page.click("#sign-in")
    await page.wait_for_url(lambda url: "/login" not in url)
    return page
