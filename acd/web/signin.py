"""Signing in and out, and the home page that sends each role to its own page."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from acd.web.auth import check_csrf, require, session_user, start_session
from acd.web.http import Web, text
from acd.web.users import authenticate

log = logging.getLogger("acd.web")


def routes(web: Web) -> list[Route]:
    async def login_page(request: Request) -> Response:
        if session_user(request) is not None:
            return RedirectResponse("/", 303)
        return web.page(request, "login.html", error=None)

    async def login(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, text(form.get("csrf")))
        name = text(form.get("username")).strip().lower()
        password = text(form.get("password"))
        client = request.client.host if request.client else "?"
        keys = (f"ip:{client}", f"user:{name}")
        wait = web.throttle.retry_after(*keys)
        if wait > 0:
            response = web.page(
                request, "login.html", 429, error="Too many failed sign-ins. Try again later."
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = await authenticate(web.records, name, password) if name and password else None
        if user is None:
            web.throttle.failed(*keys)
            log.warning("failed web sign-in for %r from %s", name[:64], client)
            return web.page(request, "login.html", 401, error="Wrong user name or password.")
        web.throttle.succeeded(*keys)
        start_session(request, user)
        log.info("web sign-in: %s (%s)", user.name, user.role)
        return RedirectResponse("/", 303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, text(form.get("csrf")))
        request.session.clear()
        return RedirectResponse("/login", 303)

    async def home(request: Request) -> Response:
        user = require(request)
        return RedirectResponse("/wallboard" if user.supervises else "/agent", 303)

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
    ]
