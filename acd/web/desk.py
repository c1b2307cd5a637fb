"""What an agent uses at their desk: their page and live stream, their own state changes,
the details of a call offered to them, and the case note they write for it."""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from acd.records.items import CaseNote
from acd.web.auth import check_csrf, require
from acd.web.http import Web, json_body, text
from acd.web.streams import stream

log = logging.getLogger("acd.web")
NOTE_FIELD_MAX = 500
NOTE_TEXT_MAX = 4000
#: Earlier calls of the number shown in the screen pop.
HISTORY_CALLS = 10


def routes(web: Web) -> list[Route]:
    facade, feed = web.facade, web.feed

    async def agent_page(request: Request) -> Response:
        user = require(request)
        if not user.agent or facade.config.agent(user.agent) is None:
            return web.page(request, "no_agent.html", 403)
        return web.page(request, "agent.html", agent=user.agent)

    async def agent_events(request: Request) -> Response:
        user = require(request)
        if not user.agent:
            raise HTTPException(403, "your user has no work number")
        return stream(feed, user.agent)

    async def my_action(request: Request) -> Response:
        user = require(request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        if not user.agent:
            raise HTTPException(403, "your user has no work number")
        action = request.path_params["action"]
        return await web.run(user, action, user.agent, await json_body(request))

    async def my_call(request: Request) -> Response:
        user = require(request)
        call_id = request.path_params["call_id"]
        caller = feed.pops.caller_of(user.agent or "", call_id)
        if caller is None:
            raise HTTPException(404, "not one of your calls")
        row = await web.records.get_call(call_id)
        history = None
        try:
            history = await web.records.caller_history(caller, limit=HISTORY_CALLS)
        except Exception as exc:  # the pop still shows what the stream said
            log.warning("caller history failed: %s", exc)
        found = {
            "call_id": call_id,
            "caller": caller,
            "ivr_path": row.get("ivr_path") if row else None,
            "history": history,
        }
        return JSONResponse(json.loads(json.dumps(found, default=str)))

    async def my_note(request: Request) -> Response:
        user = require(request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        body = await json_body(request)
        call_id = text(body.get("call_id"))
        if not user.agent or feed.pops.caller_of(user.agent, call_id) is None:
            raise HTTPException(404, "not one of your calls")
        fields = {name: text(body.get(name)).strip() for name in ("need", "address", "contact")}
        note_text = text(body.get("text")).strip()
        if any(len(value) > NOTE_FIELD_MAX for value in fields.values()):
            raise HTTPException(422, f"need, address and contact: {NOTE_FIELD_MAX} at most")
        if len(note_text) > NOTE_TEXT_MAX:
            raise HTTPException(422, f"the note: {NOTE_TEXT_MAX} characters at most")
        if not (fields["need"] or note_text):
            raise HTTPException(422, "say what the caller needs")
        note = CaseNote(
            call_id=call_id,
            agent=user.agent,
            need=fields["need"] or None,
            address=fields["address"] or None,
            contact=fields["contact"] or None,
            text=note_text or None,
            at=facade.clock.now(),
        )
        try:
            facade.writer.submit(note)
        except TypeError as exc:  # a writer that does not know case notes yet
            return JSONResponse({"error": f"case notes cannot be stored: {exc}"}, 503)
        return JSONResponse({"ok": True, "call_id": call_id})

    return [
        Route("/agent", agent_page),
        Route("/events/agent", agent_events),
        Route("/api/me/notes", my_note, methods=["POST"]),
        Route("/api/me/calls/{call_id}", my_call),
        Route("/api/me/{action}", my_action, methods=["POST"]),
    ]
