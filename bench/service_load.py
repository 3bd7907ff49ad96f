"""Load on `advisor serve` (issue 20), loopback only, bounded in count and time.

    python bench/service_load.py [--runs 1000] [--clients 50] [--seconds 60] [--submissions 20]
                                 [--databases sqlite postgresql] [--ray-jobs 200] [--results bench/results]

For each database: a fresh home holding `--runs` finished runs (written through the server's own
store, each pointing at one real run folder made by a tuned `advisor recommend`), a real
`advisor serve` process, then
1. `--clients` concurrent clients for `--seconds`, each in a loop: list a page of runs (newest
   first, from a random cursor, one in four filtered by status) or read one run (its result.json
   included). Requests per second, p50/p99 latency, errors (any answer but 200 or a failed request).
2. `--submissions` uploads of wine.csv at once with tune=false, then every one followed to its end:
   the uploads' latency, the time until all are done, and lost runs (any not done, or any of the
   seeded and submitted runs missing from the listing afterwards).
The baseline is Ray's own Jobs API (`GET /api/jobs/` on a `ray start --head` dashboard, the
listing a Ray user polls) holding `--ray-jobs` finished jobs, read by the same clients for the same
time. Clients and server share this machine's cores, as they do on any one-box deployment; the
figures are ratios on the same machine, not capacity claims. PostgreSQL is Debian's package,
started by tests/service/postgres.py with fsync on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, write_results  # noqa: E402
from tests.service.conftest import Server, make_token  # noqa: E402

MAX_REQUESTS = 500_000  # a bound on one read phase, whatever the server's speed


def seed_runs(home: Path, db: str | None, count: int, run_dir: Path, user: str) -> list[str]:
    """`count` finished runs of `user`, as the server records them, all reading one real run folder."""
    from advisor.service.store import Store, database_url, runs

    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    store = Store(database_url(db, home))
    base = int(time.time() * 1000) - count * 1000
    rows = [dict(id=f"{base + i * 1000:013d}-{i:08x}", user=user, status="done", data_name="wine.csv",
                 options=json.dumps({"out": str(run_dir), "data": "wine.csv"}), created=base / 1000 + i,
                 started=base / 1000 + i, finished=base / 1000 + i + 5, family=result["family"],
                 metric=result["best"]["metric"], test_score=result["best"]["test_score"], attempts=1)
            for i in range(count)]
    with store.engine.begin() as connection:
        connection.execute(runs.insert(), rows)
    store.close()
    return [row["id"] for row in rows]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def read_load(url: str, headers: dict, clients: int, seconds: float, pick) -> dict:
    """`clients` loops of `pick(rng) -> (kind, path)` GETs for `seconds`: per kind, latencies and errors."""
    timings: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    ends = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as client:

        async def one(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < ends and sum(map(len, timings.values())) < MAX_REQUESTS:
                kind, path = pick(rng)
                started = time.perf_counter()
                try:
                    ok = (await client.get(path)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                timings.setdefault(kind, []).append(time.perf_counter() - started)
                errors[kind] = errors.get(kind, 0) + (not ok)

        began = time.monotonic()
        await asyncio.gather(*(one(seed) for seed in range(clients)))
        wall = time.monotonic() - began
    return {kind: {"requests": len(times), "rps": round(len(times) / wall, 1),
                   "p50_ms": round(1000 * percentile(times, 0.5), 1), "p99_ms": round(1000 * percentile(times, 0.99), 1),
                   "errors": errors.get(kind, 0)} for kind, times in sorted(timings.items())}


def advisor_reads(ids: list[str]):
    def pick(rng: random.Random) -> tuple[str, str]:
        if rng.random() < 0.5:
            cursor = "" if rng.random() < 0.3 else f"&cursor={rng.choice(ids)}"
            status = "&status=done" if rng.random() < 0.25 else ""
            return "list", f"/api/runs?limit=50{cursor}{status}"
        return "read", f"/api/runs/{rng.choice(ids)}"

    return pick


async def submit_all(server: Server, token: str, data: Path, count: int) -> dict:
    """`count` uploads at once, each followed to its end; how long it took and what was lost."""
    body = data.read_bytes()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as client:

        async def one() -> tuple[float, int, str | None]:
            started = time.perf_counter()
            answer = await client.post("/api/runs", files={"file": (data.name, body)},
                                       data={"target": "target", "tune": "false"})
            return time.perf_counter() - started, answer.status_code, answer.json().get("id")

        began = time.monotonic()
        answers = await asyncio.gather(*(one() for _ in range(count)))
        ids = [run_id for _, status, run_id in answers if status == 201]
        statuses = await _follow(client, ids, timeout_s=900)
        wall = time.monotonic() - began
    latencies = [latency for latency, _, _ in answers]
    return {"submitted": count, "accepted": len(ids), "upload_p50_ms": round(1000 * percentile(latencies, 0.5), 1),
            "upload_p99_ms": round(1000 * percentile(latencies, 0.99), 1), "all_done_s": round(wall, 1),
            "done": sum(1 for s in statuses.values() if s == "done"), "ids": ids}


async def _follow(client: httpx.AsyncClient, ids: list[str], timeout_s: float) -> dict[str, str]:
    statuses = {run_id: "queued" for run_id in ids}
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends and any(s in ("queued", "running") for s in statuses.values()):
        for run_id in [r for r, s in statuses.items() if s in ("queued", "running")]:
            statuses[run_id] = (await client.get(f"/api/runs/{run_id}")).json()["status"]
        await asyncio.sleep(1.0)
    return statuses


def listed_ids(server: Server, token: str) -> set[str]:
    """Every run the listing shows, page by page through the cursor."""
    found, cursor = set(), None
    with server.client(token) as client:
        while True:
            page = client.get("/api/runs", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
            found |= {run["id"] for run in page["runs"]}
            cursor = page["next"]
            if cursor is None:
                return found


def bench_database(name: str, db: str | None, run_dir: Path, data: Path, args) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"advisor-load-{name}-")) / "home"
    home.mkdir()
    token = make_token(home, "loadtest", db)
    ids = seed_runs(home, db, args.runs, run_dir, "loadtest")
    server = Server(home, "--queue-limit", str(args.submissions), db=db).start()
    try:
        print(f"{name}: {len(ids)} runs seeded; {args.clients} clients for {args.seconds:g} s", flush=True)
        reads = asyncio.run(read_load(server.url, {"Authorization": f"Bearer {token}"}, args.clients, args.seconds,
                                      advisor_reads(ids)))
        print(f"{name}: reads {reads}; {args.submissions} submissions", flush=True)
        submitted = asyncio.run(submit_all(server, token, data, args.submissions))
        listed = listed_ids(server, token)
        lost = len(set(ids) - listed) + len(set(submitted.pop("ids")) - listed) + submitted["submitted"] - submitted["done"]
        print(f"{name}: submissions {submitted}; lost {lost}", flush=True)
        return {"database": name, "reads": reads, "submissions": submitted, "listed": len(listed), "lost": lost}
    finally:
        server.stop()


def ray_jobs_baseline(jobs: int, args) -> dict:
    """Ray's Jobs API on a `ray start --head` with its dashboard on loopback, holding `jobs`
    finished jobs (`true` as the entry point), read as the advisor is: its listing and one job."""
    from tests.service.conftest import free_port

    ray = str(Path(sys.executable).parent / "ray")
    port, dashboard = free_port(), free_port()
    started = subprocess.run([ray, "start", "--head", f"--port={port}", "--include-dashboard=true",
                              "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}", "--node-ip-address=127.0.0.1",
                              "--num-cpus=2", "--disable-usage-stats"], capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        return {"error": f"ray start failed: {started.stderr.strip()[-300:]}"}
    try:
        token_path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
        token = os.environ.get("RAY_AUTH_TOKEN") or token_path.read_text().strip()
        headers, url = {"Authorization": f"Bearer {token}"}, f"http://127.0.0.1:{dashboard}"
        ids = _submit_ray_jobs(url, headers, jobs)
        print(f"ray jobs: {len(ids)} finished; {args.clients} clients for {args.seconds:g} s", flush=True)

        def pick(rng: random.Random) -> tuple[str, str]:
            return ("list", "/api/jobs/") if rng.random() < 0.5 else ("read", f"/api/jobs/{rng.choice(ids)}")

        reads = asyncio.run(read_load(url, headers, args.clients, args.seconds, pick))
        print(f"ray jobs: reads {reads}", flush=True)
        return {"jobs": len(ids), "reads": reads}
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)


def _submit_ray_jobs(url: str, headers: dict, count: int, batch: int = 25) -> list[str]:
    ids: list[str] = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        while len(ids) < count:
            wave = [client.post("/api/jobs/", json={"entrypoint": "true"}).json()["submission_id"]
                    for _ in range(min(batch, count - len(ids)))]
            ends = time.monotonic() + 300
            while time.monotonic() < ends:
                states = [client.get(f"/api/jobs/{job}").json()["status"] for job in wave]
                if all(state in ("SUCCEEDED", "FAILED", "STOPPED") for state in states):
                    break
                time.sleep(0.5)
            ids += wave
    return ids


def _table(rows: list[dict], baseline: dict) -> list[str]:
    lines = ["| server | database | request | requests | req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for kind, figures in row["reads"].items():
            lines.append(f"| advisor serve | {row['database']} | {kind} | {figures['requests']} | {figures['rps']} | "
                         f"{figures['p50_ms']} | {figures['p99_ms']} | {figures['errors']} |")
    for kind, figures in baseline.get("reads", {}).items():
        path = "GET /api/jobs/" if kind == "list" else "GET /api/jobs/ID"
        lines.append(f"| Ray Jobs API | (Ray's GCS) | {kind} ({path}) | {figures['requests']} | {figures['rps']} | "
                     f"{figures['p50_ms']} | {figures['p99_ms']} | {figures['errors']} |")
    lines += ["", "| database | submitted at once | accepted | upload p50 ms | upload p99 ms | all done (s) | runs listed after | lost |",
              "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        s = row["submissions"]
        lines.append(f"| {row['database']} | {s['submitted']} | {s['accepted']} | {s['upload_p50_ms']} | "
                     f"{s['upload_p99_ms']} | {s['all_done_s']} | {row['listed']} | {row['lost']} |")
    return lines


def _reading(rows: list[dict], baseline: dict) -> list[str]:
    ray = baseline.get("reads", {})
    lines = ["Clients and server share this machine's cores (the clients are one Python process), so the figures",
             "are ratios on one machine, not capacity. Ray's `GET /api/jobs/` has no pagination: every answer",
             f"carries all {baseline.get('jobs', '?')} jobs; the advisor's list answers one page of 50 and a cursor."]
    for row in rows:
        errors = sum(figures["errors"] for figures in row["reads"].values())
        ratios = ", ".join(f"{kind} {row['reads'][kind]['rps'] / ray[kind]['rps']:.1f}x the requests per second and "
                           f"{ray[kind]['p99_ms'] / row['reads'][kind]['p99_ms']:.1f}x lower p99"
                           for kind in row["reads"] if kind in ray and ray[kind]["rps"])
        lines.append(f"- {row['database']}: {errors} errors, {row['lost']} runs lost" + (f"; against Ray's Jobs API: {ratios}." if ratios else "."))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--databases", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--ray-jobs", type=int, default=1000, help="finished jobs in the Ray baseline (0: none)")
    parser.add_argument("--ray-baseline", type=Path, metavar="JSON",
                        help="take the Ray baseline from an earlier service.json of this machine instead of rerunning it")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from tests.service import postgres

    scratch = Path(tempfile.mkdtemp(prefix="advisor-load-"))
    data = ROOT / "examples" / "wine.csv"
    subprocess.run([sys.executable, "-m", "advisor", "recommend", str(data), "--family", "linear", "--trials", "20",
                    "--out", str(scratch / "run")], check=True, capture_output=True, timeout=600)
    rows = []
    for name in args.databases:
        pg = postgres.start(durable=True) if name == "postgresql" else None
        if isinstance(pg, str):
            raise SystemExit(f"postgresql: {pg}")
        try:
            rows.append(bench_database(name, pg.url if pg else None, scratch / "run", data, args))
        finally:
            if pg:
                pg.stop()
    if args.ray_baseline:
        recorded = json.loads(args.ray_baseline.read_text(encoding="utf-8"))
        baseline = {**recorded["ray_jobs"], "recorded": recorded.get("date", "an earlier run")}
    else:
        baseline = ray_jobs_baseline(args.ray_jobs, args) if args.ray_jobs else {}
    _write(rows, baseline, args)


def _write(rows: list[dict], baseline: dict, args) -> None:
    import fastapi
    import sqlalchemy
    import uvicorn

    payload = {"runs": args.runs, "clients": args.clients, "seconds": args.seconds, "rows": rows, "ray_jobs": baseline,
               "date": time.strftime("%Y-%m-%d %H:%M")}
    lines = [f"# advisor serve under load ({args.runs} finished runs, {args.clients} clients, {args.seconds:g} s)", "",
             f"`python bench/service_load.py --runs {args.runs} --clients {args.clients} --seconds {args.seconds:g} "
             f"--submissions {args.submissions} --ray-jobs {args.ray_jobs}`; "
             + machine_line(fastapi=fastapi.__version__, uvicorn=uvicorn.__version__, sqlalchemy=sqlalchemy.__version__),
             "", *_table(rows, baseline)]
    lines += ["", *_reading(rows, baseline)]
    if baseline.get("recorded"):
        lines += ["", f"The Ray Jobs rows were measured by this script on this machine at {baseline['recorded']} "
                      f"({baseline['jobs']} finished jobs) and read back with --ray-baseline."]
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "service.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    write_results(args.results / "service.md", lines)


if __name__ == "__main__":
    main()
