"""The Ray Tune backend: the only module that imports Ray. Translates a Space, runs one search
stage as a Ray Tune experiment stored in the run folder, and collects its trials."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import ray
from ray import tune
from ray.tune.logger import JsonLoggerCallback
from ray.tune.schedulers import FIFOScheduler
from ray.tune.search.basic_variant import BasicVariantGenerator

from advisor.errors import InputError
from tuners import population_space
from tuners.convergence import Convergence
from tuners.ray_control import STAGE_KEY, CoarseToFine, ConvergedStopper, ProgressCallback, ProtectedASHA
from tuners.records import TrialRecord, error_text
from tuners.space import Choice, IntRange, LogUniform, OneMinusLogUniform, PowersOfTwo, Space, Uniform

ONE_MINUS = "one_minus_"
QUIET_LOGGERS = ("ray", "ray.tune", "ray.air", "ray.train", "ray.data")
DEADLINE_MARGIN_S = 2.0  # trials stop training this long before the stage's budget ends, to report in time


@dataclasses.dataclass(frozen=True)
class StageRequest:
    name: str  # also the experiment's folder name under the storage path
    space: Space
    points: tuple[dict[str, Any], ...]  # configurations to try first
    num_samples: int
    budget_s: float
    search: str  # "random" or "bayes"
    iterative: bool
    folds: int
    seed: int
    retries: int = 0  # times a trial that errors (its node died, say) is run again
    protected: int = 0  # the first this many trials (the points: the anchors) run every fold, never stopped early
    # The random and fine stages as one experiment (ray_control.CoarseToFine): it holds the spaces and
    # points (`space` and `points` are then unused), and each trial's stage is its configuration's.
    searcher: CoarseToFine | None = None

    @property
    def first_stage(self) -> str:
        return self.searcher.phases[0].name if self.searcher is not None else self.name


def to_ray(space: Space) -> dict[str, Any]:
    """Our vocabulary -> Ray Tune domains. Bounds are inclusive here, so randint's upper bound shifts."""
    converted = {}
    for name, param in space.params.items():
        d = param.domain
        if isinstance(d, LogUniform):
            converted[name] = tune.loguniform(d.low, d.high)
        elif isinstance(d, Uniform):
            converted[name] = tune.uniform(d.low, d.high)
        elif isinstance(d, OneMinusLogUniform):  # Ray samples 1 - beta on a log scale; decode() turns it back
            converted[ONE_MINUS + name] = tune.loguniform(1 - d.high, 1 - d.low)
        elif isinstance(d, IntRange):
            converted[name] = (tune.lograndint if d.log else tune.randint)(d.low, d.high + 1)
        elif isinstance(d, PowersOfTwo):
            converted[name] = tune.choice(list(d.options))
        elif isinstance(d, Choice):
            converted[name] = tune.choice(list(d.options))
        else:
            raise TypeError(f"no Ray translation for {type(d).__name__}")
    return converted


def encode(config: dict[str, Any], space: Space) -> dict[str, Any]:
    encoded = {}
    for name, value in config.items():  # a fixed value outside the space (XGBoost's tree count) passes as it is
        param = space.params.get(name)
        if param is not None and isinstance(param.domain, OneMinusLogUniform):
            encoded[ONE_MINUS + name] = 1 - value
        else:
            encoded[name] = value
    return encoded


def decode(ray_config: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for name, value in ray_config.items():
        if name == STAGE_KEY:
            continue
        if name.startswith(ONE_MINUS):
            decoded[name[len(ONE_MINUS):]] = 1 - value
        else:
            decoded[name] = value.item() if hasattr(value, "item") else value
    return decoded


@contextlib.contextmanager
def ray_session(address: str | None, quiet: bool = True):
    """Join the cluster at `address`, or start a local Ray for the run and shut it down after."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")  # experiment state saved often: resume loses little
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    # Each trial's result.json is kept (JsonLoggerCallback in _new_tuner); Ray's CSV and TensorBoard
    # files are not: nothing reads them, and the three together cost about 0.1 s a trial on 2 cores.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    if quiet:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=not quiet, logging_level=logging.ERROR)
        if address:
            _join(address, kwargs)
        else:
            # "local": always a new Ray for this run, even where a `ray start` cluster (or the file a
            # killed one left in /tmp/ray) is on this machine; joining one is what --address is for.
            ray.init(address="local", num_cpus=os.cpu_count(), **kwargs)
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()


def auth_token_source() -> str | None:
    """Where Ray would find a cluster token for this driver, as Ray looks for it: RAY_AUTH_TOKEN,
    the file RAY_AUTH_TOKEN_PATH names, or ~/.ray/auth_token (where `ray start` keeps it)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path and Path(path).is_file():
        return path
    default = Path.home() / ".ray" / "auth_token"
    return str(default) if default.is_file() else None


def _join(address: str, kwargs: dict[str, Any]) -> None:
    """Join the cluster at `address`. `ray start` protects a cluster with a token (Ray 2.5x): with a
    token at hand and no RAY_AUTH_MODE set, the driver joins in token mode, as the CLI does."""
    token = auth_token_source()
    if token and "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"  # this process's own driver setting
        _reload_ray_config()
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as error:
        found = f"a token was found in {token}" if token else "no token was found"
        raise InputError(
            f"--address {address}: the Ray cluster refused this driver or did not answer ({str(error).splitlines()[0]}); "
            f"{found}. If the cluster uses token authentication, set RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) to its "
            "token; check the address with 'ray status --address ADDRESS'.") from None


def _reload_ray_config() -> None:
    """Ray reads RAY_AUTH_MODE into its config when it is imported, before --address is known:
    read it again (what Ray's own tests do after changing the mode, ray._private.authentication_test_utils)."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:  # another Ray: it reads the environment at ray.init, or the refusal below says what to set
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def cluster_resources() -> dict[str, float]:
    return {k: float(v) for k, v in ray.cluster_resources().items() if k in ("CPU", "GPU")} | {
        "nodes": float(len([n for n in ray.nodes() if n.get("Alive")]))
    }


def run_stage(
    request: StageRequest,
    trainable: Callable,
    data: dict[str, Any],
    storage: Path,
    resources: dict[str, float],
    slots: int,
    stream=None,
    convergence: Convergence | None = None,
) -> list[TrialRecord]:
    """Run (or resume, when its experiment folder exists) one search stage; return its trials.
    With `convergence`, the stage ends once its search has converged (the caller reads it after)."""
    storage = storage.resolve()
    # Ray stages an experiment's trial folders under the session's artifacts by experiment name and
    # start second: concurrent runs (a batch's jobs, started together) naming theirs all "random"
    # would share, and sync, each other's trials. The name carries its run's folder, stably for a resume.
    experiment = storage / f"{request.name}-{hashlib.sha1(str(storage).encode()).hexdigest()[:8]}"
    # Ray Tune registers a trainable by name for the whole Ray job: concurrent runs (a batch's jobs)
    # must not share one. The name is derived from the experiment's folder, so a resume finds it again.
    trainable.__name__ = trainable.__qualname__ = "advisor_" + hashlib.sha1(str(experiment).encode()).hexdigest()[:16]
    # Trials stop training a little before the budget ends, so the last ones still report (evaluation.evaluate).
    data = {**data, "deadline": time.time() + request.budget_s - min(DEADLINE_MARGIN_S, 0.1 * request.budget_s)}
    # Data goes through Ray's object store once, not pickled into every trial.
    wrapped = tune.with_resources(tune.with_parameters(trainable, **data), resources)
    callbacks = [ProgressCallback(request.first_stage, stream, ends=time.time() + request.budget_s), JsonLoggerCallback()]
    # Ray Tune queues up to 200 trials of a random search ahead of time (to scale a cluster up fast),
    # each with its own folder, all written into the experiment state every second: on 2 cores that
    # was 5 s before the first trial ran and a slower loop after. No trial waits for more than the
    # slots the stage runs at once. Read when the stage's controller starts.
    os.environ["TUNE_MAX_PENDING_TRIALS_PG"] = str(max(1, slots))
    if _restorable(experiment):
        tuner = tune.Tuner.restore(str(experiment), trainable=wrapped, resume_unfinished=True, resume_errored=False)
        _reattach(tuner, stream, ends=time.time() + request.budget_s)
    else:
        tuner = _new_tuner(request, wrapped, experiment, slots, callbacks, convergence)
    grid = tuner.fit()
    return [member for result in grid for member in _members(_record(result, request.name), result.metrics or {})]


def _reattach(tuner: tune.Tuner, stream, ends: float) -> None:
    """A restored experiment's callbacks come back from its saved state without the run's stream
    (never stored): this run's is given to its progress callback, so a resumed search reports its
    trials (the service's run page and events follow them). Ray's Tuner.restore takes no callbacks."""
    for callback in tuner._local_tuner.get_run_config().callbacks or []:
        if isinstance(callback, ProgressCallback):
            callback.stream, callback.ends = stream, ends


def _searcher(request: StageRequest):
    """The request's own searcher (coarse to fine), random sampling (BasicVariantGenerator) or
    Optuna's TPE, the request's points first."""
    if request.searcher is not None:
        return request.searcher
    if request.search == "bayes":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # Optuna rejects fixed values outside a distribution (XGBoost's reg_alpha 0 on a log scale).
        points = [encode(request.space.clip(p), request.space) for p in request.points]
        return OptunaSearch(points_to_evaluate=points or None, seed=request.seed)
    points = [encode(p, request.space) for p in request.points]
    return BasicVariantGenerator(points_to_evaluate=points or None, random_state=request.seed)


def _new_tuner(request: StageRequest, wrapped, experiment: Path, slots: int, callbacks: list,
               convergence: Convergence | None = None) -> tune.Tuner:
    scheduler = (
        ProtectedASHA(request.protected, convergence, time_attr="training_iteration", max_t=max(1, request.folds),
                       grace_period=1, reduction_factor=3)
        if request.iterative and request.folds > 1
        else FIFOScheduler()
    )
    return tune.Tuner(
        wrapped,
        param_space={} if request.searcher is not None else to_ray(request.space),
        tune_config=tune.TuneConfig(
            metric="score", mode="max", search_alg=_searcher(request), scheduler=scheduler,
            num_samples=-1 if request.searcher is not None else request.num_samples, time_budget_s=max(1.0, request.budget_s),
            max_concurrent_trials=max(1, slots),  # no pile of queued trials when the budget ends
            reuse_actors=True,  # a new actor per trial costs about 1 s on 2 cores
        ),
        run_config=tune.RunConfig(
            name=experiment.name, storage_path=str(experiment.parent), verbose=0, callbacks=callbacks,
            stop=None if convergence is None else ConvergedStopper(convergence),
            failure_config=tune.FailureConfig(max_failures=request.retries),
        ),
    )


def scheduler_description(iterative: bool, folds: int) -> str:
    """In words, the scheduler run_stage picks for these settings."""
    if iterative and folds > 1:
        return (f"ASHA (asynchronous successive halving): a trial's rungs are its {folds} validation folds; after each "
                "fold the weaker two thirds stop (grace 1 fold, reduction factor 3)")
    return "FIFO: every trial runs to the end (early stopping happens inside each fit)"


def _restorable(experiment: Path) -> bool:
    """A stage stopped after Ray saved its first experiment state can be resumed. One stopped
    before that has no trial that could have finished: it starts again from nothing."""
    if not experiment.exists():
        return False
    if tune.Tuner.can_restore(str(experiment)) and any(experiment.glob("experiment_state-*.json")):
        return True
    shutil.rmtree(experiment)
    return False


def _members(record: TrialRecord | None, metrics: dict) -> list[TrialRecord]:
    """A population trial as one record per member (the searcher's and the report's unit); a plain
    trial as itself. A member's status is its own failure, else the trial's."""
    if record is None:
        return []
    configs = population_space.members(record.config)
    if configs is None:
        return [record]
    reported = {m["slot"]: m for m in metrics.get("members", [])}
    found = []
    for slot, config in enumerate(configs):
        member = reported.get(slot, {})
        error = member.get("error") or (record.error if record.status == "failed" else None)
        found.append(dataclasses.replace(
            record, trial_id=f"{record.trial_id}.{slot}", config=config, score=member.get("score"),
            status="failed" if error else record.status, error=error, folds_done=int(member.get("folds_done", 0)),
            score_sem=member.get("score_sem"), curve=member.get("curve"), curve_best=member.get("curve_best"),
            population=record.trial_id))
    return found


def _record(result, stage: str) -> TrialRecord | None:
    metrics = result.metrics or {}
    if result.config is None or (not metrics and result.error is None):
        return None  # queued but never started before the budget ran out
    error = error_text(result.error) if result.error is not None else None
    return _record_of(result.config, metrics, error, Path(str(result.path)).name, stage)


def trial_records(config: dict[str, Any], metrics: dict, stage: str) -> list[TrialRecord]:
    """The records of a trial that ended with `metrics` (its last result): a population's members
    one by one. What a searcher sees of a finished trial (ray_control.CoarseToFine)."""
    return _members(_record_of(config, metrics, None, str(metrics.get("trial_id")), stage), metrics)


def _record_of(config: dict, metrics: dict, error: str | None, name: str, stage: str) -> TrialRecord:
    score = metrics.get("score")
    if error is not None:
        status = "failed"
    else:
        status = "completed" if metrics.get("done_all_folds") else "stopped"
    return TrialRecord(
        trial_id=str(metrics.get("trial_id") or name),
        stage=config.get(STAGE_KEY, stage),
        config=decode(config),
        score=None if score is None or not math.isfinite(score) else float(score),
        status=status,
        error=error,
        node_id=metrics.get("node_id"),
        seconds=metrics.get("time_total_s"),
        folds_done=int(metrics.get("folds_done", 0)),
        score_sem=metrics.get("score_sem"),
        finished_at=metrics.get("timestamp"),
        curve=metrics.get("curve"),
        curve_best=metrics.get("curve_best"),
    )


def evaluate_in_trial(evaluate: Callable[..., None], threads: int) -> Callable:
    """A Ray function trainable around `evaluate(config, report, **data)`, with thread pools capped."""

    def trainable(ray_config: dict, **data: Any) -> None:
        import sys

        from threadpoolctl import threadpool_limits

        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        node = ray.get_runtime_context().get_node_id()
        started = time.perf_counter()

        def report(metrics: dict) -> None:
            tune.report({**metrics, "node_id": node, "trial_seconds": time.perf_counter() - started})

        with threadpool_limits(threads):
            evaluate(decode(ray_config), report, **data)

    return trainable


class Tasks:
    """Ray tasks for a batch's jobs (advisor/batch.py), so the batch itself never imports Ray: each
    task holds no CPU unless asked (a Tune driver inside a task), and is re-run on another node
    `retries` times if its node or worker dies."""

    def __init__(self, function: Callable, retries: int):
        self.remote = ray.remote(num_cpus=0, max_retries=retries)(function)

    @staticmethod
    def capacity() -> dict[str, float]:
        return {kind: float(ray.cluster_resources().get(kind, 0.0)) for kind in ("CPU", "GPU")}

    def submit(self, argument: Any, cpus: float | None = None):
        return (self.remote.options(num_cpus=cpus) if cpus else self.remote).remote(argument)

    @staticmethod
    def next_done(pending: list):
        done, _ = ray.wait(pending, num_returns=1)
        return done[0]

    @staticmethod
    def result(ref) -> Any:
        return ray.get(ref)

    @staticmethod
    def ready(pending: list) -> list:
        """Those of `pending` that have ended, without waiting."""
        return ray.wait(pending, num_returns=len(pending), timeout=0)[0] if pending else []

    @staticmethod
    def cancel(ref) -> None:
        """End a task now: its worker is killed, and with it the Tune trials it drove."""
        ray.cancel(ref, force=True)
