"""One contract over every family x backend (as Optuna's sampler suite and scikit-learn's
check_estimator do): configurations sampled from the declared space lie inside it, and each builds,
fits, exports, reloads and predicts exactly what the fitted model predicts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tuners.backends import BACKENDS, backend_for
from tuners.export import load_model, save_model
from tuners.families import FAMILIES, family_def

# A real data set for each kind of input and task a family trains on.
DATA = {("table", "classification"): "wine.csv", ("table", "regression"): "diabetes.csv",
        ("table", "clustering"): "iris_unlabelled.csv", ("image", "classification"): "digits.csv",
        ("sequence", "classification"): "sequences_long.csv"}
TASKS = {"kmeans": "clustering", "linear": "regression"}  # one task each is enough; linear also gets classification
PAIRS = [(family, backend) for family in FAMILIES for backend in BACKENDS if backend_for(family, backend) == backend]


@pytest.fixture(scope="module")
def problems(prepared):
    made = {}

    def problem(inputs: str, task: str):
        if (inputs, task) not in made:
            full = prepared(DATA[(inputs, task)], inputs=inputs)
            keep = np.arange(min(len(full.x_train), 240))  # small and quick: the contract, not the quality
            take = (lambda x: x.iloc[keep].reset_index(drop=True)) if hasattr(full.x_train, "iloc") else (lambda x: x[keep])
            made[(inputs, task)] = dataclasses.replace(
                full, x_train=take(full.x_train), y_train=None if full.y_train is None else full.y_train[keep])
        return made[(inputs, task)]

    return problem


def _quick(model):
    """Nets train two epochs here: the contract is about export, not training."""
    params = model[-1].get_params()
    return model.set_params(model__max_epochs=2) if "max_epochs" in params else model


@pytest.mark.parametrize("family, backend", [pytest.param(f, b, id=f"{f.value}-{b}",
                                                          marks=[pytest.mark.slow] if b == "keras" else [])
                                             for f, b in PAIRS])
def test_sampled_configurations_build_fit_export_reload_and_predict_alike(family, backend, problems, tmp_path):
    definition = family_def(family, backend)
    task = TASKS.get(family.value, "classification")
    problem = problems(definition.inputs, task)
    space = definition.space(problem)
    rng = np.random.default_rng(0)
    for index, config in enumerate([space.start] + [space.sample(rng) for _ in range(2)]):
        assert space.contains(config), config
        model = _quick(definition.build(config, problem)).fit(problem.x_train, problem.y_train)
        folder = tmp_path / f"model{index}"
        manifest = {"family": family.value, "format": definition.model_format, "task": problem.task.value,
                    "classes": list(problem.classes), "metric": problem.metric, "config": config,
                    "spec": {k: list(v) for k, v in dataclasses.asdict(problem.spec).items()}}
        save_model(model, manifest, folder)
        loaded = load_model(folder)
        np.testing.assert_allclose(np.asarray(loaded.predict(problem.x_test), dtype=float),
                                   np.asarray(model.predict(problem.x_test), dtype=float), rtol=1e-5, atol=1e-6)
