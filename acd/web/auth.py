"""Sessions, roles, CSRF and the login throttle for the web pages.

The rules are enforced on the server for every request, never by hiding buttons: the guard
middleware lets nothing but the login page through without a session, refuses cross-site
writes, and each endpoint names the roles it serves (`require`).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from acd.web.users import Role, WebUser

SUPERVISORS: tuple[Role, ...] = ("supervisor", "admin")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Reachable without a session: the login page itself, and /metrics, which has its own rule
#: (see `acd.web.app`) because Prometheus scrapers do not log in.
PUBLIC_PATHS = frozenset({"/login"})
PUBLIC_PREFIXES = ("/metrics",)


@dataclass(frozen=True, slots=True)
class SessionUser:
    name: str
    role: Role
    agent: str | None

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISORS


def session_user(conn: HTTPConnection) -> SessionUser | None:
    data = conn.session.get("user") if "session" in conn.scope else None
    if not isinstance(data, dict):
        return None
    try:
        return SessionUser(str(data["name"]), cast(Role, data["role"]), data.get("agent"))
    except KeyError:
        return None


def start_session(conn: HTTPConnection, user: WebUser) -> None:
    """A fresh session for `user`: nothing from before the login is carried over."""
    conn.session.clear()
    conn.session["user"] = {"name": user.name, "role": user.role, "agent": user.agent}
    conn.session["csrf"] = secrets.token_urlsafe(32)


def csrf_token(conn: HTTPConnection) -> str:
    token = conn.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        conn.session["csrf"] = token
    return token


def check_csrf(conn: HTTPConnection, presented: str | None) -> None:
    """403 unless `presented` is this session's token (header or form field)."""
    expected = conn.session.get("csrf")
    if not isinstance(expected, str) or not presented:
        raise HTTPException(403, "missing CSRF token")
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise HTTPException(403, "bad CSRF token")


def require(conn: HTTPConnection, roles: tuple[Role, ...] | None = None) -> SessionUser:
    """The signed-in user, if their role is one of `roles` (any role when None); else 401/403."""
    user = session_user(conn)
    if user is None:
        raise HTTPException(401, "sign in first")
    if roles is not None and user.role not in roles:
        raise HTTPException(403, "not allowed for your role")
    return user


def same_origin(headers: Headers, scheme: str) -> bool:
    """Whether a write comes from our own pages: Origin (or, lacking it, Referer) must be
    this server as the browser addressed it."""
    host = headers.get("host")
    source = headers.get("origin") or headers.get("referer")
    if not host or not source or source == "null":
        return False
    parts = urlsplit(source)
    return (
        parts.scheme in ("http", "https")
        and parts.netloc == host
        and (parts.scheme == scheme or headers.get("x-forwarded-proto") == parts.scheme)
    )


class LoginThrottle:
    """At most `max_failures` failed logins per key (client address, user name) within
    `window` seconds; further attempts are refused until the oldest failure ages out.

    Keyed on both so that one address cannot try many names and many addresses cannot try
    one name. Kept in memory: a restart forgets, which only helps someone who can restart it.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login may be tried for these keys; 0 if it may be now."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key)
            if len(failures) >= self.max_failures:
                wait = max(wait, failures[0] + self.window - self.clock())
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key)
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


class GuardMiddleware:
    """Every request: a session or the login page; same-origin writes; security headers.

    Sits inside the session middleware, so `scope["session"]` is already decoded. A nonce
    for the page's inline style is put in `scope["state"]["nonce"]` for the templates.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        conn = HTTPConnection(scope)
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce
        denied: Response | None = None
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        if scope["method"] in _UNSAFE and not same_origin(conn.headers, scope["scheme"]):
            denied = JSONResponse({"error": "cross-site request refused"}, 403)
        elif not public and session_user(conn) is None:
            wants_page = scope["method"] == "GET" and "text/html" in conn.headers.get("accept", "")
            denied = (
                RedirectResponse("/login", 303)
                if wants_page
                else JSONResponse({"error": "sign in first"}, 401)
            )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", _csp(nonce))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        if denied is not None:
            await denied(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _csp(nonce: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
        f"style-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )
