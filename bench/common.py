"""What the benchmark scripts share: running the advisor in a fresh process, and the machine line."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run a command from the repo root (with `env` added to the environment); (wall seconds, stdout).
    Exits with its stderr if it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return elapsed, done.stdout


def run_advisor(*args: str, env: dict[str, str] | None = None) -> tuple[dict, float]:
    """`advisor ARGS --json` in a fresh process: (the result, wall seconds including start-up)."""
    wall, stdout = timed([sys.executable, "-m", "advisor", *args, "--json"], env)
    return json.loads(stdout), wall


def trial_counts(result: dict) -> str:
    """'N (completed/stopped/failed)' for a results table."""
    counts = [sum(1 for t in result["trials"] if t["status"] == s) for s in ("completed", "stopped", "failed")]
    return f"{len(result['trials'])} ({'/'.join(map(str, counts))})"


def machine_line(**versions: str) -> str:
    packages = ", ".join(f"{name} {version}" for name, version in versions.items())
    return (f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {packages}. "
            f"Date: {time.strftime('%Y-%m-%d')}.")


def write_results(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path}")
