"""The Starlette application: pages, live streams, actions and /metrics.

`create_app(facade, ...)` needs only an `EngineFacade`: the engine in production, a real core
fed by hand in tests. Every route names who may use it; the guard middleware (acd.web.auth)
adds the rules that hold for all of them.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from acd.config.models import HttpSettings
from acd.core import events as ev
from acd.core.decisions import CaseNote
from acd.records import queries
from acd.web.auth import (
    SUPERVISORS,
    GuardMiddleware,
    LoginThrottle,
    check_csrf,
    csrf_token,
    require,
    session_user,
    start_session,
)
from acd.web.facade import EngineFacade
from acd.web.live import LiveFeed
from acd.web.users import authenticate
from agents.phone import SPY_MODES

log = logging.getLogger("acd.web")
HERE = Path(__file__).resolve().parent
#: An open stream ends after this long and the browser reconnects: the session cookie is
#: checked again, so a stream never outlives the login it was opened with by much.
STREAM_SECONDS = 600.0
KEEPALIVE_SECONDS = 15.0
NOTE_FIELD_MAX = 500
NOTE_TEXT_MAX = 4000
#: Earlier calls of the number shown in the screen pop.
HISTORY_CALLS = 10
SUPERVISOR_ACTIONS = ("login", "logout", "pause", "ready", "join", "leave")
AGENT_ACTIONS = ("login", "logout", "pause", "ready")

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
)


def create_app(
    facade: EngineFacade,
    settings: HttpSettings | None = None,
    *,
    session_secret: str,
    metrics_token: str | None = None,
    throttle: LoginThrottle | None = None,
    min_interval: float | None = None,
) -> Starlette:
    settings = settings or facade.config.engine.http
    feed = LiveFeed(facade) if min_interval is None else LiveFeed(facade, min_interval)
    throttle = throttle or LoginThrottle()
    url = facade.paths.database_url

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = _templates.get_template(name).render(
            centre=facade.config.centre.name,
            nonce=request.scope["state"]["nonce"],
            csrf=csrf_token(request),
            user=session_user(request),
            **context,
        )
        return HTMLResponse(html, status)

    # -- sign in and out ------------------------------------------------------------------
    async def login_page(request: Request) -> Response:
        if session_user(request) is not None:
            return RedirectResponse("/", 303)
        return page(request, "login.html", error=None)

    async def login(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, _str(form.get("csrf")))
        name = _str(form.get("username")).strip().lower()
        password = _str(form.get("password"))
        client = request.client.host if request.client else "?"
        keys = (f"ip:{client}", f"user:{name}")
        wait = throttle.retry_after(*keys)
        if wait > 0:
            response = page(
                request, "login.html", 429, error="Too many failed sign-ins. Try again later."
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = await authenticate(url, name, password) if name and password else None
        if user is None:
            throttle.failed(*keys)
            log.warning("failed web sign-in for %r from %s", name[:64], client)
            return page(request, "login.html", 401, error="Wrong user name or password.")
        throttle.succeeded(*keys)
        start_session(request, user)
        log.info("web sign-in: %s (%s)", user.name, user.role)
        return RedirectResponse("/", 303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, _str(form.get("csrf")))
        request.session.clear()
        return RedirectResponse("/login", 303)

    async def home(request: Request) -> Response:
        user = require(request)
        return RedirectResponse("/wallboard" if user.supervises else "/agent", 303)

    # -- pages ----------------------------------------------------------------------------
    async def wallboard_page(request: Request) -> Response:
        require(request, SUPERVISORS)
        return page(request, "wallboard.html", modes=list(SPY_MODES))

    async def agent_page(request: Request) -> Response:
        user = require(request)
        if not user.agent or user.agent not in facade.core.agents:
            return page(request, "no_agent.html", 403)
        return page(request, "agent.html", agent=user.agent)

    # -- live streams ---------------------------------------------------------------------
    async def wallboard_events(request: Request) -> Response:
        require(request, SUPERVISORS)
        return _stream(feed, None)

    async def agent_events(request: Request) -> Response:
        user = require(request)
        if not user.agent:
            raise HTTPException(403, "your user has no work number")
        return _stream(feed, user.agent)

    async def wallboard_json(request: Request) -> Response:
        require(request, SUPERVISORS)
        return JSONResponse(feed.wallboard())

    # -- supervisor actions ---------------------------------------------------------------
    async def agent_action(request: Request) -> Response:
        require(request, SUPERVISORS)
        check_csrf(request, request.headers.get("x-csrf-token"))
        number = request.path_params["number"]
        action = request.path_params["action"]
        if action not in SUPERVISOR_ACTIONS:
            raise HTTPException(404, f"no action {action!r}")
        body = await _json(request)
        return await _run(facade, number, action, body.get("reason"))

    async def move_agent(request: Request) -> Response:
        """Put an agent on the given queues (body `{"queues": [...]}`), or back on the
        queues their skills fit (`{"queues": null}`)."""
        user = require(request, SUPERVISORS)
        check_csrf(request, request.headers.get("x-csrf-token"))
        number = request.path_params["number"]
        if number not in facade.core.agents:
            raise HTTPException(404, f"no agent {number}")
        queues = (await _json(request)).get("queues")
        if queues is not None and (
            not isinstance(queues, list) or not all(isinstance(q, str) for q in queues)
        ):
            raise HTTPException(422, "queues: a list of queue names, or null")
        error = await facade.command(ev.SetQueues(number, tuple(queues) if queues else None))
        if error is not None:
            return JSONResponse({"error": error}, 409)
        log.info("web: %s moved agent %s to %s", user.name, number, queues or "their skills")
        return JSONResponse({"ok": True, "agent": number, "queues": queues})

    async def supervise(request: Request) -> Response:
        user = require(request, SUPERVISORS)
        check_csrf(request, request.headers.get("x-csrf-token"))
        number = request.path_params["number"]
        mode = request.path_params["mode"]
        if mode not in SPY_MODES:
            raise HTTPException(404, f"no mode {mode!r}")
        if not user.agent:
            raise HTTPException(409, "your user has no phone: `acd user add ... --agent N`")
        try:
            await facade.supervise(mode, number, user.agent)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        except Exception as exc:  # AMI down or refusing: say so, keep serving
            log.warning("supervise %s on %s failed: %s", mode, number, exc)
            return JSONResponse({"error": f"the phone system refused: {exc}"}, 502)
        log.info("web: %s %s agent %s", user.name, mode, number)
        return JSONResponse({"ok": True, "mode": mode, "agent": number, "phone": user.agent})

    # -- the agent's own actions ----------------------------------------------------------
    async def my_action(request: Request) -> Response:
        user = require(request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        action = request.path_params["action"]
        if not user.agent:
            raise HTTPException(403, "your user has no work number")
        if action not in AGENT_ACTIONS:
            raise HTTPException(404, f"no action {action!r}")
        body = await _json(request)
        return await _run(facade, user.agent, action, body.get("reason"))

    async def my_call(request: Request) -> Response:
        user = require(request)
        call_id = request.path_params["call_id"]
        caller = feed.pops.caller_of(user.agent or "", call_id)
        if caller is None:
            raise HTTPException(404, "not one of your calls")
        row = await queries.get_call(url, call_id)
        history = None
        try:
            history = await queries.caller_history(url, caller, limit=HISTORY_CALLS)
        except Exception as exc:  # the pop still shows what the stream said
            log.warning("caller history failed: %s", exc)
        return JSONResponse(
            json.loads(
                json.dumps(
                    {
                        "call_id": call_id,
                        "caller": caller,
                        "ivr_path": row.get("ivr_path") if row else None,
                        "history": history,
                    },
                    default=str,
                )
            )
        )

    async def my_note(request: Request) -> Response:
        user = require(request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        body = await _json(request)
        call_id = _str(body.get("call_id"))
        if not user.agent or feed.pops.caller_of(user.agent, call_id) is None:
            raise HTTPException(404, "not one of your calls")
        fields = {name: _str(body.get(name)).strip() for name in ("need", "address", "contact")}
        text = _str(body.get("text")).strip()
        if any(len(value) > NOTE_FIELD_MAX for value in fields.values()):
            raise HTTPException(422, f"need, address and contact: {NOTE_FIELD_MAX} at most")
        if len(text) > NOTE_TEXT_MAX:
            raise HTTPException(422, f"the note: {NOTE_TEXT_MAX} characters at most")
        if not (fields["need"] or text):
            raise HTTPException(422, "say what the caller needs")
        note = CaseNote(
            call_id=call_id,
            agent=user.agent,
            need=fields["need"] or None,
            address=fields["address"] or None,
            contact=fields["contact"] or None,
            text=text or None,
            at=facade.clock.now(),
        )
        try:
            facade.writer.submit(note)
        except TypeError as exc:  # a writer that does not know case notes yet
            return JSONResponse({"error": f"case notes cannot be stored: {exc}"}, 503)
        return JSONResponse({"ok": True, "call_id": call_id})

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith(("/api/", "/events/")):
            return JSONResponse({"error": exc.detail}, exc.status_code, exc.headers)
        return PlainTextResponse(exc.detail, exc.status_code, exc.headers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        feed.start()
        try:
            yield
        finally:
            await feed.close()

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/wallboard", wallboard_page),
        Route("/agent", agent_page),
        Route("/events/wallboard", wallboard_events),
        Route("/events/agent", agent_events),
        Route("/api/wallboard", wallboard_json),
        Route("/api/agents/{number}/supervise/{mode}", supervise, methods=["POST"]),
        Route("/api/agents/{number}/queues", move_agent, methods=["POST"]),
        Route("/api/agents/{number}/{action}", agent_action, methods=["POST"]),
        Route("/api/me/notes", my_note, methods=["POST"]),
        Route("/api/me/calls/{call_id}", my_call),
        Route("/api/me/{action}", my_action, methods=["POST"]),
        Mount("/metrics", app=metrics_guard(_metrics_app(), metrics_token)),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_secret,
                session_cookie="acd_session",
                max_age=int(settings.session_hours * 3600),
                same_site="strict",
                https_only=settings.secure_cookies,
            ),
            Middleware(GuardMiddleware),
        ],
        exception_handlers={HTTPException: on_http_error},
        lifespan=lifespan,
        max_body_size=64 * 1024,
    )
    app.state.feed = feed
    app.state.throttle = throttle
    return app


async def _run(facade: EngineFacade, number: str, action: str, reason: Any) -> Response:
    """An agent command through the engine: the state it led to, or why it was refused."""
    if number not in facade.core.agents:
        raise HTTPException(404, f"no agent {number}")
    event: ev.Event
    if action == "pause":
        reasons = set(facade.config.centre.pause_reasons.values())
        why = _str(reason) or "break"
        if why not in reasons:
            raise HTTPException(422, f"pause reason: one of {', '.join(sorted(reasons))}")
        event = ev.AgentPause(number, why)
    elif action in ("join", "leave"):
        event = ev.TakeCalls(number, action == "join")
    elif action == "login":
        event = ev.AgentLogin(number)
    elif action == "logout":
        event = ev.AgentLogout(number)
    else:
        event = ev.AgentReady(number)
    error = await facade.command(event)
    if error is not None:
        return JSONResponse({"error": error}, 409)
    agent = facade.core.agents[number]
    return JSONResponse(
        {"ok": True, "agent": number, "state": agent.state.value, "reason": agent.reason}
    )


def _stream(feed: LiveFeed, agent: str | None) -> StreamingResponse:
    event_name = "wallboard" if agent is None else "agent"

    async def events() -> AsyncIterator[str]:
        sub = feed.subscribe(agent)
        loop_time = _loop_time()
        deadline = loop_time() + STREAM_SECONDS
        try:
            yield "retry: 3000\n\n"
            while not sub.closed and loop_time() < deadline:
                payload = await sub.next(KEEPALIVE_SECONDS)
                if payload is None:
                    yield ": keep-alive\n\n"
                else:
                    yield f"event: {event_name}\ndata: {payload}\n\n"
        finally:
            feed.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


def _loop_time() -> Callable[[], float]:
    import asyncio

    return asyncio.get_running_loop().time


def _metrics_app() -> ASGIApp:
    """The engine's metrics if that module is there; else prometheus_client's own."""
    try:
        from acd.live.metrics import metrics_app  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from prometheus_client import make_asgi_app

        return make_asgi_app()
    return metrics_app  # type: ignore[no-any-return,unused-ignore]


def metrics_guard(app: ASGIApp, token: str | None) -> ASGIApp:
    """/metrics for scrapers that cannot log in: with a token (`metrics_token` in the
    secrets file) only `Authorization: Bearer <token>`; without one only loopback clients."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if token:
            presented = headers.get(b"authorization", b"").decode("latin-1")
            ok = hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())
        else:
            client = scope.get("client")
            ok = client is not None and _loopback(client[0])
        if not ok:
            denied = PlainTextResponse("forbidden", 403)
            await denied(scope, receive, send)
            return
        await app(scope, receive, send)

    return guarded


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


async def _json(request: Request) -> dict[str, Any]:
    if not await request.body():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return data
