"""The service's pages in a real browser (Playwright driving Debian's chromium) against a real
server: log in with a token, upload a CSV, watch the progress move, open the report; no console
errors, no request beyond the server; text from the user shown as text.

Screenshots go to $ADVISOR_SCREENSHOTS when set (that is how docs/ got them), else to a temp folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.service.conftest import Server, make_token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("pages") / "home"
    home.mkdir()
    token = make_token(home, "carol")
    running = Server(home).start()
    running.token = token
    yield running
    running.stop()


def _watched(browser, site, shots: Path):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    seen = {"console": [], "requests": [], "dialogs": [], "errors": [], "failed": []}
    page.on("response", lambda response: response.status >= 400 and seen["failed"].append((response.status, response.url)))
    page.on("console", lambda message: seen["console"].append((message.type, message.text)))
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.shoot = lambda name: page.screenshot(path=str(shots / name), full_page=True, type="jpeg", quality=70)
    return page, seen


def _log_in(page, site, seen) -> None:
    page.goto(site.url + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=token]", "adv_wrong")
    page.click("main button[type=submit]")
    assert "not valid" in page.text_content(".error")
    assert seen["failed"] == [(401, site.url + "/login")]  # a wrong token is refused as such
    for kind in seen:
        seen[kind].clear()
    page.fill("input[name=token]", site.token)
    page.click("main button[type=submit]")
    page.wait_for_url(site.url + "/")


@pytest.fixture()
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("ADVISOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_log_in_upload_watch_the_progress_move_and_open_the_report(browser, site, examples_dir, shots):
    page, seen = _watched(browser, site, shots)
    _log_in(page, site, seen)
    cookie = next(c for c in page.context.cookies() if c["name"] == "advisor_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.click("text=New run")
    page.set_input_files("input[name=file]", str(examples_dir / "wine.csv"))
    page.fill("input[name=target]", "target")
    page.select_option("select[name=family]", "boosting")
    page.fill("input[name=budget]", "40s")
    page.shoot("service-new.jpg")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.url}/runs/*")

    counts = []
    ends = time.monotonic() + 240
    while time.monotonic() < ends and page.text_content("#status") not in ("done", "failed", "cancelled"):
        counts.append(int(page.text_content("#trials") or 0))
        if len(set(counts)) == 2:
            page.shoot("service-run-running.jpg")
        time.sleep(0.4)
    assert page.text_content("#status") == "done", page.text_content("#error")
    counts.append(int(page.text_content("#trials")))
    assert len(set(counts)) >= 3 and counts == sorted(counts), counts  # the page moved on its own, never back
    assert "accuracy" in page.text_content("#score")
    page.shoot("service-run.jpg")

    page.click("#report")
    page.wait_for_load_state("load")
    assert page.locator("#summary").count() == 1 and "boosting" in page.text_content("#summary")
    page.goto(site.url + "/")
    assert page.locator("#runs tbody tr").count() == 1 and "done" in page.text_content("#runs")
    page.shoot("service-runs.jpg")

    assert not seen["failed"], seen["failed"]
    assert not [m for m in seen["console"] if m[0] in ("error", "warning")], seen["console"]
    assert not seen["errors"] and not seen["dialogs"]
    assert all(url.startswith(site.url + "/") for url in seen["requests"]), seen["requests"]


def test_an_error_naming_the_users_text_shows_it_as_text(browser, site, examples_dir, shots):
    page, seen = _watched(browser, site, shots)
    _log_in(page, site, seen)
    hostile = '<img src=x onerror=alert("target")>'
    page.goto(site.url + "/runs/new")
    page.set_input_files("input[name=file]", str(examples_dir / "wine.csv"))
    page.fill("input[name=target]", hostile)
    page.click("main button[type=submit]")
    page.wait_for_selector("#error")
    assert hostile in page.text_content("#error")  # shown as the characters it is
    assert page.locator("main img").count() == 0 and not seen["dialogs"]
    missing = page.goto(site.url + "/runs/%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert missing.status == 404 and "<img src=x onerror=alert(1)>" in page.text_content("main .error")
    assert page.locator("main img").count() == 0 and not seen["dialogs"]
