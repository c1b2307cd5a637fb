"""What every route module of the pages shares: the app's context (with its one `Records`),
page rendering, reading a request's body, and an agent command carried out and answered.

The policy of an agent action (who may do what to whom, which reasons and queues exist) is
`agents.commands`'; this module only turns its `CommandError` into the HTTP answer, so the web
checks nothing the control socket and the phones do not check too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from acd.records.store import Records
from acd.web.auth import LoginThrottle, SessionUser, csrf_token, session_user
from acd.web.facade import EngineFacade
from acd.web.live import LiveFeed
from agents.commands import Actor, CommandError, Problem, event_for

HERE = Path(__file__).resolve().parent
T = TypeVar("T")

#: The HTTP answer to each kind of bad request: what does not exist is not found, a value
#: outside the site's choices cannot be processed, and what the asker may not do is forbidden.
STATUS = {
    Problem.UNKNOWN_ACTION: 404,
    Problem.UNKNOWN_AGENT: 404,
    Problem.UNKNOWN_MODE: 404,
    Problem.UNKNOWN_REASON: 422,
    Problem.UNKNOWN_QUEUE: 422,
    Problem.NOT_ALLOWED: 403,
}

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
)


@dataclass(slots=True)
class Web:
    """The app's context, handed to each module's `routes(web)`."""

    facade: EngineFacade
    feed: LiveFeed
    throttle: LoginThrottle
    _records: Records | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """The records database the pages read (users, calls, reviews)."""
        return self.facade.paths.database_url

    @property
    def records(self) -> Records:
        """The app's one `Records`, open while the app serves (`records_open`)."""
        if self._records is None:
            raise RuntimeError("the web app's records are open only while it serves")
        return self._records

    @contextlib.asynccontextmanager
    async def records_open(self) -> AsyncIterator[Records]:
        """Open the app's one `Records` for its lifespan: one connection pool for every page
        and the wallboard's reviews, made in the loop that serves them (the pool's
        connections belong to that loop) and closed when the app stops."""
        async with Records(self.url) as records:
            self._records = records
            try:
                yield records
            finally:
                self._records = None

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = _templates.get_template(name).render(
            centre=self.facade.config.centre.name,
            nonce=request.scope["state"]["nonce"],
            csrf=csrf_token(request),
            user=session_user(request),
            **context,
        )
        return HTMLResponse(html, status)

    async def run(
        self, user: SessionUser, action: str, number: str, body: dict[str, Any]
    ) -> Response:
        """An agent command through the engine: the state it led to, or why not."""
        event = refused_as_http(
            lambda: event_for(
                self.facade.config,
                action,
                number,
                by=Actor(user.agent, user.supervises),
                reason=body.get("reason"),
                queues=body.get("queues"),
            )
        )
        error = await self.facade.command(event)
        if error is not None:
            return JSONResponse({"error": error}, 409)
        agent = self.facade.core.agent(number)
        state = None if agent is None else agent.state.value
        reason = None if agent is None else agent.reason
        return JSONResponse({"ok": True, "agent": number, "state": state, "reason": reason})


def refused_as_http(check: Callable[[], T]) -> T:
    """`check()`, with a CommandError raised as the HTTP error of its kind."""
    try:
        return check()
    except CommandError as exc:
        raise HTTPException(STATUS[exc.problem], str(exc)) from None


def text(value: Any) -> str:
    """A form or JSON field as text; anything else (a number, a list, missing) is empty."""
    return value if isinstance(value, str) else ""


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; no body is an empty one."""
    if not await request.body():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return data
