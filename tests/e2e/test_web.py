"""The web pages against the real engine: a real SIPp call shows on the wallboard, a
supervisor pauses an agent from it, the agent's page pops the caller (issue #8)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.async_api import Browser, Page, async_playwright, expect

from acd.labhost import free_port
from tests.e2e.conftest import ACD, EngineProcess, connected, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password

pytestmark = pytest.mark.e2e

USERS = {"lead": ("supervisor", "1090"), "fang": ("agent", "1001")}
PASSWORD = "e2e-web-password"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def web_engine(lab_dir: Path, tmp_path: Path) -> AsyncIterator[tuple[EngineProcess, str]]:
    """The lab's config with the pages on a free port, users added through `acd user add`."""
    conf = tmp_path / "dialplans"
    conf.mkdir()
    data: dict[str, Any] = yaml.safe_load((lab_dir / "acd.yaml").read_text(encoding="utf-8"))
    port = free_port()
    data["engine"]["http"] = {"port": port}
    (conf / "acd.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = EngineProcess(conf, tmp_path / "acd.db", tmp_path / "engine.log")
    for name, (role, agent) in USERS.items():
        await asyncio.to_thread(
            subprocess.run,
            [ACD, "user", "add", name, "--role", role, "--agent", agent, "-c", str(conf)],
            env={**proc.env, "ACD_USER_PASSWORD": PASSWORD},
            check=True,
            timeout=60,
        )
    proc.start()
    try:
        await eventually(lambda: connected(proc), within=30)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def sign_in(browser: Browser, base: str, name: str) -> Page:
    context = await browser.new_context(base_url=base)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#username", name)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(lambda url: "/login" not in url)
    return page


async def test_a_real_call_reaches_the_wallboard_and_the_agents_screen(
    web_engine: tuple[EngineProcess, str], browser: Browser, secrets: dict[str, Any]
) -> None:
    engine, base = web_engine
    caller = "13800138801"
    engine.cli("agent", "pause", "1002", "--reason", "meeting")
    engine.cli("agent", "pause", "1001", "--reason", "meeting")
    board = await sign_in(browser, base, "lead")
    desk = await sign_in(browser, base, "fang")
    waiting = board.locator('[data-queue="general"] .metric.waiting .v')
    await expect(waiting).to_have_text("0")
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=1500, talk_ms=3000
    ) as agent:
        await eventually(lambda: engine.agent("1001")["device"] == "NOT_INUSE")
        call = asyncio.create_task(place_call("100", caller, dtmf="1", max_ms=40000))
        await expect(waiting).to_have_text("1", timeout=20000)  # pushed, no reload
        await desk.click("#btn-ready")
        await expect(desk.locator("#pop-caller")).to_have_text(caller, timeout=15000)
        await expect(desk.locator("#pop-ivr")).not_to_have_text("…")
        await expect(waiting).to_have_text("0")
        result = await call
        assert result.ended_by == "remote", result.run.describe()
        assert agent.offered_callers() == [caller]
    await expect(board.locator('[data-queue="general"] .answered')).to_have_text("1")


async def test_a_supervisor_pauses_an_agent_and_an_agent_cannot(
    web_engine: tuple[EngineProcess, str], browser: Browser
) -> None:
    engine, base = web_engine
    board = await sign_in(browser, base, "lead")
    row = board.locator('tr[data-agent="1002"]')
    await expect(row.locator(".pill.state")).to_have_text("ready")
    await row.locator('select[aria-label="pause reason"]').select_option("lunch")
    await row.locator('button[data-action="pause"]').click()
    await eventually(lambda: engine.agent("1002")["state"] == "not-ready")
    assert engine.agent("1002")["reason"] == "lunch"

    engine.cli("agent", "login", "1003")  # so a forged logout would show
    desk = await sign_in(browser, base, "fang")
    response = await desk.goto("/wallboard")
    assert response is not None and response.status == 403
    token = await desk.evaluate(
        "async () => (await (await fetch('/agent')).text())"
        ".split('name=\"csrf-token\" content=\"')[1].split('\"')[0]"
    )
    refused = await desk.request.post(
        "/api/agents/1003/logout",
        headers={"X-CSRF-Token": token, "Origin": base},
        data=json.dumps({}),
    )
    assert refused.status == 403
    assert engine.agent("1003")["state"] == "ready"


def test_the_pages_answer_on_loopback_only_by_default() -> None:
    """The shipped config binds the pages to 127.0.0.1 (secure by default)."""
    from acd.config import load_config

    config = load_config(Path(__file__).resolve().parents[2] / "dialplans")
    assert config.engine.http.host == "127.0.0.1"
