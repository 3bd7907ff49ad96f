"""The service's API over real HTTP against a real server process (issue 20): a table and an image
folder from upload to report, model and predictions; tokens and ownership; bad uploads; cancel."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.service.conftest import wait_for

pytestmark = pytest.mark.slow


def submit(client, path: Path, **fields):
    with path.open("rb") as handle:
        return client.post("/api/runs", files={"file": (path.name, handle)}, data={k: str(v) for k, v in fields.items()})


def test_a_table_runs_from_upload_to_events_report_model_and_predictions(server, examples_dir, tmp_path):
    alice = server.client(server.tokens["alice"])
    answer = submit(alice, examples_dir / "wine.csv", target="target", family="linear", budget="60s", trials=8)
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]
    assert answer.json()["status"] == "queued"

    with alice.stream("GET", f"/api/runs/{run_id}/events", timeout=300) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        names = [line.split(": ", 1)[1] for line in stream.iter_lines() if line.startswith("event: ")]
    assert names[0] == "RunStarted" and "TrialFinished" in names and names[-2:] == ["RunFinished", "end"]

    run = wait_for(alice, run_id)
    assert run["status"] == "done", run
    assert run["result"]["family"] == "linear" and run["result"]["best"]["metric"] == "accuracy"
    assert run["test_score"] == run["result"]["best"]["test_score"] > 0.8
    assert run["progress"]["trials_done"] == len(run["result"]["trials"]) >= 8

    replay = alice.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "1"}).text  # replayable, from a point
    assert "event: RunStarted" not in replay and "event: RunFinished" in replay

    report = alice.get(f"/api/runs/{run_id}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "linear" in report.text

    model = alice.get(f"/api/runs/{run_id}/model")
    assert model.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(model.content)).namelist()
    assert "model/manifest.json" in names and "model/model.skops" in names

    rows = pd.read_csv(examples_dir / "wine.csv").drop(columns="target").head(20)
    rows.to_csv(tmp_path / "new.csv", index=False)
    with (tmp_path / "new.csv").open("rb") as handle:
        predicted = alice.post(f"/api/runs/{run_id}/predict", files={"file": ("new.csv", handle)})
    assert predicted.status_code == 200, predicted.text
    table = pd.read_csv(io.StringIO(predicted.text))
    assert len(table) == 20 and "prediction" in table.columns

    listed = alice.get("/api/runs").json()
    assert listed["runs"][0]["id"] == run_id and listed["runs"][0]["status"] == "done"
    assert any(r["id"] == run_id for r in alice.get("/api/runs", params={"status": "done"}).json()["runs"])
    assert not any(r["id"] == run_id for r in alice.get("/api/runs", params={"status": "failed"}).json()["runs"])


def test_an_image_folder_uploaded_as_a_zip_runs_the_cnn(server, tmp_path):
    from examples.make_examples import digits_image_folder

    folder = digits_image_folder(tmp_path / "digits", limit=200)
    archive = shutil.make_archive(str(tmp_path / "digits"), "zip", root_dir=folder.parent, base_dir=folder.name)
    alice = server.client(server.tokens["alice"])
    answer = submit(alice, Path(archive), budget="60s", trials=2, family="cnn")
    assert answer.status_code == 201, answer.text
    run = wait_for(alice, answer.json()["id"], timeout_s=300)
    assert run["status"] == "done", run
    assert run["result"]["profile"]["modality"] == "image" and run["family"] == "cnn"
    assert alice.get(f"/api/runs/{run['id']}/report").status_code == 200
    model = zipfile.ZipFile(io.BytesIO(alice.get(f"/api/runs/{run['id']}/model").content)).namelist()
    assert "model/manifest.json" in model and "model/weights.npz" in model

    new = digits_image_folder(tmp_path / "new", limit=230)  # 30 digits the run never saw (it read the first 200)
    for path in [image for image in new.rglob("*.png") if int(image.stem) < 200]:
        path.unlink()
    images = shutil.make_archive(str(tmp_path / "new"), "zip", root_dir=new)
    with open(images, "rb") as handle:
        predicted = alice.post(f"/api/runs/{run['id']}/predict", files={"file": ("new.zip", handle)})
    assert predicted.status_code == 200, predicted.text
    table = pd.read_csv(io.StringIO(predicted.text))
    assert len(table) == 30 and "prediction" in table.columns
    assert not table["file"].str.startswith("/").any()  # named inside the upload, not by this server's paths
    truth = table["file"].str.split("/").str[-2].astype(int)
    assert (table["prediction"] == truth).mean() >= 0.6  # a 2-trial CNN on 200 digits: well above chance (0.1)


def test_every_call_needs_a_token_and_another_users_run_is_not_found(server, examples_dir):
    anonymous, wrong = server.client(None), server.client("adv_not-a-token")
    assert anonymous.get("/api/runs").status_code == 401
    assert wrong.get("/api/runs").status_code == 401
    assert "advisor token create" in anonymous.get("/api/runs").json()["detail"]
    assert submit(anonymous, examples_dir / "wine.csv").status_code == 401

    alice, bob = server.client(server.tokens["alice"]), server.client(server.tokens["bob"])
    run_id = submit(alice, examples_dir / "wine.csv", tune="false").json()["id"]
    for path in ("", "/events", "/report", "/model"):
        assert bob.get(f"/api/runs/{run_id}{path}").status_code == 404, path
    assert bob.post(f"/api/runs/{run_id}/cancel").status_code == 404
    assert all(r["id"] != run_id for r in bob.get("/api/runs").json()["runs"])
    assert wait_for(alice, run_id)["status"] == "done"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in members.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, fields, status, words", [
    ("escape.zip", _zip({"digits/0/a.png": b"x", "../../outside.png": b"x"}), {}, 422, "outside"),
    ("notazip.zip", b"PK\x03\x04 not really", {}, 422, "zip"),
    ("garbage.csv", bytes(range(256)) * 64, {}, 422, "binary"),
    ("empty.csv", b"", {}, 422, "empty"),
    ("wine.csv", None, {"target": "no_such_column"}, 422, "no_such_column"),
    ("wine.csv", None, {"budget": "soon"}, 422, "budget"),
    ("big.csv", b"a,b\n" + b"1,2\n" * 700_000, {}, 413, "limit"),
])
def test_a_bad_upload_is_refused_with_the_clis_line_and_nothing_is_kept(server, examples_dir, name, content, fields,
                                                                         status, words):
    alice = server.client(server.tokens["alice"])
    before = sorted((server.home / "runs").iterdir()) if (server.home / "runs").exists() else []
    listed = len(alice.get("/api/runs", params={"limit": 200}).json()["runs"])
    body = (examples_dir / "wine.csv").read_bytes() if content is None else content
    answer = alice.post("/api/runs", files={"file": (name, body)}, data=fields)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert words in detail.lower() and "\n" not in detail and str(server.home) not in detail
    assert (sorted((server.home / "runs").iterdir()) if (server.home / "runs").exists() else []) == before
    assert len(alice.get("/api/runs", params={"limit": 200}).json()["runs"]) == listed


def test_a_request_without_a_file_and_a_bad_filter_are_400(server):
    alice = server.client(server.tokens["alice"])
    assert alice.post("/api/runs", data={"target": "x"}).status_code == 400
    assert alice.get("/api/runs", params={"status": "sleeping"}).status_code == 400
    bad = alice.get("/api/runs", params={"limit": "many"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("limit: ") and "\n" not in bad.json()["detail"]


def test_cancel_ends_a_running_run_and_it_stays_cancelled(server, examples_dir):
    alice = server.client(server.tokens["alice"])
    run_id = submit(alice, examples_dir / "wine.csv", family="boosting", budget="300s").json()["id"]
    wait_for(alice, run_id, until=lambda run: run["progress"]["trials_done"] >= 1)
    answer = alice.post(f"/api/runs/{run_id}/cancel")
    assert answer.status_code == 200
    run = wait_for(alice, run_id, timeout_s=60)
    assert run["status"] == "cancelled" and run["result"] is None
    assert alice.post(f"/api/runs/{run_id}/cancel").status_code == 409
    assert alice.get(f"/api/runs/{run_id}/report").status_code == 409


def test_the_openapi_description_lists_the_routes(server):
    paths = server.client(None).get("/api/openapi.json").json()["paths"]
    for route in ("/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/events", "/api/runs/{run_id}/report",
                  "/api/runs/{run_id}/model", "/api/runs/{run_id}/predict", "/api/runs/{run_id}/cancel"):
        assert route in paths, route
