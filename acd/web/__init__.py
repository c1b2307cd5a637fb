"""The web pages: the wallboard and supervisor console, the agent page, and /metrics.

Served by the engine's own event loop (uvicorn embedded, see `server.py`) from the core's
snapshot and the observer stream, so a page never shows anything the core does not know.
"""
