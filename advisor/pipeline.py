"""The one place that wires the stages: load -> profile -> rules -> (tune) -> report."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

from advisor import __version__
from advisor.errors import InputError
from advisor.loading import load
from advisor.profiling import profile as profile_dataset
from advisor.types import Family, to_jsonable
from reports import write_report
from rules import RULES, Decision, decide

DEFAULT_RUNS_FOLDER = "advisor-runs"


@dataclasses.dataclass(frozen=True)
class RecommendOptions:
    data: Path
    target: str | None = None
    family: Family | None = None
    tune: bool = True
    out: Path | None = None
    seed: int = 0
    command: str = ""


def recommend(options: RecommendOptions, progress: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Run the pipeline and write the run folder; return the result (the JSON contract)."""
    run_dir = prepare_run_dir(options.out, options.data)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    progress(f"loading {options.data}")
    dataset = load(options.data, options.target)
    timings["load_s"] = time.perf_counter() - started

    progress(f"profiling {len(dataset.frame):,} rows and probing linearity")
    started = time.perf_counter()
    profile = profile_dataset(dataset, seed=options.seed)
    timings["profile_s"] = time.perf_counter() - started

    started = time.perf_counter()
    decision = decide(profile, RULES, override=options.family)
    timings["rules_s"] = time.perf_counter() - started

    notes = list(profile.notes) + list(decision.notes)
    if options.tune:
        notes.append("tuning is not part of this version yet: the decision is reported untuned")
    result = build_result(profile, decision, run_dir, options, timings, notes)
    progress(f"writing {run_dir}")
    write_run(result, run_dir)
    return result


def build_result(profile, decision: Decision, run_dir: Path, options: RecommendOptions, timings, notes) -> dict[str, Any]:
    return {
        "family": decision.family.value,
        "chosen_by": decision.chosen_by,
        "ranking": [
            {"family": r.family.value, "score": r.score, "reasons": list(r.reasons)} for r in decision.ranking
        ],
        "excluded": [{"family": e.family.value, "reasons": list(e.reasons)} for e in decision.excluded],
        "profile": to_jsonable(profile),
        "trace": [
            {
                "rule": t.rule,
                "fired": t.fired,
                "reason": t.reason,
                "source": t.source,
                "effects": list(t.effects),
                "checks": [
                    {"fact": c.fact, "op": c.op.value, "expected": to_jsonable(c.expected), "actual": to_jsonable(c.actual), "passed": c.passed}
                    for c in t.checks
                ],
            }
            for t in decision.trace
        ],
        "tuned": False,
        "notes": notes,
        "run_dir": str(run_dir),
        "command": options.command,
        "seed": options.seed,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "advisor_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def prepare_run_dir(out: Path | None, data: Path) -> Path:
    """A fresh folder for the run. An existing non-empty folder is refused: a run never overwrites another."""
    if out is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name.split(".")[0] or "data")[:40]
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(DEFAULT_RUNS_FOLDER) / f"{stem}-{stamp}"
        n = 1
        while out.exists():
            n += 1
            out = Path(DEFAULT_RUNS_FOLDER) / f"{stem}-{stamp}-{n}"
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a file is there. Choose a folder path that does not exist yet.")
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out}: the folder is not empty. Choose a new folder; the advisor never overwrites a run.")
    if out.resolve() == data.resolve():
        raise InputError(f"--out {out}: that is the data itself. Choose another folder.")
    return out


def write_run(result: dict[str, Any], run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(run_dir / "result.json", json.dumps(result, indent=2, allow_nan=False))
        write_report(result, run_dir / "report.html")
    except OSError as error:
        raise InputError(f"{run_dir}: cannot write the run ({error.strerror or error}). Choose another --out.") from None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
