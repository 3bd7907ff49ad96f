"""The browser pages: server-rendered Jinja (autoescaped: a run's data name or error is text, never
markup), one script of our own served from /static (no script from the network, and a CSP that
says so). The pages log in with a token and keep a session cookie (HttpOnly, SameSite=Strict);
they call the same functions as the API."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from advisor.service import app as api
from advisor.service import events_log
from advisor.service.store import SESSION_DAYS, STATUSES

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["when"] = lambda stamp: datetime.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")
    return environment


TEMPLATES = _environment()
pages = APIRouter(include_in_schema=False)


def _page(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(name).render(**{"user": None, "error": None, **values})
    return HTMLResponse(html, status_code=status_code, headers={
        "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store"})


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@pages.get("/login")
def login_page():
    return _page("login.html.j2")


@pages.post("/login")
async def login(request: Request):
    form = await request.form(max_files=0, max_fields=4)
    token = str(form.get("token") or "").strip()
    store = api.service_of(request).store
    user = store.user_of_token(token) if token else None
    if user is None:
        return _page("login.html.j2", status_code=401, error="That token is not valid (or was revoked).")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(api.SESSION_COOKIE, store.create_session(user), httponly=True, samesite="strict",
                        max_age=SESSION_DAYS * 86400, path="/", secure=request.url.scheme == "https")
    return response


@pages.post("/logout")
def logout(request: Request):
    cookie = request.cookies.get(api.SESSION_COOKIE)
    if cookie:
        api.service_of(request).store.end_session(cookie)
    response = _to_login()
    response.delete_cookie(api.SESSION_COOKIE, path="/")
    return response


@pages.get("/")
def runs_page(request: Request, status: str | None = None, cursor: str | None = None):
    user = api.request_user(request)
    if user is None:
        return _to_login()
    status = status if status in STATUSES else None
    found = api.service_of(request).store.list_runs(user, status=status, before=cursor, limit=api.PAGE_SIZE + 1)
    page = found[:api.PAGE_SIZE]
    return _page("runs.html.j2", user=user, runs=page, statuses=STATUSES, status=status,
                 next=page[-1].id if len(found) > api.PAGE_SIZE else None)


@pages.get("/runs/new")
def new_page(request: Request):
    user = api.request_user(request)
    return _to_login() if user is None else _new_form(request, user)


def _new_form(request: Request, user: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    from advisor.types import Family

    max_mb = api.service_of(request).config.max_upload_bytes / 2**20
    return _page("new.html.j2", status_code=status_code, user=user, error=error, max_mb=f"{max_mb:g}",
                 families=[f.value for f in Family])


@pages.post("/runs/new")
async def submit_page(request: Request):
    user = api.request_user(request)
    if user is None:
        return _to_login()
    try:
        run = await api.accept_submission(request, user)
    except HTTPException as error:
        return _new_form(request, user, error=str(error.detail), status_code=error.status_code)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


@pages.get("/runs/{run_id}")
def run_page(request: Request, run_id: str):
    user = api.request_user(request)
    if user is None:
        return _to_login()
    run = api.service_of(request).store.run(run_id, user=user)
    if run is None:
        return _page("base.html.j2", status_code=404, user=user, error=f"No run {run_id} of yours here.")
    progress = events_log.progress(api.service_of(request).runner.run_folder(run.id) / "events.jsonl")
    return _page("run.html.j2", user=user, run=run, progress=progress)


@pages.post("/runs/{run_id}/predict")
async def predict_page(request: Request, run_id: str) -> Response:
    user = api.request_user(request)
    if user is None:
        return _to_login()
    response = await api.run_predict(request, api.owned_run(run_id, request, user))
    response.headers["Content-Disposition"] = f'attachment; filename="predictions-{run_id}.csv"'
    return response


@pages.post("/runs/{run_id}/cancel")
def cancel_page(request: Request, run_id: str):
    user = api.request_user(request)
    if user is None:
        return _to_login()
    api.cancel_run(request, api.owned_run(run_id, request, user))
    return RedirectResponse(f"/runs/{run_id}", status_code=303)
