"""The Starlette application: the route modules put together, with sessions, the guard,
the live feed's lifetime and /metrics.

`create_app(facade, ...)` needs only an `EngineFacade`: the engine in production, a real core
fed by hand in tests. Routes live with what they serve - signing in (`signin`), supervisors'
wallboard and actions (`supervising`), the agent's desk (`desk`) - and every route names who
may use it; the guard middleware (acd.web.auth) adds the rules that hold for all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from acd.config.adapters import HttpSettings
from acd.web import desk, signin, supervising
from acd.web.auth import GuardMiddleware, LoginThrottle
from acd.web.facade import EngineFacade
from acd.web.http import HERE, Web
from acd.web.live import LiveFeed
from acd.web.metrics import metrics_app, metrics_guard


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
    web = Web(facade, feed, throttle or LoginThrottle())

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith(("/api/", "/events/")):
            return JSONResponse({"error": exc.detail}, exc.status_code, exc.headers)
        return PlainTextResponse(exc.detail, exc.status_code, exc.headers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with web.records_open() as records:
            feed.start(records)
            try:
                yield
            finally:
                await feed.close()

    routes: list[BaseRoute] = [
        *signin.routes(web),
        *supervising.routes(web),
        *desk.routes(web),
        Mount("/metrics", app=metrics_guard(metrics_app(), metrics_token)),
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
    app.state.throttle = web.throttle
    return app
