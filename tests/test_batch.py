"""Batch jobs on a real multi-node Ray cluster started on this machine: a head and a worker node as
separate processes with their own resource labels. Trials run on both; a killed worker node and a
killed driver do not lose the batch. Every process a test starts is stopped by it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from advisor.errors import InputError
from advisor.jobs import read_jobs

RAY = str(Path(sys.executable).with_name("ray"))
# `ray start` protects a cluster with a token (Ray 2.5x); drivers joining it by address must say so.
# The token is the one `ray start` keeps in ~/.ray/auth_token on this machine.
ENV = {**os.environ, "RAY_AUTH_MODE": "token"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_node(args: list[str], log: Path) -> subprocess.Popen:
    """`ray start ... --block` in its own process group, so killing the group kills that node only."""
    return subprocess.Popen([RAY, "start", "--block", "--disable-usage-stats", *args], stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True, env=ENV)


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _kill_cluster_processes(port: int) -> None:
    """SIGKILL the processes that name this cluster's GCS port (its raylets, GCS, workers, agents),
    leaving any other Ray on the machine (the tests' own local Ray) running."""
    marks = (f"127.0.0.1:{port}", f"gcs_server_port={port}", f"--port={port}")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(mark in command for mark in marks):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass
    current = Path("/tmp/ray/ray_current_cluster")  # what `ray stop` would clear: the address of the last head
    if current.is_file() and current.read_text().strip().endswith(f":{port}"):
        current.unlink(missing_ok=True)


# One process joins the cluster once and polls its node count (a fresh `python -c` per poll paid
# Python's and Ray's start each time: 9-21 s of every cluster's setup).
NODE_PROBE = """
import sys, time
import ray
address, count, deadline = sys.argv[1], int(sys.argv[2]), time.time() + float(sys.argv[3])
ray.init(address=address, logging_level="ERROR")
while sum(1 for n in ray.nodes() if n["Alive"]) != count and time.time() < deadline:
    time.sleep(0.2)
print(sum(1 for n in ray.nodes() if n["Alive"]))
"""


def _wait_for_port(port: int, deadline: float) -> None:
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


def _wait_for_nodes(address: str, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    _wait_for_port(int(address.rsplit(":", 1)[1]), deadline)  # the head's GCS answers
    while time.time() < deadline:
        done = subprocess.run([sys.executable, "-c", NODE_PROBE, address, str(count), str(deadline - time.time())],
                              capture_output=True, text=True, env=ENV)
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1)
    raise AssertionError(f"the cluster at {address} did not reach {count} node(s)")


@pytest.fixture()
def cluster(tmp_path):
    """A head (1 CPU, resource 'head') and a worker (1 CPU, resource 'worker') on this machine."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    head = _start_node(["--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--num-gpus=0",
                        '--resources={"head": 1}', "--include-dashboard=false"], tmp_path / "head.log")
    nodes = {"head": head}
    try:
        _wait_for_nodes(address, 1)
        nodes["worker"] = _start_node([f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1",
                                       "--num-gpus=0", '--resources={"worker": 1}'], tmp_path / "worker.log")
        _wait_for_nodes(address, 2)
        yield address, nodes
    finally:
        for process in nodes.values():
            _kill(process)
        _kill_cluster_processes(port)  # any stray process of this cluster (not `ray stop`: it stops every Ray here)


def _jobs_file(folder: Path, examples_dir: Path, budget: str = "120s", trials: int = 6) -> Path:
    jobs = {
        "defaults": {"budget": budget, "trials": trials},
        "jobs": [
            {"data": str(examples_dir / "wine.csv"), "name": "wine"},
            {"data": str(examples_dir / "iris.csv"), "name": "iris", "family": "boosting", "trials": 4},
            {"data": str(examples_dir / "diabetes.csv"), "name": "diabetes"},
        ],
    }
    path = folder / "jobs.yaml"
    import yaml

    path.write_text(yaml.safe_dump(jobs), encoding="utf-8")
    return path


def _batch(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "advisor", "batch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, **kwargs)


def _results(out: Path, names: list[str]) -> dict[str, dict]:
    return {name: json.loads((out / name / "result.json").read_text()) for name in names}


def test_jobs_file_is_validated_with_clear_errors(tmp_path, examples_dir):
    bad = {
        "jobs: [1, 2": "not valid YAML",
        "jobs: []": "non-empty 'jobs:' list",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    budgett: 5s": "unknown field(s) ['budgett']",
        "jobs:\n  - data: nowhere.csv": "does not exist",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    budget: soon": "not a duration",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    family: svm": "'family' must be one of",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n  - data: {examples_dir / 'wine.csv'}": "used twice",
        "!!python/object/apply:os.system ['echo hacked']": "not valid YAML",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    search: hyperband": "'search' must be one of random, bayes",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    tuner: optuna": "'tuner' must be one of ray, keras",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    race: maybe": "'race' must be true or false",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    patience: -1": "'patience' must be an integer of at least 0",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    task: predict": "'task' must be one of forecast, classif",
        f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    horizon: 0": "'horizon' must be an integer of at least 1",
    }
    for text, message in bad.items():
        path = tmp_path / "jobs.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
            read_jobs(path, tmp_path / "out", None)
    (tmp_path / "jobs.yaml").write_text(f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    budget: 2m\n"
                                        "    tuner: keras\n    search: hyperband\n    race: false\n    patience: 0\n",
                                        encoding="utf-8")
    [job] = read_jobs(tmp_path / "jobs.yaml", tmp_path / "out", "auto")
    assert job.name == "wine" and job.options.budget_s == 120 and job.options.address == "auto"
    assert job.options.tuner == "keras" and job.options.search == "hyperband"
    assert job.options.race is False and job.options.patience == 0
    (tmp_path / "jobs.yaml").write_text(f"jobs:\n  - data: {examples_dir / 'wine.csv'}\n    task: forecast\n"
                                        "    time: month\n    series: shop\n    horizon: 6\n", encoding="utf-8")
    [job] = read_jobs(tmp_path / "jobs.yaml", tmp_path / "out", None)
    assert (job.options.task, job.options.time, job.options.series, job.options.horizon) == ("forecast", "month",
                                                                                             "shop", 6)


@pytest.mark.slow
def test_recommend_joins_a_token_protected_cluster_without_ray_auth_mode_set(cluster, tmp_path, examples_dir):
    """`ray start` turns token authentication on and keeps the token in ~/.ray/auth_token: a user
    who runs `advisor recommend --address` without RAY_AUTH_MODE gets a tuned run on the cluster
    (the advisor finds the token where Ray does), not "internal failure: ConnectionError"."""
    address, _ = cluster
    assert (Path.home() / ".ray" / "auth_token").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    done = subprocess.run([sys.executable, "-m", "advisor", "recommend", str(examples_dir / "wine.csv"), "--address",
                           address, "--trials", "4", "--budget", "120s", "--no-race", "--out", str(tmp_path / "run"),
                           "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["tuned"] and result["best"]["test_score"] is not None
    resources = result["tuning"]["resources"]
    assert resources["address"] == address and resources["nodes"] == 2


@pytest.mark.slow
def test_the_service_runs_its_runs_on_the_cluster_at_address(cluster, tmp_path, examples_dir):
    """`advisor serve --address` (issue 20): uploads run on the token-protected cluster, not a local Ray."""
    from tests.service.conftest import Server, make_token, wait_for
    from tests.service.test_api import submit

    address, _ = cluster
    home = tmp_path / "home"
    token = make_token(home, "erin")
    env_before = os.environ.pop("RAY_AUTH_MODE", None)  # the server finds the token as Ray does
    try:
        server = Server(home, "--address", address).start()
    finally:
        if env_before is not None:
            os.environ["RAY_AUTH_MODE"] = env_before
    try:
        client = server.client(token)
        answer = submit(client, examples_dir / "wine.csv", family="linear", trials=4, budget="120s", race="false")
        assert answer.status_code == 201, answer.text
        run = wait_for(client, answer.json()["id"], timeout_s=300)
        assert run["status"] == "done", run
        resources = run["result"]["tuning"]["resources"]
        assert resources["address"] == address and resources["nodes"] == 2
    finally:
        server.stop()


@pytest.mark.slow
def test_a_batch_runs_on_both_nodes_and_writes_an_index(cluster, tmp_path, examples_dir):
    address, _ = cluster
    out = tmp_path / "batch"
    jobs = _jobs_file(tmp_path, examples_dir)
    (tmp_path / "header_only.csv").write_text("a,b,label\n", encoding="utf-8")  # a job bound to fail
    jobs.write_text(jobs.read_text() + "- data: header_only.csv\n", encoding="utf-8")
    done = _batch([str(jobs), "--address", address, "--out", str(out), "--json"])
    stdout, stderr = done.communicate(timeout=600)
    assert done.returncode == 1, stderr  # a job failed; the others went on
    batch = json.loads(stdout)
    assert batch["done"] == 3 and batch["failed"] == 1
    failed = batch["jobs"][3]
    assert failed["name"] == "header_only" and "no data rows" in failed["error"]
    results = _results(out, ["wine", "iris", "diabetes"])
    assert results["iris"]["family"] == "boosting" and results["iris"]["chosen_by"] == "override"
    wine = results["wine"]  # the rules' pick, or, where they were unsure, the winner of a race they ran on the cluster
    assert wine["family"] == (wine["race"]["winner"] if wine["chosen_by"] == "race" else "linear")
    assert "race" not in wine or "linear" in wine["race"]["families"]
    assert all(t["status"] != "failed" for r in results.values() for t in r["trials"])
    # Every trial the batch ran, the races' included: a job's search is one Ray Tune experiment whose
    # trial actor is reused, so a small job's search alone can sit on one node.
    ran = [t for r in results.values() for t in [*r["trials"], *(r.get("race") or {}).get("trials", [])]]
    nodes = {t["node_id"] for t in ran}
    assert len(nodes) == 2 and None not in nodes, "trials ran on the head and on the worker"
    assert all(r["tuning"]["resources"]["nodes"] == 2 for r in results.values())
    index = (out / "index.html").read_text()
    assert all(f'href="{name}/report.html"' in index for name in results) and "no data rows" in index


@pytest.mark.slow
def test_a_batch_survives_losing_its_worker_node(cluster, tmp_path, examples_dir):
    address, nodes = cluster
    out = tmp_path / "batch"
    running = _batch([str(_jobs_file(tmp_path, examples_dir, budget="90s", trials=12)), "--address", address,
                      "--out", str(out), "--json"])
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*/tuning/search-*/*/result.json")):
        time.sleep(0.5)  # until some trial has reported
    _kill(nodes["worker"])
    stdout, stderr = running.communicate(timeout=600)
    assert running.returncode == 0, stderr[-3000:]
    batch = json.loads(stdout)
    assert [j["status"] for j in batch["jobs"]] == ["done"] * 3, stderr
    assert all(r["tuned"] and r["best"]["test_score"] is not None for r in _results(out, ["wine", "iris", "diabetes"]).values())


@pytest.mark.slow
def test_a_killed_batch_driver_resumes_without_rerunning_finished_work(cluster, tmp_path, examples_dir):
    address, _ = cluster
    out = tmp_path / "batch"
    running = _batch([str(_jobs_file(tmp_path, examples_dir, trials=10)), "--address", address, "--out", str(out)],
                     start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and not list(out.glob("*/tuning/search.trials.json")):
        time.sleep(0.5)  # until some job finished its search (the random and fine stages, one Ray Tune experiment)
    os.killpg(running.pid, signal.SIGKILL)
    running.wait(timeout=30)
    finished_before = {p.parent.parent.name: json.loads(p.read_text()) for p in out.glob("*/tuning/search.trials.json")}
    assert finished_before, "the driver was killed after a search had finished"
    resumed = subprocess.run([sys.executable, "-m", "advisor", "resume", str(out), "--json"], capture_output=True,
                             text=True, timeout=600, env=ENV)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["done"] == 3
    results = _results(out, ["wine", "iris", "diabetes"])
    for name, trials in finished_before.items():
        kept = {t["trial_id"]: t["score"] for t in results[name]["trials"] if t["stage"] in ("random", "fine")}
        assert kept == {t["trial_id"]: t["score"] for t in trials}, "finished trials kept, none re-run"


def test_jobs_start_while_the_cluster_has_room_for_one_trial_of_each():
    """Admission: a job starts when every running job can still have a trial going (so none spends
    its budget queued); a job that needs more than the whole cluster starts at once and fails fast."""
    from advisor.batch import fits, one_trial, trial_share

    capacity = {"CPU": 2.0, "GPU": 1.0}
    cpu_job = {"options": {"cpus_per_trial": 1.0, "gpus_per_trial": 0.0}}
    gpu_job = {"options": {"cpus_per_trial": 1.0, "gpus_per_trial": 0.5}}
    keras_job = {"options": {"tuner": "keras", "cpus_per_trial": 1.0, "gpus_per_trial": 0.5}}
    assert one_trial(keras_job) == {"CPU": 1.0, "GPU": 0.0}  # KerasTuner trains in its task's CPU
    assert fits(one_trial(cpu_job), {"CPU": 1.0, "GPU": 0.0}, capacity)
    assert not fits(one_trial(cpu_job), {"CPU": 2.0, "GPU": 0.0}, capacity)
    assert not fits(one_trial(gpu_job), {"CPU": 1.0, "GPU": 0.75}, capacity)
    too_big = {"options": {"cpus_per_trial": 1.0, "gpus_per_trial": 2.0}}
    assert fits(one_trial(too_big), {"CPU": 2.0, "GPU": 1.0}, capacity)
    # Each job's trials at once: its share of the CPUs, at least one.
    assert trial_share(cpu_job, {"CPU": 16.0, "GPU": 1.0}, jobs=5) == 3
    assert trial_share(cpu_job, capacity, jobs=5) == 1
