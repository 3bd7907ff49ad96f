"""Request body limits, as ASGI middleware in front of every route: a body over its route's limit
is answered 413 as soon as its Content-Length says so, or as soon as that many bytes have come
(chunked uploads), before any route reads it. Uploads (a run's data, rows to predict) may be up to
--max-upload-mb; every other body (a login form, a cancel) up to SMALL_BODY."""

from __future__ import annotations

import json

SMALL_BODY = 64 * 1024
UPLOAD_ROUTES = ("/api/runs", "/runs/new")  # and /api/runs/ID/predict, /runs/ID/predict


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app, upload_bytes: int):
        self.app, self.upload_bytes = app, upload_bytes

    def limit_for(self, method: str, path: str) -> int:
        if method == "POST" and (path in UPLOAD_ROUTES or path.endswith("/predict")):
            return self.upload_bytes
        return SMALL_BODY

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is over this server's limit of {limit / 2**20:g} MB for "
                                 "this route (advisor serve --max-upload-mb sets the uploads' limit)."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
