"""Population training (tuners/families/population.py): a configuration of any neural family
trained among others ends where it ends trained alone, the exported network computes what training
validated, and a plain fit is what torch.optim would give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.preprocessing import StandardScaler

from tuners.families.base import INNER_VALIDATION
from tuners.families.torch_net import TorchNet, build_mlp, fit_population

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ARCHITECTURE = dict(batch_size=32, layers=2, units=16, activation="relu")
# Members differ in what population.MEMBER_KEYS lists; each population shares the rest.
MEMBERS = [
    dict(learning_rate=0.01, momentum=0.9, dropout=0.0, l1=1e-8, l2=1e-8),
    dict(learning_rate=0.003, momentum=0.99, dropout=0.3, l1=1e-5, l2=1e-8),
    dict(learning_rate=0.05, momentum=0.9, dropout=0.1, l1=1e-8, l2=1e-3),
    dict(learning_rate=0.001, momentum=0.95, dropout=0.5, l1=1e-4, l2=1e-4),
]


def _data(task: str):
    x, y = (load_breast_cancer if task == "classification" else load_diabetes)(return_X_y=True)
    return StandardScaler().fit_transform(x).astype(np.float32), y


def _state(net: TorchNet) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().astype(np.float64) for k, v in net.network_.state_dict().items()}


def _assert_members_end_as_alone(configs: list[dict], x, y, classes: int, architecture: str, max_epochs: int):
    population = [TorchNet(c, classes=classes, seed=3, max_epochs=max_epochs, architecture=architecture) for c in configs]
    fit_population(population, *population[0]._prepare(x, y))
    for config, member in zip(configs, population):
        alone = TorchNet(config, classes=classes, seed=3, max_epochs=max_epochs, architecture=architecture).fit(x, y)
        assert member.error_ is None
        assert member.stopped_epoch_ == alone.stopped_epoch_
        np.testing.assert_allclose(np.array(member.history_), np.array(alone.history_), rtol=1e-5, atol=1e-7)
        # The best epoch is the same, up to a tie in float round-off between two epochs' validation losses.
        best_loss = lambda net: net.history_[net.best_epoch_ - 1][2]  # noqa: E731
        assert member.best_epoch_ == alone.best_epoch_ or np.isclose(best_loss(member), best_loss(alone), rtol=1e-5)
        for name, weights in _state(alone).items():
            np.testing.assert_allclose(_state(member)[name], weights, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(member.predict(x), alone.predict(x), rtol=1e-5, atol=1e-5)
        _assert_exported_network_scores_as_validated(member, x, y)
    # The members really trained differently: the test is not passing on four copies of one model.
    finals = {round(m.history_[m.best_epoch_ - 1][2], 6) for m in population}
    assert len(finals) == len(configs)


def _assert_exported_network_scores_as_validated(net: TorchNet, x, y):
    """The exported module (what `advisor predict` runs) gives the validation loss that training
    recorded for the kept epoch: the functional forward and the module compute the same network."""
    valid = np.random.default_rng(net.seed).permutation(len(x))[:int(len(x) * INNER_VALIDATION)]
    with torch.no_grad():
        outputs = net._forward(x[valid])
    if net.classes:
        loss = torch.nn.functional.cross_entropy(outputs, torch.as_tensor(y[valid]))
    else:
        loss = torch.nn.functional.mse_loss(outputs[:, 0], torch.as_tensor((y[valid] - net.y_mean_) / net.y_std_, dtype=torch.float32))
    assert float(loss) == pytest.approx(net.history_[net.best_epoch_ - 1][2], rel=1e-4)


@pytest.mark.parametrize("task, optimizer, lr_decay, batch_norm", [
    ("classification", "sgd", "linear", True),
    ("classification", "adam", "exponential", False),
    ("regression", "adagrad", "none", True),
])
def test_a_member_trained_in_a_population_ends_as_it_would_alone(task, optimizer, lr_decay, batch_norm):
    x, y = _data(task)
    configs = [dict(ARCHITECTURE, **m, optimizer=optimizer, lr_decay=lr_decay, batch_norm=batch_norm) for m in MEMBERS]
    _assert_members_end_as_alone(configs, x, y, 2 if task == "classification" else 0, "mlp", max_epochs=40)


# The CNN and RNN spaces have no L1 term; their members differ in the other member keys.
DEEP_MEMBERS = [{k: v for k, v in m.items() if k != "l1"} for m in MEMBERS]


def test_a_cnn_member_ends_as_it_would_alone():
    """Convolutions, 2-d batch norm, pooling, head dropout and shift augmentation, on digits images."""
    digits = load_digits()
    x, y = (digits.images[:600, None] / 16.0).astype(np.float32), digits.target[:600]
    architecture = dict(blocks=2, filters=8, kernel=3, units=32, activation="relu", batch_norm=True, augment="shift",
                        batch_size=32, optimizer="sgd", lr_decay="none")
    # Four epochs: a batched convolution sums in another order than a single one (a 1e-7 difference), and
    # SGD at learning rate 0.05 with momentum 0.9 grows it past 1e-5 by the fifth epoch (3% by the sixth
    # in one CI run), so later epochs would test float chaos, not the population's bookkeeping.
    _assert_members_end_as_alone([dict(architecture, **m) for m in DEEP_MEMBERS], x, y, 10, "cnn", max_epochs=4)


@pytest.mark.parametrize("cell, layers, bidirectional, optimizer", [("lstm", 2, True, "adam"), ("gru", 1, False, "sgd")])
def test_an_rnn_member_ends_as_it_would_alone(cell, layers, bidirectional, optimizer):
    """Stacked (with dropout between layers) and bidirectional cells over series of unequal lengths
    (JapaneseVowels: 7 to 29 steps of 12 channels)."""
    problem = _sequence_problem(EXAMPLES / "japanesevowels.csv.gz")
    x, y = problem.x_train[:160], problem.y_train[:160]
    assert len(set((x[..., -1] > 0).sum(1))) > 5  # unequal lengths: padding and masking are exercised
    architecture = dict(cell=cell, layers=layers, units=16, bidirectional=bidirectional, batch_size=32,
                        optimizer=optimizer, lr_decay="none")
    configs = [dict(architecture, **m) for m in DEEP_MEMBERS]
    _assert_members_end_as_alone(configs, x, y, len(problem.classes), "rnn", max_epochs=6)


def _sequence_problem(path, inputs: str = "sequence"):
    from advisor.loading import load, training_arrays
    from advisor.profiling import profile
    from tuners.data import prepare

    dataset = load(path)
    found = profile(dataset)
    images = training_arrays(dataset.frame, found.format, found.image_shape)
    return prepare(dataset.frame, found, seed=0, inputs=inputs, images=images)


def test_a_diverging_member_fails_alone_and_the_others_are_untouched():
    x, y = _data("regression")
    shared = dict(batch_size=8, layers=3, units=256, activation="relu", optimizer="sgd", lr_decay="none",
                  batch_norm=False, dropout=0.0, l1=1e-8, l2=1e-8)
    good, diverging = dict(shared, learning_rate=1e-3, momentum=0.9), dict(shared, learning_rate=1.0, momentum=0.999)
    population = [TorchNet(c, seed=0, max_epochs=15) for c in (diverging, good)]
    fit_population(population, *population[0]._prepare(x, y))
    assert "loss became" in population[0].error_
    alone = TorchNet(good, seed=0, max_epochs=15).fit(x, y)
    assert population[1].error_ is None and population[1].stopped_epoch_ == alone.stopped_epoch_
    np.testing.assert_allclose(population[1].predict(x), alone.predict(x), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad"])
def test_a_plain_fit_takes_the_steps_torch_optim_takes(optimizer):
    """The population's vectorised optimisers against torch.optim's, on the same batches."""
    x, y = _data("classification")
    config = dict(ARCHITECTURE, **MEMBERS[0], optimizer=optimizer, lr_decay="none", batch_norm=False)
    epochs, seed = 5, 1
    ours = TorchNet(config, classes=2, seed=seed, max_epochs=epochs, patience=epochs).fit(x, y)

    torch.manual_seed(seed)
    network = build_mlp((x.shape[1],), 2, config)
    step = {"sgd": lambda p: torch.optim.SGD(p, lr=config["learning_rate"], momentum=config["momentum"]),
            "adam": lambda p: torch.optim.Adam(p, lr=config["learning_rate"]),
            "adagrad": lambda p: torch.optim.Adagrad(p, lr=config["learning_rate"])}[optimizer](network.parameters())
    order = np.random.default_rng(seed).permutation(len(x))
    train = torch.as_tensor(order[int(len(x) * INNER_VALIDATION):])  # the same inner split and batch order
    shuffles = torch.Generator().manual_seed(seed)
    features, target = torch.as_tensor(x), torch.as_tensor(y)
    for _ in range(epochs):
        shuffled = train[torch.randperm(len(train), generator=shuffles)]
        for start in range(0, len(shuffled), config["batch_size"]):
            rows = shuffled[start:start + config["batch_size"]]
            step.zero_grad()
            loss = torch.nn.functional.cross_entropy(network(features[rows]), target[rows])
            loss = loss + sum(config["l1"] * w.abs().sum() + config["l2"] * (w * w).sum()
                              for name, w in network.named_parameters() if name.endswith("weight"))
            loss.backward()
            step.step()
    assert ours.stopped_epoch_ == epochs and ours.best_epoch_ == epochs  # still improving: the last epoch kept
    for name, weights in network.state_dict().items():
        np.testing.assert_allclose(_state(ours)[name], weights.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_a_ray_trial_trains_a_population_and_its_members_are_recorded_as_trials(prepared, tmp_path):
    """Through the Ray backend: one trial per population, one record per member, and a member's
    validation score is the score its configuration gets when evaluated alone."""
    from advisor.types import Family
    from tuners import population_space, ray_backend
    from tuners.families import FAMILIES
    from tuners.evaluation import evaluate

    problem = prepared("iris.csv")
    mlp = FAMILIES[Family.MLP]
    space = population_space.expand(mlp.space(problem), mlp.population_keys, size=4, seed=0)
    request = ray_backend.StageRequest(name="random", space=space, points=(space.start,), num_samples=2, budget_s=120,
                                       search="random", iterative=True, folds=len(problem.splits), seed=0)
    with ray_backend.ray_session(None):
        records = ray_backend.run_stage(request, ray_backend.evaluate_in_trial(evaluate, threads=1),
                                        {"problem": problem, "family": "mlp"}, tmp_path, {"cpu": 1, "gpu": 0}, slots=2)
    assert len(records) == 8 and len({r.population for r in records}) == 2
    assert len({r.trial_id for r in records}) == 8
    first = [r for r in records if r.population == records[0].population]
    shared = {k: v for k, v in first[0].config.items() if k not in mlp.population_keys}
    assert all({k: r.config[k] for k in shared} == shared for r in first)  # one architecture per population
    assert len({r.config["learning_rate"] for r in first}) == 4  # members differ
    starts = [r for r in records if r.config == mlp.space(problem).start]
    assert len(starts) == 1  # the seeds' start is tried, as slot 0 of the first population
    for record in records:
        assert set(record.config) == set(mlp.space(problem).params)
        assert mlp.space(problem).contains(record.config)
    scored = [r for r in records if r.status == "completed"]
    assert scored, [r.status for r in records]
    member = max(scored, key=lambda r: r.score)
    reports = []
    evaluate(member.config, reports.append, problem, "mlp")  # the same configuration, alone
    assert reports[-1]["score"] == pytest.approx(member.score, abs=1e-9)
    assert member.curve and member.curve_best


@pytest.mark.parametrize("family, data", [("cnn", "digits_folder"), ("rnn", "italypowerdemand.csv.gz")])
def test_cnn_and_rnn_populations_are_scored_member_by_member_as_alone(family, data, tmp_path):
    """evaluate() on a population config of the CNN (image folder) and RNN (sequences): one report
    per fold listing every member, each member's score the one its configuration gets alone."""
    import dataclasses

    from advisor.types import Family
    from examples.make_examples import digits_image_folder
    from tuners import population_space
    from tuners.families import FAMILIES
    from tuners.evaluation import evaluate_with

    path = digits_image_folder(tmp_path, limit=300) if data == "digits_folder" else EXAMPLES / data
    definition = FAMILIES[Family(family)]
    problem = _sequence_problem(path, definition.inputs)
    assert definition.population_keys and definition.fit_members is not None
    # Three epochs, so the test stays fast; the same build for the population and for each alone.
    fixed = dataclasses.replace(definition, build=lambda c, p: definition.build(c, p).set_params(
        model__max_epochs=3, model__patience=3))
    space = population_space.expand(definition.space(problem), definition.population_keys, size=3, seed=1)
    config = space.sample(np.random.default_rng(0))
    reports = []
    evaluate_with(fixed, config, reports.append, problem)
    assert [r["folds_done"] for r in reports] == list(range(1, len(problem.splits) + 1))
    members = reports[-1]["members"]
    assert len(members) == 3 and all(m["error"] is None and m["folds_done"] == len(problem.splits) for m in members)
    assert reports[-1]["score"] == max(m["score"] for m in members)
    for member, alone_config in zip(members, population_space.members(config)):
        alone = []
        evaluate_with(fixed, alone_config, alone.append, problem)
        assert alone[-1]["score"] == pytest.approx(member["score"], abs=1e-9)
        np.testing.assert_allclose(np.array(alone[-1]["curve"], dtype=float), np.array(member["curve"], dtype=float),
                                   rtol=1e-3, atol=2e-6)  # sampled configs can be near diverging: rounding grows



def test_a_weighted_loss_is_class_weighted_cross_entropy():
    """class_weight "balanced" (searched where balanced accuracy is the metric): every member's loss is
    torch's cross_entropy with each class weighted by its inverse frequency, and row chunks (the
    validation's) add up to that one mean."""
    from tuners.families.losses import balanced_weights, member_loss_sums, member_losses

    generator = torch.Generator().manual_seed(0)
    outputs, target = torch.randn(3, 50, 4, generator=generator), torch.randint(0, 4, (50,), generator=generator)
    weights = balanced_weights(target, 4)
    expected = torch.stack([torch.nn.functional.cross_entropy(o, target, weight=weights) for o in outputs])
    torch.testing.assert_close(member_losses(outputs, target, 4, weights), expected)
    halves = [member_loss_sums(outputs[:, s], target[s], 4, weights) for s in (slice(0, 20), slice(20, 50))]
    torch.testing.assert_close((halves[0][0] + halves[1][0]) / (halves[0][1] + halves[1][1]), expected)


# Naive Bayes's variance smoothing rarely moves a prediction on standardised columns: its members
# differ in configuration, not always in score.
@pytest.mark.parametrize("family, data, scores_differ", [("linear", "breast_cancer.csv", True),
                                                         ("naive_bayes", "wine.csv", False),
                                                         ("linear", "diabetes.csv", True)])
def test_a_cheap_family_member_scores_in_a_population_as_it_would_alone(family, data, scores_differ, prepared):
    """The scikit-learn families' populations (base.fit_each_member): members fitted one after
    another on one shared preprocessing score, fold by fold, what each configuration scores in a
    trial of its own; a member that fails drops out alone."""
    from advisor.types import Family
    from tuners import population_space
    from tuners.evaluation import evaluate_with
    from tuners.families import FAMILIES
    from tuners.plan import distinct

    problem = prepared(data)
    definition = FAMILIES[Family(family)]
    space = definition.space(problem)
    expanded = population_space.expand(space, definition.population_keys, definition.population_slots[0], seed=1)
    anchors = distinct([definition.defaults(problem), space.start])  # as the plan passes them (one where they agree)
    config = population_space.anchor_points(expanded, anchors)[0]
    reports: list[dict] = []
    evaluate_with(definition, config, reports.append, problem)
    members = reports[-1]["members"]
    assert reports[-1]["done_all_folds"] and len(members) == definition.population_slots[0] > 1
    for member, alone_config in zip(members, population_space.members(config)):
        alone: list[dict] = []
        evaluate_with(definition, alone_config, alone.append, problem)
        assert member["error"] is None and member["folds_done"] == len(problem.splits)
        assert member["score"] == pytest.approx(alone[-1]["score"], rel=1e-9, abs=1e-12)
    configs = population_space.members(config)
    assert len({tuple(sorted(c.items())) for c in configs}) == len(configs)  # the members really differ
    assert len({round(m["score"], 9) for m in members}) > 1 or not scores_differ
    # The anchors share the trial: the library's defaults in slot 0, the seeds' start (where it differs) in slot 1.
    assert configs[:len(anchors)] == anchors


def test_anchors_that_differ_in_a_shared_parameter_take_a_population_point_each():
    """An MLP's architecture is shared by a population's members: anchors of two widths cannot share a trial."""
    from tuners import population_space
    from tuners.families.training import POPULATION_KEYS
    from tuners.space import Choice, LogUniform, Param, Space

    space = Space({"units": Param(Choice((4, 64)), ""), "learning_rate": Param(LogUniform(1e-4, 1.0), "")},
                  start={"units": 64, "learning_rate": 0.01})
    expanded = population_space.expand(space, POPULATION_KEYS, 4, seed=0)
    narrow, wide, wide_slow = {"units": 4, "learning_rate": 0.1}, dict(space.start), {"units": 64, "learning_rate": 1e-3}
    points = population_space.anchor_points(expanded, [narrow, wide, wide_slow])
    assert [population_space.members(p)[0] for p in points] == [narrow, wide]
    assert population_space.members(points[1])[1] == wide_slow  # same width: the second slot of wide's point
