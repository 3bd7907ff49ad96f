"""The tuning backends, by name: a new backend is a module with a BACKEND object (the protocol
below) and one entry here. Entries are import-light; the backend's module (Ray, Keras) loads
only when it runs."""

from __future__ import annotations

import dataclasses
import importlib
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from advisor.events import TrialStream
from advisor.types import Family
from tuners.records import TrialRecord
from tuners.settings import Found, TuneSettings


class Backend(Protocol):
    name: str

    def session(self, settings: TuneSettings) -> AbstractContextManager[dict[str, float]]:
        """Where the trials run, held for the whole search: yields {"CPU", "GPU", "nodes"}."""

    def run_points(self, name: str, points: list[dict], space, problem, family: Family, settings: TuneSettings,
                   storage: Path, budget_s: float, stream: TrialStream) -> list[TrialRecord]:
        """Fixed configurations, each through every fold, never stopped early by a scheduler."""

    def search(self, space, anchors: list[dict], problem, family: Family, settings: TuneSettings, storage: Path,
               budget_s: float, stream: TrialStream) -> Found:
        """The backend's own search stages within `budget_s`, each resumable from `storage`; the
        `anchors` first, through every fold, never stopped early."""

    def library(self, definition) -> str:
        """What trained the models, with versions."""

    def resources(self, settings: TuneSettings, cluster: dict[str, float]) -> dict[str, float | str]:
        """{"cpus_per_trial", "gpus_per_trial", "address"} as the trials really ran."""


@dataclasses.dataclass(frozen=True)
class BackendEntry:
    name: str  # --tuner NAME
    title: str  # in words, for messages and the report
    module: str  # holds BACKEND
    searches: tuple[str, ...]  # --search values it runs; the first is its default
    families: frozenset[Family] | None = None  # the families it tunes (None: all); others go to Ray Tune
    missing: str = ""  # what to do when the module cannot import
    in_process: bool = False  # trains its trials in the job's own process (a batch gives that process a CPU)
    environment: tuple[str, ...] = ()  # variables that shape its runs, kept in the command that reproduces one
    # "module:function" turning a family's entry into the one this backend trains (its own model
    # library); empty: the family's own entry.
    builds: str = ""

    @property
    def default_search(self) -> str:
        return self.searches[0]

    def tunes(self, family: Family) -> bool:
        return self.families is None or family in self.families


BACKENDS: dict[str, BackendEntry] = {entry.name: entry for entry in (
    BackendEntry("ray", "Ray Tune", "tuners.ray_search", ("random", "bayes")),
    BackendEntry("keras", "KerasTuner", "tuners.keras_search", ("hyperband", "random", "bayes"),
                 frozenset({Family.MLP, Family.CNN, Family.RNN}),
                 missing="Install tensorflow, or set KERAS_BACKEND=torch to run Keras on PyTorch.",
                 in_process=True, environment=("KERAS_BACKEND",), builds="tuners.families.keras_net:as_keras"),
)}
FALLBACK = "ray"  # tunes every family


def backend_for(family: Family, tuner: str) -> str:
    """The backend that tunes `family` when the user asks for `tuner`."""
    return tuner if BACKENDS[tuner].tunes(family) else FALLBACK


def search_for(backend: str, asked: str) -> str:
    """The search the backend runs for `asked`: a search it lacks (Hyperband, for a family that
    falls back to Ray Tune) becomes its default."""
    entry = BACKENDS[backend]
    return asked if asked in entry.searches else entry.default_search


def load(name: str) -> Backend:
    """The backend's BACKEND object; a clear line when its libraries cannot start here."""
    from advisor.errors import InputError

    entry = BACKENDS[name]
    try:
        return importlib.import_module(entry.module).BACKEND
    except ImportError as error:
        raise InputError(f"--tuner {name}: {entry.title} cannot start ({error}). {entry.missing}".strip()) from None
