"""What supervisors use: the wallboard (page, live stream, JSON), actions on any agent, moving
an agent between queues, and listening in from their own phone."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from acd.web.auth import SUPERVISORS, check_csrf, require
from acd.web.http import Web, json_body, refused_as_http
from acd.web.streams import stream
from agents.commands import AgentAction, SpyMode, spy_mode

log = logging.getLogger("acd.web")


def routes(web: Web) -> list[Route]:
    facade = web.facade

    async def wallboard_page(request: Request) -> Response:
        require(request, SUPERVISORS)
        return web.page(request, "wallboard.html", modes=[mode.value for mode in SpyMode])

    async def wallboard_events(request: Request) -> Response:
        require(request, SUPERVISORS)
        return stream(web.feed, None)

    async def wallboard_json(request: Request) -> Response:
        require(request, SUPERVISORS)
        return JSONResponse(web.feed.wallboard())

    async def agent_action(request: Request) -> Response:
        user = require(request, SUPERVISORS)
        check_csrf(request, request.headers.get("x-csrf-token"))
        number, action = request.path_params["number"], request.path_params["action"]
        if action == AgentAction.MOVE:  # it has its own route, with its own answer
            raise HTTPException(404, f"no action {action!r}")
        return await web.run(user, action, number, await json_body(request))

    async def move_agent(request: Request) -> Response:
        """Put an agent on the given queues (body `{"queues": [...]}`), or back on the
        queues their skills fit (`{"queues": null}`)."""
        user = require(request, SUPERVISORS)
        check_csrf(request, request.headers.get("x-csrf-token"))
        number = request.path_params["number"]
        queues = (await json_body(request)).get("queues")
        answer = await web.run(user, AgentAction.MOVE, number, {"queues": queues})
        if answer.status_code != 200:
            return answer
        log.info("web: %s moved agent %s to %s", user.name, number, queues or "their skills")
        return JSONResponse({"ok": True, "agent": number, "queues": queues})

    async def supervise(request: Request) -> Response:
        user = require(request, SUPERVISORS)
        check_csrf(request, request.headers.get("x-csrf-token"))
        number, mode = request.path_params["number"], request.path_params["mode"]
        if mode not in {m.value for m in SpyMode}:
            raise HTTPException(404, f"no mode {mode!r}")
        if not user.agent:
            raise HTTPException(409, "your user has no phone: `acd user add ... --agent N`")
        phone = user.agent
        chosen = refused_as_http(lambda: spy_mode(facade.config, mode, number, supervisor=phone))
        try:
            await facade.supervise(chosen, number, phone)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        except Exception as exc:  # AMI down or refusing: say so, keep serving
            log.warning("supervise %s on %s failed: %s", chosen, number, exc)
            return JSONResponse({"error": f"the phone system refused: {exc}"}, 502)
        log.info("web: %s %s agent %s", user.name, chosen, number)
        return JSONResponse({"ok": True, "mode": chosen, "agent": number, "phone": phone})

    return [
        Route("/wallboard", wallboard_page),
        Route("/events/wallboard", wallboard_events),
        Route("/api/wallboard", wallboard_json),
        Route("/api/agents/{number}/supervise/{mode}", supervise, methods=["POST"]),
        Route("/api/agents/{number}/queues", move_agent, methods=["POST"]),
        Route("/api/agents/{number}/{action}", agent_action, methods=["POST"]),
    ]
