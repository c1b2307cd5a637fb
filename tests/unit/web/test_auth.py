"""Sign-in, roles and cross-site protection, through Starlette's TestClient."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from acd.clock import ManualClock
from acd.core import events as ev
from acd.web.facade import CoreFacade
from agents.state import AgentState
from tests.unit.web.conftest import ORIGIN, PASSWORDS, sign_in


def state(facade: CoreFacade, number: str) -> AgentState | None:
    """The agent's state as the core's read API tells it."""
    view = facade.core.agent(number)
    return None if view is None else view.state


def on_call(facade: CoreFacade, number: str) -> None:
    """A caller for `number` alone (everyone else in training), offered and answered."""
    for other in ("1001", "1002", "1003", "1004"):
        if other != number:
            facade.feed(ev.AgentPause(other, "training"))
    facade.feed(ev.CallEntered("c1", "PJSIP/callers-1", "13800138000", "home", "general"))
    facade.feed(ev.OfferAnswered("c1", number, f"PJSIP/{number}-1"))
    assert state(facade, number) is AgentState.ON_CALL


def login_form(client: TestClient, name: str, password: str) -> int:
    page = client.get("/login").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf": csrf},
        follow_redirects=False,
    )
    return response.status_code


def test_the_session_cookie_is_httponly_samesite_strict_and_signed(client: TestClient) -> None:
    set_cookie = client.get("/login").headers["set-cookie"].lower()
    assert set_cookie.startswith("acd_session=")
    assert "; httponly" in set_cookie
    assert "; samesite=strict" in set_cookie
    value = client.cookies["acd_session"]
    client.cookies.set("acd_session", value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
    assert client.get("/wallboard", follow_redirects=False).status_code == 401


@pytest.mark.parametrize(
    "path", ["/", "/wallboard", "/agent", "/api/wallboard", "/events/agent", "/static/agent.js"]
)
def test_without_a_session_only_the_login_page_answers(client: TestClient, path: str) -> None:
    page = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login")
    assert client.get(path, follow_redirects=False).status_code == 401
    assert client.get("/login").status_code == 200


def test_a_wrong_password_or_unknown_user_is_refused(client: TestClient) -> None:
    assert login_form(client, "lead", "not-the-password") == 401
    assert login_form(client, "nobody", "not-the-password") == 401
    assert client.get("/api/wallboard").status_code == 401
    assert login_form(client, "lead", PASSWORDS["lead"]) == 303
    assert client.get("/api/wallboard").status_code == 200


def test_failed_logins_are_throttled_then_allowed_again(
    client: TestClient, throttle_clock: ManualClock
) -> None:
    for _ in range(3):
        assert login_form(client, "lead", "wrong-password!") == 401
    # Even the right password is refused while the name is locked out.
    assert login_form(client, "lead", PASSWORDS["lead"]) == 429
    throttle_clock.advance(61)
    assert login_form(client, "lead", PASSWORDS["lead"]) == 303


def test_an_agent_gets_403_for_every_supervisor_page_and_action(
    client: TestClient, facade: CoreFacade
) -> None:
    csrf = sign_in(client, "fang")
    headers = {"X-CSRF-Token": csrf}
    assert client.get("/wallboard").status_code == 403
    assert client.get("/api/wallboard").status_code == 403
    assert client.get("/events/wallboard").status_code == 403
    for action in ("pause", "ready", "logout", "join", "leave", "supervise/listen"):
        response = client.post(f"/api/agents/1002/{action}", headers=headers, json={})
        assert response.status_code == 403, action
    assert state(facade, "1002") is AgentState.READY


def test_an_agent_acts_only_as_themself(client: TestClient, facade: CoreFacade) -> None:
    csrf = sign_in(client, "fang")
    response = client.post(
        "/api/me/pause", headers={"X-CSRF-Token": csrf}, json={"reason": "lunch"}
    )
    assert response.json() == {"ok": True, "agent": "1001", "state": "not-ready", "reason": "lunch"}
    assert state(facade, "1001") is AgentState.NOT_READY
    assert state(facade, "1002") is AgentState.READY


def test_an_agent_cannot_put_themself_on_other_queues(
    client: TestClient, facade: CoreFacade
) -> None:
    before = facade.core.agent("1001")
    headers = {"X-CSRF-Token": sign_in(client, "fang")}
    for action in ("join", "leave", "move"):
        response = client.post(f"/api/me/{action}", headers=headers, json={"queues": ["repairs"]})
        assert response.status_code == 403, action
    assert client.post("/api/me/dance", headers=headers).status_code == 404
    assert facade.core.agent("1001") == before


def test_writes_need_the_session_token(client: TestClient, facade: CoreFacade) -> None:
    sign_in(client, "lead")
    refused = client.post("/api/agents/1002/pause", json={"reason": "lunch"})
    assert refused.status_code == 403
    wrong = client.post(
        "/api/agents/1002/pause", headers={"X-CSRF-Token": "guess"}, json={"reason": "lunch"}
    )
    assert wrong.status_code == 403
    assert state(facade, "1002") is AgentState.READY


def test_writes_from_another_origin_are_refused(client: TestClient, facade: CoreFacade) -> None:
    csrf = sign_in(client, "lead")
    for origin in ("http://evil.example", "null"):
        response = client.post(
            "/api/agents/1002/pause",
            headers={"X-CSRF-Token": csrf, "Origin": origin},
            json={"reason": "lunch"},
        )
        assert response.status_code == 403, origin
    assert state(facade, "1002") is AgentState.READY
    done = client.post(
        "/api/agents/1002/pause", headers={"X-CSRF-Token": csrf}, json={"reason": "lunch"}
    )
    assert done.json()["state"] == "not-ready"


def test_a_login_form_posted_from_elsewhere_is_refused(app: Starlette) -> None:
    with TestClient(app, base_url=ORIGIN, headers={"Origin": "http://evil.example"}) as client:
        assert login_form(client, "lead", PASSWORDS["lead"]) == 403


def test_a_supervisor_listens_from_their_own_phone(client: TestClient, facade: CoreFacade) -> None:
    csrf = sign_in(client, "lead")
    headers = {"X-CSRF-Token": csrf}
    idle = client.post("/api/agents/1001/supervise/listen", headers=headers)
    assert (idle.status_code, idle.json()) == (409, {"error": "agent 1001 is not on a call"})
    on_call(facade, "1001")
    ok = client.post("/api/agents/1001/supervise/whisper", headers=headers)
    assert ok.json() == {"ok": True, "mode": "whisper", "agent": "1001", "phone": "1090"}
    assert facade.supervised == [("whisper", "1001", "1090")]


def test_an_admin_without_a_phone_cannot_listen(client: TestClient) -> None:
    csrf = sign_in(client, "root")
    response = client.post("/api/agents/1001/supervise/listen", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 409
    assert "no phone" in response.json()["error"]


def test_a_supervisor_puts_a_supervisor_on_the_queues(
    client: TestClient, facade: CoreFacade
) -> None:
    csrf = sign_in(client, "lead")
    response = client.post("/api/agents/1090/join", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    joined = facade.core.agent("1090")
    assert joined is not None and "general" in joined.queues


def test_an_unknown_pause_reason_is_refused(client: TestClient, facade: CoreFacade) -> None:
    csrf = sign_in(client, "lead")
    response = client.post(
        "/api/agents/1002/pause", headers={"X-CSRF-Token": csrf}, json={"reason": "nap"}
    )
    assert response.status_code == 422
    assert state(facade, "1002") is AgentState.READY


def test_signing_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "lead")
    page = client.get("/wallboard").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/api/wallboard").status_code == 401


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_metrics_answer_loopback_scrapers_only(app: Starlette) -> None:
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
    with TestClient(app, client=("192.0.2.7", 40000)) as remote:
        assert remote.get("/metrics").status_code == 403


def test_metrics_with_a_token_need_it_from_everyone(facade: CoreFacade) -> None:
    from acd.web.app import create_app

    app = create_app(facade, session_secret="s" * 32, metrics_token="tok-123")
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 403
        ok = local.get("/metrics", headers={"Authorization": "Bearer tok-123"})
        assert ok.status_code == 200
