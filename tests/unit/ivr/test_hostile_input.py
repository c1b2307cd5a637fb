"""Floods of keys against the IVR: thousands of digits, junk keys, menus that loop.

The flow is a pure state machine, so a flood can only hurt it by raising, by reaching a dead
end, or by growing without bound; each is checked with ordinary menus and with a menu whose
every way out leads back to itself. The menus are the test site's (tests/unit/site.py): two
levels, a back key, repeat keys, a fallback, as a shipped hotline has.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.config import Config
from acd.config.hotlines import Repeat
from ivr.flow import Callback, Collect, Enqueue, Hangup, IvrFlow, Listen, Message, TransferOut
from tests.unit.site import site

OPEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
CONFIG: Config = site()
KEYS = "0123456789*#ABCD"


def looping_config() -> Config:
    """The site's hotline with a main menu whose options and fallback all repeat it."""
    hotline = CONFIG.hotlines[0]
    main = hotline.menus[hotline.menu]
    loop = main.model_copy(
        update={"options": {"1": Repeat(repeat=True)}, "fallback": Repeat(repeat=True)}
    )
    menus = {**hotline.menus, hotline.menu: loop}
    return CONFIG.model_copy(update={"hotlines": [hotline.model_copy(update={"menus": menus})]})


def drive(flow: IvrFlow, keys: str) -> tuple[object, int]:
    """Press `keys` while the flow collects (silence when it listens); returns the last step
    and how many keys it took."""
    step = flow.start(OPEN)
    used = 0
    for key in keys:
        if not isinstance(step, Collect | Listen):
            break
        used += 1
        step = flow.on_silence() if isinstance(step, Listen) else flow.on_digit(key)
    return step, used


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from(KEYS), min_size=1, max_size=5_000))
def test_a_flood_of_keys_ends_in_a_decision_within_a_few_keys(keys: str) -> None:
    flow = IvrFlow(CONFIG, "home")
    step, used = drive(flow, keys)
    assert isinstance(step, Collect | Listen | Enqueue | Hangup | Callback | Message | TransferOut)
    # The path records what happened, no more: one entry per key plus the menus entered.
    assert len(flow.path) <= 2 * used + 2


def test_junk_keys_reach_the_fallback_after_the_retries() -> None:
    flow = IvrFlow(CONFIG, "home")
    main = flow.menu
    step, used = drive(flow, "D" * 10_000)
    assert step == Enqueue(main.fallback.queue, main.fallback.priority)  # type: ignore[union-attr]
    assert used == main.retries + 1


def test_ten_thousand_keys_in_a_menu_that_only_repeats() -> None:
    flow = IvrFlow(looping_config(), "home")
    step, used = drive(flow, ("1" + "9" + "A" + "#") * 2_500)
    assert isinstance(step, Collect)  # repeating forever is what this menu asks for
    assert used == 10_000
    assert len(flow.path) == 10_001  # the menu once, then each key: linear, nothing else kept


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=50))
def test_keys_that_are_not_dtmf_count_as_invalid(junk: str) -> None:
    flow = IvrFlow(CONFIG, "home")
    flow.start(OPEN)
    main = flow.menu
    key = junk if junk not in main.options else junk + "?"
    step = flow.on_digit(key)
    assert isinstance(step, Collect) and flow.failures == 1
    assert flow.path[-1] == key
