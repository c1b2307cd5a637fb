"""The pages in a real headless Chromium, served by uvicorn, over a real core."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from playwright.async_api import Browser, expect

from acd.core import events as ev
from acd.web.facade import CoreFacade
from agents.state import AgentState
from tests.unit.web.conftest import PASSWORDS, signed_in_page


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def state(facade: CoreFacade, number: str) -> tuple[AgentState, str | None] | None:
    """The agent's state and reason as the core's read API tells them."""
    view = facade.core.agent(number)
    return None if view is None else (view.state, view.reason)


def pause_everyone(facade: CoreFacade) -> None:
    """Calls then wait in line instead of being offered at once."""
    for agent in ("1001", "1002", "1003", "1004"):
        facade.feed(ev.AgentPause(agent, "meeting"))


async def test_the_wallboard_shows_a_new_caller_without_a_reload(
    browser: Browser, served: str, facade: CoreFacade
) -> None:
    pause_everyone(facade)
    page = await signed_in_page(browser, served, "lead")
    assert page.url.endswith("/wallboard")
    waiting = page.locator('[data-queue="general"] .metric.waiting .v')
    await expect(waiting).to_have_text("0")
    await page.evaluate("window.sameDocument = true")

    facade.feed(ev.CallEntered("c1", "PJSIP/trunk-1", "13800138000", "home", "general"))

    await expect(waiting).to_have_text("1")
    assert await page.evaluate("window.sameDocument === true"), "the page was reloaded"
    await expect(page.locator("#live")).to_have_text("live")


async def test_a_supervisor_pauses_an_agent_from_the_wallboard(
    browser: Browser, served: str, facade: CoreFacade
) -> None:
    page = await signed_in_page(browser, served, "lead")
    row = page.locator('tr[data-agent="1002"]')
    await expect(row.locator(".pill.state")).to_have_text("ready")

    await row.locator('select[aria-label="pause reason"]').select_option("lunch")
    await row.locator('button[data-action="pause"]').click()

    await until(lambda: state(facade, "1002") == (AgentState.NOT_READY, "lunch"))
    await expect(row.locator(".pill.state")).to_have_text("not-ready · lunch")


async def test_a_supervisor_moves_an_agent_to_another_queue(
    browser: Browser, served: str, facade: CoreFacade
) -> None:
    page = await signed_in_page(browser, served, "lead")
    row = page.locator('tr[data-agent="1001"]')
    await row.locator('select[aria-label="move to queue"]').select_option("repairs")
    await row.locator('button[data-action="move"]').click()
    await until(lambda: facade.core.agents["1001"].only_queues == frozenset({"repairs"}))
    for other in ("1002", "1003", "1004"):  # the repairs agents are busy elsewhere
        facade.feed(ev.AgentPause(other, "meeting"))
    facade.feed(ev.CallEntered("r1", "PJSIP/trunk-1", "13800138000", "home", "repairs"))
    await until(lambda: facade.core.agents["1001"].call_id == "r1")
    await expect(row).to_contain_text("repairs")


async def test_an_agent_gets_no_supervisor_actions_and_403_for_them(
    browser: Browser, served: str, facade: CoreFacade
) -> None:
    page = await signed_in_page(browser, served, "fang")
    assert page.url.endswith("/agent")
    await expect(page.locator("#my-state")).to_have_text("ready")
    assert await page.locator("[data-agent]").count() == 0
    assert await page.locator('button[data-action="barge"]').count() == 0

    response = await page.goto("/wallboard")
    assert response is not None and response.status == 403
    status = await page.evaluate(
        """async () => {
            await fetch("/agent");  // any page of ours, to read the session's token from
            const html = await (await fetch("/agent")).text();
            const csrf = html.split('name="csrf-token" content="')[1].split('"')[0];
            const r = await fetch("/api/agents/1002/logout", {method: "POST",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: "{}"});
            return r.status;
        }"""
    )
    assert status == 403
    assert facade.core.agents["1002"].state is AgentState.READY


async def test_nothing_but_the_login_page_without_signing_in(browser: Browser, served: str) -> None:
    context = await browser.new_context(base_url=served)
    page = await context.new_page()
    paths = ("/", "/wallboard", "/agent", "/api/wallboard", "/events/wallboard")
    for path in (*paths, "/static/wallboard.js", "/nowhere"):
        await page.goto(path)
        assert page.url == f"{served}/login", path
        response = await page.request.get(path, headers={"Accept": "*/*"})
        assert response.status == 401, path
    for path in ("/api/agents/1001/pause", "/api/me/ready", "/logout"):
        posted = await page.request.post(path, headers={"Origin": served}, data="{}")
        assert posted.status in (401, 403), path


async def test_a_wrong_password_is_refused(browser: Browser, served: str) -> None:
    context = await browser.new_context(base_url=served)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#username", "lead")
    await page.fill("#password", PASSWORDS["lead"] + "x")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.click("#sign-in")
    assert (await posted.value).status == 401
    await expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    await page.goto("/wallboard")
    assert page.url == f"{served}/login"


async def test_the_agent_sees_the_offered_call_and_saves_a_case_note(
    browser: Browser, served: str, facade: CoreFacade
) -> None:
    for agent in ("1002", "1003", "1004"):
        facade.feed(ev.AgentPause(agent, "training"))
    page = await signed_in_page(browser, served, "fang")
    await expect(page.locator("#pop-empty")).to_be_visible()

    facade.feed(ev.CallEntered("c7", "PJSIP/trunk-7", "13900139007", "home", "general"))

    await expect(page.locator("#pop-caller")).to_have_text("13900139007")
    await expect(page.locator("#pop-queue")).to_have_text("general")
    await expect(page.locator("#pop-status")).to_have_text("ringing")
    await expect(page.locator("#pop-history")).to_have_text("first call from this number")
    facade.feed(ev.OfferAnswered("c7", "1001"))
    await expect(page.locator("#pop-status")).to_have_text("talking")

    await page.fill("#note-need", "保洁 3 rooms")
    await page.fill("#note-address", "长安街 1 号")
    await page.fill("#note-contact", "王女士 13900139007")
    await page.click("#note-save")
    await expect(page.locator("#note-message")).to_have_text("saved")
    (note,) = facade.writer.items
    assert (note.call_id, note.agent, note.need, note.address) == (
        "c7",
        "1001",
        "保洁 3 rooms",
        "长安街 1 号",
    )
