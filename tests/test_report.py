"""The report in a real browser: headless Chromium (Debian's package) driven by Playwright opens
reports of a tabular, an image and a sequence run and checks every section, no console errors, no
network requests, and that HTML in a user's data shows as text and never runs.

Screenshots go to $ADVISOR_SCREENSHOTS when set (that is how docs/ got them), else to a temp folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from examples.make_examples import digits_image_folder, sequences_long_csv

SECTIONS = ("summary", "data", "decision", "tuning", "model")
HOSTILE_COLUMN = '<script>alert("column")</script>'
HOSTILE_CATEGORY = "</td></tr><img src=x onerror=alert(1)>"
HOSTILE_LABEL = "<b onmouseover=alert(2)>bold</b>"


def _open(browser, report: Path, screenshot: str | None = None) -> dict:
    """Load the page; return what it did: console messages, requests, dialogs, and the page itself."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = {"console": [], "requests": [], "dialogs": [], "errors": []}
    page.on("console", lambda message: seen["console"].append((message.type, message.text)))
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.goto(report.resolve().as_uri())
    page.wait_for_load_state("load")
    page.mouse.move(400, 400)  # would trigger an injected onmouseover
    if screenshot:
        folder = Path(os.environ.get("ADVISOR_SCREENSHOTS") or report.parent)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / screenshot), full_page=True, type="jpeg", quality=70)
    seen["page"] = page
    return seen


def _check_clean(seen: dict, report: Path) -> None:
    assert seen["requests"] == [report.resolve().as_uri()], "the page must load nothing from anywhere"
    assert not [m for m in seen["console"] if m[0] in ("error", "warning")], seen["console"]
    assert not seen["errors"] and not seen["dialogs"]
    page = seen["page"]
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory):
    """Three finished runs through the real CLI, in this process (the session's Ray): tabular, image
    and sequence. Runs in a fresh process are the Keras, batch and resume tests'."""
    folder = tmp_path_factory.mktemp("report-runs")
    data = {
        "tabular": Path(__file__).resolve().parent.parent / "examples" / "wine.csv",
        "image": digits_image_folder(folder, limit=300),
        "sequence": sequences_long_csv(folder, series=60, lengths=(16, 30), name="chirps.csv"),
    }
    extra = {"tabular": ["--trials", "6", "--budget", "300s"], "image": ["--family", "cnn", "--trials", "2", "--budget", "45s"],
             "sequence": ["--family", "rnn", "--trials", "3", "--budget", "45s"]}
    out = {}
    for kind, path in data.items():
        out[kind] = folder / f"{kind}-run"
        done = cli("recommend", path, "--out", out[kind], *extra[kind])
        assert done.exit_code == 0, done.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tabular", "image", "sequence"])
def test_each_report_has_every_section_and_loads_nothing(kind, runs, browser):
    report = runs[kind] / "report.html"
    seen = _open(browser, report, screenshot=f"report-{kind}.jpg")
    _check_clean(seen, report)
    page = seen["page"]
    for section in SECTIONS:
        assert page.locator(f"section#{section}").is_visible(), section
    result = json.loads((runs[kind] / "result.json").read_text())
    summary = page.locator("section#summary").inner_text()
    assert result["family"] in summary and "Tuned configuration" in summary and "Reproduce" in summary
    assert page.locator("section#decision tr").count() >= len(result["trace"])  # every rule has a row
    assert ("race" in result) == (kind == "tabular")  # wine's rules are close (linear 40, boosting 30); --family is not
    if kind == "tabular":
        race = page.locator("#race")
        assert race.is_visible() and result["race"]["winner"] in page.locator("section#decision").inner_text()
    tuning = page.locator("section#tuning")
    assert tuning.locator("svg").count() >= 2  # scores over trials, and parameters or curves
    assert page.locator("section#model svg").count() == 1  # confusion matrix
    if kind in ("image", "sequence"):
        assert tuning.get_by_text("Learning curves of the best trials").is_visible()
    if kind == "sequence":
        duel = page.locator("#duel")
        assert duel.is_visible() and result["duel"]["winner"].upper() in tuning.inner_text()
    page.close()


@pytest.mark.slow
def test_html_in_column_names_and_values_shows_as_text_and_never_runs(tmp_path, browser, run_cli):
    rows = 60
    frame = pd.DataFrame({
        HOSTILE_COLUMN: [float(i % 7) for i in range(rows)],
        "size & <weight>": [float(i % 5) * 1.5 for i in range(rows)],
        "colour": [HOSTILE_CATEGORY if i % 3 else "plain" for i in range(rows)],
        "label": [HOSTILE_LABEL if i % 2 else "<i>other</i>" for i in range(rows)],
    })
    data = tmp_path / "<svg onload=alert(3)>.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    result = run_cli("recommend", data, "--trials", "2", "--out", out)
    assert result.exit_code == 0, result.stderr
    report = out / "report.html"
    seen = _open(browser, report)
    _check_clean(seen, report)
    text = seen["page"].locator("body").inner_text()
    for snippet in (HOSTILE_COLUMN, "size & <weight>", HOSTILE_LABEL, "<svg onload=alert(3)>.csv"):
        assert snippet in text, snippet
    assert seen["page"].locator("b").filter(has_text="bold").count() == 0  # the label's <b> is not an element
    seen["page"].close()


@pytest.mark.slow  # it reads the browser tests' runs; test_cli re-renders a fresh run in the fast suite
def test_advisor_report_rebuilds_the_same_page_from_result_json(runs, run_cli):
    run = runs["sequence"]
    original = (run / "report.html").read_bytes()
    (run / "report.html").unlink()
    result = run_cli("report", run)
    assert result.exit_code == 0, result.stderr
    assert (run / "report.html").read_bytes() == original
