"""A batch's jobs file: YAML read with a safe loader and checked field by field, into one
RecommendOptions per job. Pure: no Ray, no runs.

    defaults:                  # optional, applied to every job
      budget: 60s
      cpus_per_trial: 1
    jobs:
      - data: wine.csv         # relative paths are relative to the jobs file
        name: wine             # optional: the job's run folder under --out (default: the file's stem)
        target: target
        family: linear
        budget: 30s
        trials: 20
        tuner: ray             # or keras (KerasTuner, for mlp, cnn and rnn)
        search: random         # ray: random or bayes; keras: hyperband (its default), random or bayes
        cpus_per_trial: 1
        gpus_per_trial: 0.5
        population: 64         # mlp/cnn/rnn under ray: configurations trained together per trial
        seed: 0
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.pipeline import ASKED_TASKS, SEARCHES, RecommendOptions
from advisor.types import Family

FIELDS = {"data", "name", "tune", "target", "family", "budget", "trials", "search", "tuner", "cpus_per_trial", "gpus_per_trial",
          "seed", "population", "race", "patience", "task", "time", "series", "horizon", "forecaster"}
FAMILY_WORDS = tuple(family.value for family in Family)
TASK_WORDS = tuple(word for word in ASKED_TASKS if word)
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    options: RecommendOptions


def parse_duration(text: Any) -> float:
    """'90s', '5m', '1h' or a number of seconds."""
    found = DURATION.match(str(text))
    if not found or float(found[1]) <= 0:
        raise ValueError(f"{text!r} is not a duration like 90s, 5m or 1h")
    return float(found[1]) * UNITS[found[2]]


def read_jobs(path: Path, out: Path, address: str | None) -> list[Job]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such jobs file. Check the path.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: unreadable ({error}).") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InputError(f"{path}: not valid YAML{line}. Fix the file (see the README's batch section).") from None
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list) or not document["jobs"]:
        raise InputError(f"{path}: expected a mapping with a non-empty 'jobs:' list (and optional 'defaults:').")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise InputError(f"{path}: 'defaults:' must be a mapping of job fields.")
    unknown_top = set(document) - {"jobs", "defaults"}
    if unknown_top:
        raise InputError(f"{path}: unknown top-level key(s) {sorted(unknown_top)}; only 'jobs' and 'defaults'.")
    jobs, names = [], set()
    for index, entry in enumerate(document["jobs"], start=1):
        if not isinstance(entry, dict):
            raise InputError(f"{path}: job {index} must be a mapping with at least 'data:'.")
        job = _job({**defaults, **entry}, index, path, out, address)
        if job.name in names:
            raise InputError(f"{path}: job {index}: the name {job.name!r} is used twice; give each job its own 'name:'.")
        names.add(job.name)
        jobs.append(job)
    return jobs


def _job(fields: dict[str, Any], index: int, path: Path, out: Path, address: str | None) -> Job:
    where = f"{path}: job {index}"
    unknown = set(fields) - FIELDS
    if unknown:
        raise InputError(f"{where}: unknown field(s) {sorted(unknown)}; known: {', '.join(sorted(FIELDS))}.")
    if not fields.get("data"):
        raise InputError(f"{where}: 'data:' is required (a CSV/Parquet/.npz file or an image folder).")
    data = Path(str(fields["data"]))
    data = data if data.is_absolute() else (path.parent / data)
    if not data.exists():
        raise InputError(f"{where}: data {data} does not exist.")
    name = str(fields.get("name") or data.name.split(".")[0] or f"job{index}")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", name) or name in (".", ".."):
        raise InputError(f"{where}: name {name!r} must be 1-80 letters, digits, '.', '_' or '-' (it names a folder).")
    try:
        options = job_options(fields, data.resolve(), out / name, address, f"advisor batch {path} (job {name})")
    except ValueError as error:
        raise InputError(f"{where}: {error}.") from None
    return Job(name, options)


def job_options(fields: dict[str, Any], data: Path, out: Path, address: str | None, command: str) -> RecommendOptions:
    """A job's fields (as YAML reads them: numbers, true/false, strings) as the run's options;
    ValueError names the field that is wrong. The batch's jobs and the service's uploads both."""
    return RecommendOptions(
        data=data,
        target=None if fields.get("target") is None else str(fields["target"]),
        family=None if fields.get("family") is None else Family(_choice(str(fields["family"]), "family", FAMILY_WORDS)),
        out=out,
        tune=_flag(fields.get("tune", True), "tune"),
        seed=_integer(fields.get("seed", 0), "seed", 0),
        budget_s=_duration(fields.get("budget", "60s"), "budget"),
        trials=None if fields.get("trials") is None else _integer(fields["trials"], "trials", 1),
        tuner=_choice(fields.get("tuner", "ray"), "tuner", tuple(SEARCHES)),
        search=None if fields.get("search") is None else _choice(fields["search"], "search",
                                                                 SEARCHES[fields.get("tuner", "ray")]),
        cpus_per_trial=_number(fields.get("cpus_per_trial", 1.0), "cpus_per_trial", positive=True),
        gpus_per_trial=_number(fields.get("gpus_per_trial", 0.0), "gpus_per_trial", positive=False),
        population=None if fields.get("population") is None else _integer(fields["population"], "population", 1),
        race=_flag(fields.get("race", True), "race"),
        patience=None if fields.get("patience") is None else _integer(fields["patience"], "patience", 0),
        task=None if fields.get("task") is None else _choice(fields["task"], "task", TASK_WORDS),
        time=None if fields.get("time") is None else str(fields["time"]),
        series=None if fields.get("series") is None else str(fields["series"]),
        horizon=None if fields.get("horizon") is None else _integer(fields["horizon"], "horizon", 1),
        forecaster=None if fields.get("forecaster") is None else str(fields["forecaster"]),
        address=address,
        command=command,
    )


def _duration(value: Any, field: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ValueError(f"'{field}': {error}") from None


def _integer(value: Any, field: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"'{field}' must be an integer of at least {least}, not {value!r}")
    return value


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{field}' must be true or false, not {value!r}")
    return value


def _number(value: Any, field: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0):
        raise ValueError(f"'{field}' must be a {'positive' if positive else 'non-negative'} number, not {value!r}")
    return float(value)


def _choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"'{field}' must be one of {', '.join(options)}, not {value!r}")
    return str(value)
