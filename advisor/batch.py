"""`advisor batch JOBS.yaml`: many runs at once on a Ray cluster.

Each job is one Ray task that runs the whole pipeline into its own run folder (OUT/NAME); its
Ray Tune trials are scheduled by the same cluster, so jobs share it within the resources each
trial asks for. The task itself holds no CPU (Ray's advice for a Tune driver inside a task).
Jobs start while the cluster can give each running job room for one trial, and each job runs at
most its share of the cluster's CPUs in trials at once; the other jobs wait for one to end. (A
job's budget runs from its start, and Ray Tune keeps a job's trial actors for its next trials:
without this, the jobs started last spent their whole budget queued and ended with no trial.)

What survives what:
- a trial's node dies: Ray Tune retries the trial (FailureConfig.max_failures on a cluster);
- a job's node dies: Ray re-runs the task elsewhere, which resumes the run from its folder
  (finished stages and trials are kept); the folders must be on storage every node sees;
- the batch's driver is killed: `advisor resume OUT` runs the jobs without a result.json again,
  each resuming from its folder; finished jobs are not touched.

OUT/batch-jobs.json holds the jobs (so resume needs nothing else); OUT/batch.json and
OUT/index.html are rewritten as jobs finish.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from advisor.errors import InputError, RunFailed
from advisor.jobs import Job
from advisor.pipeline import RUN_OPTIONS, RecommendOptions, recommend
from reports import write_index

JOBS_FILE = "batch-jobs.json"
RESULT_FILE = "batch.json"
JOB_RETRIES = 3  # re-runs of a job whose node or worker died (not of a job that failed on its own)

Progress = Callable[[str], None]


def run_job(options_json: dict[str, Any], on_event=None) -> dict[str, Any]:
    """One job, inside a Ray task: run (or resume, or just report) the run in its folder;
    `on_event` receives its typed events (the service writes them to the run's event log)."""
    options = RecommendOptions.from_json(options_json)
    run_dir = options.out
    started = time.time()
    try:
        if (run_dir / "result.json").exists():
            result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
        else:
            resume = (run_dir / RUN_OPTIONS).exists()
            result = recommend(options, on_event=on_event, resume=resume)
    except (InputError, RunFailed) as error:
        return _summary(options, status="failed", error=str(error), seconds=time.time() - started)
    except Exception as error:  # noqa: BLE001 - one job's bug must not sink the batch; it is reported
        return _summary(options, status="failed", error=f"internal error: {type(error).__name__}: {error}",
                        seconds=time.time() - started)
    return _summary(options, status="done", result=result, seconds=time.time() - started)


def _summary(options: RecommendOptions, status: str, result: dict | None = None, error: str | None = None,
             seconds: float = 0.0) -> dict[str, Any]:
    summary = {"name": options.out.name, "data": str(options.data), "run_dir": str(options.out), "status": status,
               "error": error, "family": None, "tuned": False, "metric": None, "test_score": None,
               "baseline_score": None, "trials": 0, "nodes": [], "seconds": round(seconds, 2)}
    if result is not None:
        summary.update(family=result["family"], tuned=result["tuned"])
        if result["tuned"]:
            summary.update(metric=result["best"]["metric"], test_score=result["best"]["test_score"],
                           baseline_score=result["baseline"]["test_score"], trials=len(result["trials"]),
                           nodes=sorted({t["node_id"] for t in result["trials"] if t.get("node_id")}))
    return summary


def start_batch(jobs: list[Job], out: Path) -> None:
    """Create OUT and record the jobs in it; refuses a folder that holds anything already."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out {out}: exists and is not an empty folder. Choose a new one, or "
                         f"'advisor resume {out}' to continue a stopped batch.")
    out.mkdir(parents=True, exist_ok=True)
    payload = [{"name": job.name, "options": job.options.to_json()} for job in jobs]
    (out / JOBS_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")


def stored_jobs(out: Path) -> list[dict[str, Any]]:
    try:
        return json.loads((out / JOBS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{out}: no {JOBS_FILE}: not a batch folder.") from None


def is_batch(folder: Path) -> bool:
    return (folder / JOBS_FILE).is_file()


def run_batch(out: Path, address: str | None, progress: Progress = lambda m: None) -> dict[str, Any]:
    """Run every job in OUT/batch-jobs.json that has no result yet, concurrently; return batch.json."""
    from tuners import cluster_session
    from tuners.ray_backend import Tasks

    entries = stored_jobs(out)
    summaries: dict[str, dict] = {}
    started = time.time()
    with cluster_session(address):
        tasks = Tasks(run_job, JOB_RETRIES)
        capacity = tasks.capacity()
        waiting, pending, in_use = list(entries), {}, {"CPU": 0.0, "GPU": 0.0}
        progress(f"batch: {len(entries)} job(s) for a Ray cluster of {capacity['CPU']:g} CPU(s), {capacity['GPU']:g} GPU(s)")
        _write(out, entries, summaries, started, address)
        while waiting or pending:
            while waiting and (not pending or fits(one_trial(waiting[0]), in_use, capacity)):
                entry = waiting.pop(0)
                ref = submit_job(tasks, entry, address, capacity, len(entries))
                pending[ref] = (entry["name"], one_trial(entry))
                in_use = {k: in_use[k] + pending[ref][1][k] for k in in_use}
                progress(f"batch: {entry['name']} started")
            done = tasks.next_done(list(pending))
            name, held = pending.pop(done)
            in_use = {k: in_use[k] - held[k] for k in in_use}
            try:
                summaries[name] = tasks.result(done)
            except Exception as error:  # noqa: BLE001 - the task died beyond its retries: report it, go on
                summaries[name] = {"name": name, "status": "failed", "error": f"{type(error).__name__}: {error}",
                                   "run_dir": str(out / name)}
            summary = summaries[name]
            score = "" if summary.get("test_score") is None else f", test {summary['metric']} {summary['test_score']:.4f}"
            progress(f"batch: {name} {summary['status']}{score} ({len(summaries)}/{len(entries)})")
            _write(out, entries, summaries, started, address)
    return _write(out, entries, summaries, started, address)


def submit_job(tasks, entry: dict[str, Any], address: str | None, capacity: dict[str, float], jobs: int,
               argument: Callable[[dict[str, Any]], Any] = lambda options: options):
    """Start one job's Ray task with its options as the job's admission sets them; `argument` makes
    the task function's argument from them (the batch's: the options; the service's adds where the
    run's events go)."""
    if in_process(entry):
        # KerasTuner trains inside the job's own task (on whichever node runs it), so that task
        # holds a CPU; a family it hands to Ray Tune uses the cluster the task is already on.
        return tasks.submit(argument(dict(entry["options"], address=None)), cpus=1)
    share = trial_share(entry, capacity, jobs)
    return tasks.submit(argument(dict(entry["options"], address=address, max_concurrent_trials=share)))


def one_trial(entry: dict[str, Any]) -> dict[str, float]:
    """What a job holds while it runs one trial at a time (a KerasTuner job: its task's CPU)."""
    options = entry["options"]
    if in_process(entry):
        return {"CPU": 1.0, "GPU": 0.0}
    return {"CPU": float(options.get("cpus_per_trial", 1.0)), "GPU": float(options.get("gpus_per_trial", 0.0))}


def in_process(entry: dict[str, Any]) -> bool:
    """Whether the job's backend trains in the job's own process (KerasTuner) rather than in Ray trials."""
    from tuners.backends import BACKENDS

    return BACKENDS[entry["options"].get("tuner", "ray")].in_process


def trial_share(entry: dict[str, Any], capacity: dict[str, float], jobs: int) -> int:
    """Trials a job may run at once: its share of the cluster's CPUs (at least one), so that one job's
    trials do not hold every CPU while the jobs beside it wait with their budgets running."""
    return max(1, int(capacity["CPU"] // max(one_trial(entry)["CPU"], 1e-9) // max(1, jobs)))


def fits(need: dict[str, float], in_use: dict[str, float], capacity: dict[str, float]) -> bool:
    """Room for one more job's trial. A job that needs more than the whole cluster starts at once:
    it fails fast with its own message (or an autoscaler adds the nodes)."""
    if any(need[k] > capacity[k] for k in need):
        return True
    return all(in_use[k] + need[k] <= capacity[k] + 1e-9 for k in need)


def _write(out: Path, entries: list[dict], summaries: dict[str, dict], started: float, address: str | None) -> dict:
    jobs = [summaries.get(e["name"], {"name": e["name"], "status": "running", "run_dir": str(out / e["name"]),
                                      "data": e["options"]["data"]}) for e in entries]
    batch = {"jobs": jobs, "done": sum(j["status"] == "done" for j in jobs),
             "failed": sum(j["status"] == "failed" for j in jobs), "running": sum(j["status"] == "running" for j in jobs),
             "address": address or "local", "wall_s": round(time.time() - started, 2)}
    partial = out / (RESULT_FILE + ".partial")
    partial.write_text(json.dumps(batch, indent=2), encoding="utf-8")
    os.replace(partial, out / RESULT_FILE)
    write_index(batch, out / "index.html")
    return batch

