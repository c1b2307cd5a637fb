"""/metrics for Prometheus scrapers, which cannot sign in: guarded by a token or loopback."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def metrics_app() -> ASGIApp:
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
