"""The finish of a search, whichever backend ran it: the trial to keep (the defaults and the
seeds' start are kept unless a tuned trial beats the better of them by more than one standard
error), its refit on all training rows (a bag, and a blend with another family's model, where
checks on folds of their own find them better), one score on the test split beside the family's default
configuration, and the export."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advisor.errors import RunFailed
from advisor.features import describe
from advisor.types import Family
from tuners import blending
from tuners.bagging import check_reserve, choose_bag
from tuners.blending import Blend, BlendChoice, choose_blend
from tuners.data import Problem
from tuners.export import save_model
from tuners.families import family_def
from tuners.families.base import DivergedError, bounded
from tuners.metrics import report_metrics, test_details
from tuners.records import TrialRecord, beats_beyond_noise
from tuners.settings import TuneSettings


class TuningFailed(RunFailed):
    """No trial finished: nothing to recommend a configuration from."""


def _joined(a, b):
    """Training and test features together: frames stacked, or arrays concatenated."""
    return pd.concat([a, b], ignore_index=True) if isinstance(a, pd.DataFrame) else np.concatenate([a, b])


ANCHOR_WORDS = {"defaults": "the library's default configuration", "start": "the seeds' starting point"}


def best_trial(records: list[TrialRecord], anchors: dict[str, dict[str, Any]]) -> tuple[TrialRecord, str]:
    """The trial to refit, and why. The highest validation score wins only when it beats the better
    of the anchors (the library's defaults and the seeds' start, scored through every fold before
    the search) by more than one standard error, the larger of the two's; otherwise the search
    found nothing the folds can tell apart from that anchor, and it is kept (the one-standard-error
    rule, Hastie, Tibshirani and Friedman, The Elements of Statistical Learning, 7.10). So the tuned
    choice never scores below the defaults in validation."""
    done = [r for r in records if r.status == "completed" and r.score is not None]
    if not done:
        return _partly_scored(records, anchors)
    best = max(done, key=lambda r: r.score)
    anchor = _best_anchor(done, anchors)
    if anchor is None:
        return best, "the highest validation score"
    name, kept = anchor
    if kept is best or kept.score >= best.score:
        return kept, f"{ANCHOR_WORDS[name]} scored highest in validation ({kept.score:.4f}); no tuned trial beat it"
    # The larger of the two standard errors, as the race and the duel decide: the winner's own is
    # the likeliest to be small by luck (anes96's 0.0047 against the defaults' 0.0087).
    beats, margin, sem = beats_beyond_noise(_scored(best), _scored(kept))
    if not beats:
        return kept, (f"{ANCHOR_WORDS[name]} scored {kept.score:.4f}, within one standard error ({sem:.4f}) of the "
                      f"best trial's {best.score:.4f}: kept by the one-standard-error rule")
    one_split = best.score_sem is None and kept.score_sem is None
    noise = "(one validation split: no standard error)" if one_split else f"more than one standard error ({sem:.4f})"
    return best, (f"the highest validation score, {best.score:.4f}: {margin:.4f} above {ANCHOR_WORDS[name]} "
                  f"({kept.score:.4f}), {noise}")


def _scored(record: TrialRecord) -> dict[str, Any]:
    return {"score": record.score, "score_sem": record.score_sem}


def anchor_of(config: dict[str, Any], anchors: dict[str, dict[str, Any]]) -> str | None:
    """Which anchor ("defaults" or "start") `config` is, if any."""
    return next((name for name, anchor in anchors.items() if _same_config(config, anchor)), None)


def _best_anchor(done: list[TrialRecord], anchors: dict[str, dict[str, Any]]) -> tuple[str, TrialRecord] | None:
    found = [(name, r) for r in done for name in (anchor_of(r.config, anchors),) if name is not None]
    return max(found, key=lambda pair: pair[1].score, default=None)


def _partly_scored(records: list[TrialRecord], anchors: dict[str, dict[str, Any]]) -> tuple[TrialRecord, str]:
    partial = [r for r in records if r.status == "stopped" and r.score is not None and r.folds_done > 0]
    if partial:  # the budget cut every trial between folds: a score on some folds beats no answer
        best = max(partial, key=lambda r: r.score)
        return best, (f"no trial finished every fold within the budget: the best of the partly scored trials "
                      f"({best.folds_done} fold(s)); give a larger --budget for a firmer choice")
    errors = sorted({r.error for r in records if r.error})
    if errors or "defaults" not in anchors:
        reasons = "; ".join(errors[:2]) or "the budget ended before any trial finished"
        raise TuningFailed(f"tuning failed: no trial finished ({reasons}). Give a larger --budget or check the data.")
    # No trial failed: the budget ended before one scored a fold (a CNN at 30 s on a loaded machine,
    # bench/results/peers_30s_seed1.md's mnist5000). The library's defaults are a model, not a failure.
    unscored = TrialRecord("defaults", "finish", dict(anchors["defaults"]), None, "unscored", None, None, None, 0)
    return unscored, ("no trial scored a fold within the budget, so the library's default configuration was "
                      "refitted without validation; give a larger --budget for a searched choice")


def _same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal up to float round trips (Ray stores momentum as 1 - beta)."""
    if a.keys() != b.keys():
        return False
    return all(math.isclose(a[k], b[k], rel_tol=1e-9) if isinstance(b[k], float) and isinstance(a[k], (int, float))
               else a[k] == b[k] for k in b)


def _validated_anchor(records: list[TrialRecord], anchors: dict[str, dict[str, Any]], name: str) -> TrialRecord | None:
    """The trial that validated anchor `name` through every fold, if one did."""
    return next((r for r in records if r.status == "completed" and anchor_of(r.config, anchors) == name), None)


REFIT_TRIES = 3  # trials tried in turn when the chosen one's refit on all training rows diverges


def refit_best(problem: Problem, family: Family, records: list[TrialRecord], anchors: dict[str, dict[str, Any]],
               model_dir: Path, settings: TuneSettings) -> tuple[dict, TrialRecord, str]:
    """best_trial, refitted by `finish`: (what finish returns, the trial refitted, why it was chosen).
    A learning rate at the edge of stability can pass every fold and still diverge on all the
    training rows; then the next best trial is refitted instead (finished trials before partly
    scored ones), up to REFIT_TRIES, and the reason says so."""
    best, reason = best_trial(records, anchors)
    scored = [r for r in records if r is not best and r.score is not None and r.status in ("completed", "stopped")]
    ranked = [best] + sorted(scored, key=lambda r: (r.status == "completed", r.score), reverse=True)
    diverged: list[str] = []
    for candidate in ranked[:REFIT_TRIES]:
        try:
            finished = finish(problem, family, candidate.config, model_dir, settings, anchors.get("defaults"),
                              own_fits(candidate, records), own_fits(_validated_anchor(records, anchors, "defaults"),
                                                                      records))
        except DivergedError as error:
            diverged.append(f"trial {candidate.trial_id}: {error}")
            continue
        if diverged:
            reason = (f"the refit on all training rows diverged for {len(diverged)} better trial(s) ({diverged[0]}); "
                      f"the next best, validation score {candidate.score:.4f}, was refitted")
        return finished, candidate, reason
    raise TuningFailed(f"the refit on all training rows diverged for the {len(diverged)} best trials ({diverged[0]}). "
                       "Run again with another --seed or a larger --budget.")


def own_fits(record: TrialRecord | None, records: list[TrialRecord]) -> TrialRecord | None:
    """`record` with the seconds of its own fits, by which the finish prices its checks and refits:
    a population trial's seconds were spent on all of its members (8 linear models a Ray trial:
    sacramento's 1.44 s for 5 folds priced the blend check at 3 s where it took 0.4 s)."""
    if record is None or record.population is None or not record.seconds:
        return record
    return dataclasses.replace(record, seconds=record.seconds / population_sizes(records).get(record.population, 1))


def population_sizes(records: list[TrialRecord]) -> dict[str, int]:
    """How many configurations each population trial trained together (its members' records)."""
    sizes: dict[str, int] = {}
    for r in records:
        if r.population is not None:
            sizes[r.population] = sizes.get(r.population, 0) + 1
    return sizes


def finish(problem: Problem, family: Family, config: dict[str, Any], model_dir: Path, settings: TuneSettings,
           baseline_config: dict[str, Any] | None = None, chosen: TrialRecord | None = None,
           baseline_trial: TrialRecord | None = None) -> dict:
    """Refit `config` (trial `chosen`'s) on all training rows: a bag of FamilyDef.bag models where
    the family keeps one and the check on the search's folds does not find one model better
    (tuners/bagging.py), blended with the family's partner where the blend check finds the blend
    better (tuners/blending.py); score it once on the test split, beside the defaults as the library fits
    them (one model; refitted too, unless the kept model is one of the defaults, with as long as
    their validated fits took: `baseline_trial`); export it."""
    definition = family_def(family, settings.tuner)
    y_train = problem.y_train
    until = _check_until(settings, chosen, definition.bag)
    bag = choose_bag(definition, config, chosen, problem, settings.budget_s, until)
    blend = choose_blend(definition, config, chosen, problem, _partners(definition), settings.budget_s, until)
    fits = _KeptFits(definition, config, bag.members, blend, problem)
    single, model = fits.fit(problem.x_train, y_train, refit_deadline(settings, kept_seconds(chosen, problem, bag.members)),
                             settings)
    tested = report_metrics(problem.metric, model, problem.x_test, problem.y_test, problem.classes)
    baseline_config = baseline_config or definition.defaults(problem)
    baseline_tested = tested
    if bag.members or blend.partner or not _same_config(config, baseline_config):  # the defaults as the library fits them
        # cut at the 4.5 s floor, XGBoost's 100 default trees on 320,000 rows stopped early and scored
        # 0.69 on the test rows where they validated at 0.86: "tuned 0.87 vs 0.69" overstated the search
        baseline = _fit(definition, baseline_config, problem, problem.x_train, y_train,
                        refit_deadline(settings, validated_seconds(baseline_trial, problem, 0)))
        baseline_tested = report_metrics(problem.metric, baseline, problem.x_test, problem.y_test, problem.classes)
    manifest = {
        "family": family.value, "format": definition.model_format, "task": problem.task.value,
        "classes": list(problem.classes), "metric": problem.metric, "config": config,
        "spec": {k: list(v) for k, v in dataclasses.asdict(problem.spec).items()},
        "test_metrics": tested, "seed": settings.seed, "image": problem.image,
        "sequence": problem.sequence,
    }
    details = test_details(problem.metric, model, problem.x_test, problem.y_test, problem.classes, settings.seed)
    if settings.refit_all:  # for production: every labelled row, once the test score is taken
        single, model = fits.fit(_joined(problem.x_train, problem.x_test),
                                 None if y_train is None else np.concatenate([y_train, problem.y_test]),
                                 refit_deadline(settings), settings)
        manifest["refit_all_rows"] = len(problem.x_train) + len(problem.x_test)
    save_model(model, dict(manifest, format="blend") if blend.partner else manifest, model_dir)
    return {"test": tested, "baseline_config": baseline_config, "baseline_test": baseline_tested, "details": details,
            "kept": {**kept_model(definition, single, bool(settings.refit_all), bag.check, blend.check),
                     **({"inputs": describe(problem.spec)} if problem.spec.columns else {})}}


def _partners(definition) -> list:
    """The families the kept model may be blended with (FamilyDef.blend_with) that train on the same inputs."""
    return [p for p in map(family_def, definition.blend_with) if p.inputs == definition.inputs]


@dataclasses.dataclass(frozen=True)
class _KeptFits:
    """The kept model's refits: the chosen configuration (a bag of `members`, or one model), and
    where the blend check kept a blend, the partner's start beside it (one model)."""
    definition: Any
    config: dict[str, Any]
    members: int
    blend: BlendChoice
    problem: Problem

    def fit(self, x, y, until: float | None, settings: TuneSettings):
        """(the chosen configuration's model, the model kept: that one or the blend)."""
        single = _fit(self.definition, self.config, self.problem, x, y, until, self.members)
        if self.blend.partner is None:
            return single, single
        partner_def = family_def(self.blend.partner)
        partner = _fit(partner_def, self.blend.config, self.problem, x, y, refit_deadline(settings))
        manifests = [{"family": self.definition.family.value, "format": self.definition.model_format,
                      "config": self.config},
                     {"family": self.blend.partner.value, "format": partner_def.model_format, "config": self.blend.config}]
        return single, Blend([single, partner], [round(1 - self.blend.weight, 6), self.blend.weight],
                             bool(self.problem.classes), manifests)


def kept_model(definition, model, every_row: bool, check: dict[str, Any] | None = None,
               blend: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the exported model is: its number of members and how they were fitted (FamilyDef.bag),
    where the family keeps a bag, the check that chose it or one model (`bag_check`), and where it
    has a partner, the check that blended it with it or not (`blend`)."""
    members = len(getattr(model[-1], "members_", ())) or 1
    rows = "every labelled row (--refit-all)" if every_row else "all training rows"
    checked = ({} if check is None else {"bag_check": check}) | ({} if blend is None else {"blend": blend})
    why = "" if check is None else f" ({check['reason']})"
    if members == 1:
        how = f"the chosen configuration, refitted on {rows}{why}"
    else:
        how = (f"{members} models of the chosen configuration, bagged over {rows}: "
               + definition.bag_note.format(members=members) + why)
    if blend and blend["kept"] == "blend":
        how += (f"; blended with {blend['partner']}'s starting configuration (one model on the same rows) at "
                f"{blend['weight']:.0%} weight ({blend['reason']})")
    return {"members": members, "how": how, **checked}


def _check_until(settings: TuneSettings, chosen: TrialRecord | None, bag: int) -> float | None:
    """When the bag check must end: the run's end less the refits after it (the kept model, the
    defaults and, with --refit-all, the kept model again), at the chosen trial's seconds a fit."""
    if settings.finish_by is None or chosen is None or not chosen.seconds_per_fold:
        return settings.finish_by
    return settings.finish_by - chosen.seconds_per_fold * (bag + 2 + (bag if settings.refit_all else 0))


REFIT_FLOOR_SHARE, REFIT_FLOOR_MAX_S = 0.15, 15.0  # each refit's least time, of the search budget and at most
# The run may end this long after --budget (x 1.1 + 30 s); the kept model's refit may take a third of it.
OVERRUN_SHARE, OVERRUN_S, KEPT_SHARE_OF_OVERRUN = 0.1, 30.0, 1 / 3


def refit_deadline(settings: TuneSettings, validated_s: float | None = None) -> float | None:
    """When a refit starts its last epoch or round: the run's end, but never sooner than a floor from
    now. A search that overran its reserve left the refits no time, and XGBoost cut to its first
    round exported a model scoring 0.58 on a table it validated at 0.925 (bench/results/peers_30s.md,
    interactions); the floor (15% of the budget, at most 15 s a refit) stays within --budget's
    x 1.1 + 30 s. `validated_s`, for the kept model: what the chosen trial's fits took, scaled to the
    refit's rows; the floor rises to it (within a third of the overrun allowed), so the model kept
    trains as long as the one validated. On mnist5000 at 30 s, the CNN's one fold trained 6 epochs
    (0.9525 in validation) and its refit, cut at the 4.5 s floor, scored 0.905 on the test rows."""
    if settings.finish_by is None:
        return None
    floor = min(REFIT_FLOOR_MAX_S, REFIT_FLOOR_SHARE * settings.budget_s)
    if validated_s:
        overrun = OVERRUN_SHARE * settings.budget_s + OVERRUN_S
        floor = max(floor, min(validated_s, KEPT_SHARE_OF_OVERRUN * overrun))
    return max(settings.finish_by, time.time() + floor)


def validated_seconds(chosen: TrialRecord | None, problem: Problem, bag: int) -> float | None:
    """What the chosen trial's fits would take on the kept model's rows: its seconds per fold, times
    the training rows over a fold's (or the bag's members, each on about a fold's rows)."""
    if chosen is None or not chosen.seconds_per_fold:
        return None
    return chosen.seconds_per_fold * kept_fits(bag, len(problem.x_train), len(problem.splits[0][0]))


def kept_seconds(chosen: TrialRecord | None, problem: Problem, bag: int) -> float:
    """The kept model's refit time: as long as its validated fits took (validated_seconds), or, where no
    trial measured a fit (a net that finished no fold within a short budget), as long as the overrun
    allows (refit_deadline's cap): on mnist5000 at 20 s no CNN trial scored a fold and the defaults' refit,
    cut at the 3 s floor, scored 0.905 on the test rows; given the cap's 10.7 s, 0.96."""
    return validated_seconds(chosen, problem, bag) or math.inf


def kept_fits(bag: int, train_rows: int, fold_rows: int) -> float:
    """The kept model's cost in fits of a fold's rows: `bag` members of about a fold's rows each, or
    one model on every training row (the training rows over a fold's)."""
    return max(bag, train_rows / max(1, fold_rows))


def _fit(definition, config: dict[str, Any], problem: Problem, x, y, until: float | None, bag: int = 0):
    """Build and fit; a family that trains in epochs or rounds starts none after `until`
    (time.time(): the run's end, so the refits keep the run within its --budget). `bag`: the
    family's FamilyDef.bag for the model the run keeps, 0 for one model (the defaults' baseline)."""
    model = bounded(definition.build(config, problem), until)
    if bag:
        model.set_params(model__bag=bag)
    return model.fit(x, y)


RESERVE_SHARE = 0.1  # of the search budget, kept for the finish until a trial has measured a fit
RESERVE_MAX_SHARE = 0.5  # the search keeps at least half of its budget


def finish_cost(records: list[TrialRecord], problem: Problem, settings: TuneSettings, budget_s: float,
                bag: int = 0, blend: bool = False) -> float:
    """Seconds to keep for the finish, from the fits the trials measured (reserve_for)."""
    return reserve_for(records, len(problem.splits[0][0]), len(problem.x_train), len(problem.x_test),
                       settings.refit_all, budget_s, bag, len(problem.splits), blend)


def reserve_for(records: list[TrialRecord], fold_rows: int, train_rows: int, test_rows: int, refit_all: bool,
                budget_s: float, bag: int = 0, folds: int = 1, blend: bool = False) -> float:
    """Seconds to keep for the finish: a slow-ish fit of the trials' (the 75th percentile of the
    seconds per fold), times the fits to come in a fold's rows: the bag check on the `folds` folds
    where it will run (tuners/bagging.py), the blend check where the family has a partner
    (tuners/blending.py, priced at the trials' fits), the kept model (one fit on all training rows, or `bag`
    fits of about a fold's rows each, FamilyDef.bag), the library's defaults, and the kept model
    again on every row with --refit-all."""
    members = population_sizes(records)  # a population trial's seconds were spent on all of its members
    fits = sorted(r.seconds / r.folds_done / members.get(r.population, 1)
                  for r in records if r.status == "completed" and r.seconds and r.folds_done)
    if not fits:
        return RESERVE_SHARE * budget_s
    per_fit = fits[int(0.75 * (len(fits) - 1))]
    scale = train_rows / max(1, fold_rows)
    kept = kept_fits(bag, train_rows, fold_rows)
    everything = max(bag, (train_rows + test_rows) / max(1, fold_rows)) if refit_all else 0.0
    check = check_reserve(per_fit, folds, bag, budget_s) + blending.check_reserve(blend, per_fit, folds, budget_s)
    return min(RESERVE_MAX_SHARE * budget_s, per_fit * (kept + scale + everything) + check)
