"""Render docs/wallboard.png and docs/agent-page.png from the app over a real core.

An hour of simulated traffic (seeded, so the pictures are repeatable) goes through a real
`Core` behind `CoreFacade`; the app is served by uvicorn on a free loopback port and Debian's
chromium takes the pictures. No Asterisk, no engine.

    .venv/bin/python scripts/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import random
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from playwright.async_api import async_playwright  # noqa: E402

from acd.clock import ManualClock  # noqa: E402
from acd.config import load_config  # noqa: E402
from acd.core import events as ev  # noqa: E402
from acd.core.decisions import CallRecord, Offer  # noqa: E402
from acd.core.read import AgentView  # noqa: E402
from acd.records.items import CaseNote, IvrPath, SurveyScore  # noqa: E402
from acd.records.migrate import upgrade_async  # noqa: E402
from acd.records.store import Records  # noqa: E402
from acd.records.writer import RecordWriter  # noqa: E402
from acd.settings import Paths  # noqa: E402
from acd.web.app import create_app  # noqa: E402
from acd.web.facade import CoreFacade  # noqa: E402
from acd.web.server import WebServer  # noqa: E402
from acd.web.users import add_user  # noqa: E402

PASSWORD = "screenshot-only-password"
REPEAT_CALLER = "13912345678"
REPEAT_CALL = "1764557970.412"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def seed_records(url: str, now: float) -> None:
    """Earlier calls of the repeat caller (with a case note) and an overdue review."""
    writer = RecordWriter(url)
    await writer.start()
    for i, (days, agent, score) in enumerate([(9, "1002", 5), (3, "1001", 2)]):
        start = now - days * 86400
        call_id = f"past-{i}"
        writer.submit(
            CallRecord(
                call_id,
                REPEAT_CALLER,
                "home",
                "general",
                start,
                agent,
                start + 8,
                start + 260,
                "answered",
                "agent",
                1,
            )
        )
        writer.submit(SurveyScore(call_id, score, 5, score <= 2, start + 280))
        writer.submit(
            CaseNote(
                call_id,
                agent,
                "保洁 3居室 深度清洁",
                "朝阳区 建国路 88号 2-1502",
                "李女士 " + REPEAT_CALLER,
                "周六上午上门",
                start + 250,
            )
        )
    writer.submit(IvrPath(REPEAT_CALL, REPEAT_CALLER, "home", "main/0", now - 40))
    late = now - 3 * 3600
    writer.submit(
        CallRecord(
            "late-1",
            "13800001111",
            "home",
            "repairs",
            late,
            "1003",
            late + 20,
            late + 400,
            "answered",
            "agent",
            1,
        )
    )
    writer.submit(SurveyScore("late-1", 1, 5, True, late + 420, review_due_at=late + 7620))
    await writer.close()


def simulate(facade: CoreFacade, clock: ManualClock, seconds: int, rng: random.Random) -> None:
    """Poisson arrivals into the three queues; agents answer in 3-6 s and talk 1-5 min; some
    callers give up after a minute."""
    pending: list[tuple[float, int, ev.Event]] = []
    seq = 0

    def later(delay: float, event: ev.Event) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(pending, (clock.now() + delay, seq, event))

    def feed(event: ev.Event) -> None:
        for decision in facade.feed(event):
            if isinstance(decision, Offer):
                later(rng.uniform(3, 6), ev.OfferAnswered(decision.call_id, decision.agent))
                later(rng.uniform(60, 200), ev.AgentLegHungUp(decision.call_id, decision.agent))

    end = clock.now() + seconds
    n = 0
    while clock.now() < end:
        clock.advance(1)
        while pending and pending[0][0] <= clock.now():
            _, _, event = heapq.heappop(pending)
            call = facade.core.call(getattr(event, "call_id", ""))
            if isinstance(event, ev.CallerHungUp) and (call is None or call.agent):
                continue  # answered before they gave up
            if isinstance(event, ev.OfferAnswered | ev.AgentLegHungUp) and (
                call is None or call.agent != event.agent
            ):
                continue
            feed(event)
        if rng.random() < 0.022:
            n += 1
            queue = rng.choice(["general", "general", "repairs", "jobs"])
            caller = f"13{rng.randrange(100000000, 999999999)}"
            feed(ev.CallEntered(f"sim-{n}", f"PJSIP/trunk-{n}", caller, "home", queue))
            if rng.random() < 0.15:
                later(rng.uniform(40, 120), ev.CallerHungUp(f"sim-{n}"))
        feed(ev.Tick())


def view(facade: CoreFacade, number: str) -> AgentView:
    """The agent as the core's read API shows it now (a copy: read it again after a feed)."""
    agent = facade.core.agent(number)
    assert agent is not None, number
    return agent


async def main(out: Path) -> None:
    config = load_config(PROJECT / "dialplans")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/acd.db"
        await upgrade_async(url)
        async with Records(url) as records:
            await add_user(records, "lead", "supervisor", "1090", PASSWORD)
            await add_user(records, "fang", "agent", "1001", PASSWORD)
        clock = ManualClock(1_764_554_400.0)  # 2025-12-01 10:00 in Shanghai
        await seed_records(url, clock.now() + 3600)
        paths = Paths(Path(tmp), Path(tmp) / "secrets.json", Path(tmp) / "acd.sock", url)
        facade = CoreFacade(config, paths, clock)
        app = create_app(facade, session_secret="screenshots-" * 3)
        server = WebServer(app, "127.0.0.1", 0)
        await server.start()
        try:
            for agent in ("1001", "1002", "1003", "1004", "1090"):
                facade.feed(ev.DeviceState(agent, "NOT_INUSE"))
                facade.feed(ev.AgentLogin(agent))
            facade.feed(ev.DeviceState("1090", "NOT_INUSE"))
            simulate(facade, clock, 3300, random.Random(7))
            # The last minutes: a lunch and a training take two desks away, a queue builds.
            for agent, reason in (("1003", "lunch"), ("1004", "training")):
                if view(facade, agent).state.value in ("ready", "wrap-up"):
                    facade.feed(ev.AgentPause(agent, reason))
            simulate(facade, clock, 300, random.Random(11))
            for agent in ("1001", "1002", "1003", "1004"):
                call = view(facade, agent).call_id
                if call and view(facade, agent).state.value == "reserved":
                    facade.feed(ev.OfferAnswered(call, agent))
            for i in range(4):
                queue = ["general", "repairs", "general", "jobs"][i]
                facade.feed(
                    ev.CallEntered(f"peak-{i}", f"PJSIP/t-p{i}", f"1370000{i:04d}", "home", queue)
                )
                clock.advance(17)
                facade.feed(ev.Tick())
            # Fang finishes her call, steps away for a moment, and on her return is offered
            # the repeat caller, who pressed 0 (priority) in the menu.
            fang = view(facade, "1001")
            if fang.call_id and fang.state.value == "reserved":
                facade.feed(ev.OfferAnswered(fang.call_id, "1001"))
            fang = view(facade, "1001")
            if fang.call_id and fang.state.value == "on-call":
                clock.advance(40)
                facade.feed(ev.AgentLegHungUp(fang.call_id, "1001"))
            if view(facade, "1001").state.value in ("ready", "wrap-up"):
                facade.feed(ev.AgentPause("1001", "break"))
            facade.feed(
                ev.CallEntered(REPEAT_CALL, "PJSIP/t-r", REPEAT_CALLER, "home", "general", 5)
            )
            clock.advance(31)
            facade.feed(ev.AgentReady("1001"))
            clock.advance(2)
            facade.feed(ev.Tick())
            await asyncio.sleep(0.5)
            base = f"http://127.0.0.1:{server.port}"
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                for name, path, picture in (
                    ("lead", "/wallboard", "wallboard.png"),
                    ("fang", "/agent", "agent-page.png"),
                ):
                    context = await browser.new_context(
                        base_url=base, viewport={"width": 1440, "height": 860}
                    )
                    page = await context.new_page()
                    await page.goto("/login")
                    await page.fill("#username", name)
                    await page.fill("#password", PASSWORD)
                    await page.click("#sign-in")
                    await page.wait_for_url(f"**{path}")
                    await page.wait_for_selector("#live:text('live')")
                    if name == "fang":
                        await page.wait_for_selector("#pop-history li:not(.empty)")
                        await page.fill("#note-need", "保洁 3居室 深度清洁,周六上午")
                        await page.fill("#note-address", "朝阳区 建国路 88号 2-1502")
                        await page.fill("#note-contact", "李女士 " + REPEAT_CALLER)
                    await page.wait_for_timeout(600)
                    await page.screenshot(path=str(out / picture), full_page=True)
                    print(f"wrote {out / picture}")
                    await context.close()
                await browser.close()
        finally:
            await server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.out))
