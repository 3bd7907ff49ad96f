"""The service's JSON API (FastAPI). Every route under /api needs `Authorization: Bearer TOKEN`
(or the pages' session cookie); a run belongs to its token's user and is 404 to everyone else.
No route reads a server path the client names: runs are found by id, files come as uploads."""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.staticfiles import StaticFiles

from advisor.errors import InputError
from advisor.service import events_log, uploads
from advisor.service.limits import BodyLimit
from advisor.service.runner import Runner
from advisor.service.store import STATUSES, Run, Store

SESSION_COOKIE = "advisor_session"
PAGE_SIZE, MAX_PAGE = 50, 200
TERMINAL = ("done", "failed", "cancelled")


@dataclasses.dataclass(frozen=True)
class ServiceConfig:
    home: Path
    max_upload_bytes: int
    queue_limit: int  # queued + running runs a user may have at once
    address: str | None


@dataclasses.dataclass(frozen=True)
class Service:
    config: ServiceConfig
    store: Store
    runner: Runner


def create_app(service: Service) -> FastAPI:
    from advisor import __version__
    from advisor.service.pages import pages

    app = FastAPI(title="advisor", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Submit data, watch runs, and fetch reports, models and predictions.")
    app.state.service = service
    app.include_router(api)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(BodyLimit, upload_bytes=service.config.max_upload_bytes + (1 << 20))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request, error: RequestValidationError):
        """FastAPI's list of validation errors as one line, as every other 4xx here answers."""
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}"
                 for e in error.errors()]
        return JSONResponse({"detail": "; ".join(parts)[:500] + "."}, status_code=422)

    @app.exception_handler(InputError)
    async def _input_error(_request, error: InputError):
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():  # a browser asks for it on every page (the report's too): an empty answer, not a 404
        return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})

    @app.get("/health", include_in_schema=False)
    async def health():
        runner = service.runner
        state = "failed" if runner.failure else "ok" if runner.ready.is_set() else "starting"
        return {"status": state, "runner": runner.failure or ("ready" if runner.ready.is_set() else "starting")}

    return app


def service_of(request: Request) -> Service:
    return request.app.state.service


def request_user(request: Request) -> str | None:
    store = service_of(request).store
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return store.user_of_token(header[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    return store.user_of_session(cookie) if cookie else None


def current_user(request: Request) -> str:
    user = request_user(request)
    if user is None:
        raise HTTPException(401, "a valid token is required: send 'Authorization: Bearer TOKEN' "
                                 "(make one with 'advisor token create NAME').", headers={"WWW-Authenticate": "Bearer"})
    return user


def owned_run(run_id: str, request: Request, user: str = Depends(current_user)) -> Run:
    run = service_of(request).store.run(run_id, user=user)
    if run is None:
        raise HTTPException(404, f"no run {run_id!r} of yours here.")
    return run


api = APIRouter(prefix="/api")


@api.post("/runs", status_code=201)
async def submit_run(request: Request, user: str = Depends(current_user)) -> dict[str, Any]:
    """Multipart: `file` (a CSV/TSV/Parquet/.npz file, or a .zip of an image folder) and the CLI's
    options as fields (target, family, budget, tune, seed, search, tuner, trials, horizon, ...)."""
    run = await accept_submission(request, user)
    return {"id": run.id, "status": run.status}


async def accept_submission(request: Request, user: str) -> Run:
    """Checked and recorded, or refused with nothing kept (the API's and the submit page's)."""
    service = service_of(request)
    form = await request.form(max_files=1, max_fields=64)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(400, "the multipart field 'file' is required: the data to run on.")
    if service.store.active_count(user) >= service.config.queue_limit:
        raise HTTPException(429, f"you have {service.config.queue_limit} runs queued or running, this server's "
                                 "limit per user: wait for one to finish or cancel one.")
    run_id = f"{int(time.time() * 1000):013d}-{secrets.token_hex(4)}"  # time-ordered: newest first is id descending
    folder = service.runner.run_folder(run_id)
    fields = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}
    try:
        options = await run_in_threadpool(_accept, upload, fields, folder, service.config)
    except uploads.TooLarge as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(413, str(error)) from None
    except InputError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(422, str(error)) from None
    finally:
        await upload.close()
    return service.store.add_run(run_id, user, uploads.safe_name(upload.filename), options.to_json())


def _accept(upload: UploadFile, fields: dict[str, str], folder: Path, config: ServiceConfig):
    name = uploads.safe_name(upload.filename)
    data = uploads.receive(upload.file, folder / "upload", name, config.max_upload_bytes)
    options = uploads.form_options(fields, data.resolve(), (folder / "run").resolve(), config.address,
                                   command=f"advisor serve (upload {name})")
    uploads.check_loadable(data, options.target, name)
    return options


# The two routes a team's dashboards poll answer with json.dumps's bytes directly: FastAPI's
# generic encoder took 5 ms of a run's 7 on a 44 KB result.json (bench/results/service.md).
@api.get("/runs")
def list_runs(request: Request, status: str | None = None, cursor: str | None = None, limit: int = PAGE_SIZE,
              user: str = Depends(current_user)) -> Response:
    """Newest first; `next` is the cursor for the page after this one (null on the last)."""
    if status is not None and status not in STATUSES:
        raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}, not {status!r}.")
    if not 1 <= limit <= MAX_PAGE:
        raise HTTPException(400, f"limit must be 1 to {MAX_PAGE}, not {limit}.")
    found = service_of(request).store.list_runs(user, status=status, before=cursor, limit=limit + 1)
    page = found[:limit]
    body = {"runs": [run.summary() for run in page], "next": page[-1].id if len(found) > limit else None}
    return Response(json.dumps(body), media_type="application/json")


@api.get("/runs/{run_id}")
def get_run(request: Request, run: Run = Depends(owned_run)) -> Response:
    """The run's row, its progress from its events, and result.json (as written) once it is done."""
    folder = service_of(request).runner.run_folder(run.id)
    head = json.dumps({**run.summary(), "progress": events_log.progress(folder / "events.jsonl")})
    result = "null"
    if run.status == "done":  # strict JSON already (the pipeline writes it with allow_nan=False)
        result = (Path(run.options["out"]) / "result.json").read_text(encoding="utf-8")
    return Response(f'{head[:-1]}, "result": {result}}}', media_type="application/json")


@api.get("/runs/{run_id}/events")
async def run_events(request: Request, run: Run = Depends(owned_run)) -> StreamingResponse:
    """Server-sent events: the run's typed events from its start (`id` counts them; a client that
    reconnects with Last-Event-ID gets the ones after it), until the run ends."""
    service = service_of(request)
    path = service.runner.run_folder(run.id) / "events.jsonl"
    last = request.headers.get("last-event-id", "")
    skip = int(last) if last.isdigit() else 0
    checked = {"at": 0.0, "ended": False}

    def ended() -> bool:
        if time.monotonic() - checked["at"] > 1.0:
            current = service.store.run(run.id)
            checked.update(at=time.monotonic(), ended=current is None or current.status in TERMINAL)
        return checked["ended"]

    async def stream():
        count = 0
        async for event in events_log.follow(path, ended):
            count += 1
            if count > skip:
                yield f"id: {count}\nevent: {event['event']}\ndata: {json.dumps(event)}\n\n"
            if await request.is_disconnected():
                return
        yield "event: end\ndata: {}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@api.get("/runs/{run_id}/report")
def run_report(run: Run = Depends(owned_run)) -> FileResponse:
    report = Path(run.options["out"]) / "report.html"
    if not report.is_file():
        raise HTTPException(409, f"run {run.id} is {run.status}: its report is written when it is done.")
    return FileResponse(report, media_type="text/html")


@api.get("/runs/{run_id}/model")
def run_model(run: Run = Depends(owned_run)) -> FileResponse:
    model = Path(run.options["out"]) / "model"
    if run.status != "done" or not model.is_dir():
        raise HTTPException(409, f"run {run.id} is {run.status}: it has no model to download.")
    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(model.rglob("*")):
            if path.is_file():
                bundle.write(path, Path("model") / path.relative_to(model))
    handle.close()
    return FileResponse(handle.name, media_type="application/zip", filename=f"advisor-model-{run.id}.zip",
                        background=BackgroundTask(Path(handle.name).unlink, missing_ok=True))


@api.post("/runs/{run_id}/predict")
async def run_predict(request: Request, run: Run = Depends(owned_run)) -> Response:
    """Multipart `file`: rows (or a .zip of images) to predict; a CSV back, as `advisor predict` writes."""
    if run.status != "done":
        raise HTTPException(409, f"run {run.id} is {run.status}: predictions need a finished run.")
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(400, "the multipart field 'file' is required: the rows to predict.")
    limit = service_of(request).config.max_upload_bytes
    try:
        text = await run_in_threadpool(_predict_csv, Path(run.options["out"]), upload, limit)
    except uploads.TooLarge as error:
        raise HTTPException(413, str(error)) from None
    except InputError as error:
        raise HTTPException(422, str(error)) from None
    finally:
        await upload.close()
    return Response(text, media_type="text/csv")


def _predict_csv(run_dir: Path, upload: UploadFile, limit: int) -> str:
    from advisor.predict import predict

    name = uploads.safe_name(upload.filename)
    with tempfile.TemporaryDirectory(prefix="advisor-predict-") as scratch:
        data = uploads.receive(upload.file, Path(scratch), name, limit)
        try:
            frame = predict(run_dir, data)
            if "file" in frame.columns:  # images: named inside the upload, not by this server's scratch path
                frame["file"] = [str(Path(path).relative_to(data)) if str(path).startswith(str(data)) else path
                                 for path in frame["file"]]
            return frame.to_csv(index=False)
        except InputError as error:
            raise InputError(str(error).replace(str(data), name)) from None


@api.post("/runs/{run_id}/cancel")
def cancel_run(request: Request, run: Run = Depends(owned_run)) -> dict[str, Any]:
    if run.status in TERMINAL:
        raise HTTPException(409, f"run {run.id} is already {run.status}.")
    service_of(request).runner.cancel(run.id)
    return {"id": run.id, "status": service_of(request).store.run(run.id).status}
