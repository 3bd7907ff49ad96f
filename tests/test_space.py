"""The search-space vocabulary: checked construction, the Ray translation, coarse to fine, and a
contract over every tunable family: its start point and every sampled config lie inside its space."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tuners.families import FAMILIES
from tuners.ray_backend import decode, encode, to_ray
from tuners.space import (
    Choice, IntRange, LogUniform, OneMinusLogUniform, Param, PowersOfTwo, Space, Uniform, coarse_to_fine,
)

SPACE = Space(
    {
        "learning_rate": Param(LogUniform(1e-4, 1.0)),
        "momentum": Param(OneMinusLogUniform(0.9, 0.999)),
        "batch_size": Param(PowersOfTwo(1, 2048)),
        "layers": Param(IntRange(1, 3)),
        "units": Param(IntRange(4, 512, log=True)),
        "dropout": Param(Uniform(0.0, 0.5)),
        "optimizer": Param(Choice(("sgd", "adam", "adagrad"))),
    },
    start={"learning_rate": 0.01, "momentum": 0.9, "batch_size": 32, "layers": 1, "units": 16, "dropout": 0.0,
           "optimizer": "sgd"},
)


def ray_samples(n: int = 4000) -> list[dict]:
    domains = to_ray(SPACE)
    return [decode({name: domain.sample() for name, domain in domains.items()}) for _ in range(n)]


def test_ray_samples_the_learning_rate_on_a_log_scale():
    exponents = np.log10([s["learning_rate"] for s in ray_samples()])
    assert exponents.min() >= -4 and exponents.max() <= 0
    # log-uniform: each decade gets a quarter of the samples; uniform would put 90% in the last one
    shares = np.histogram(exponents, bins=[-4, -3, -2, -1, 0])[0] / len(exponents)
    assert np.all(np.abs(shares - 0.25) < 0.04), shares


def test_ray_samples_momentum_as_one_minus_ten_to_the_r():
    betas = np.array([s["momentum"] for s in ray_samples()])
    assert betas.min() >= 0.9 and betas.max() <= 0.999
    r = np.log10(1 - betas)
    assert -3.0 <= r.min() and r.max() <= -1.0
    assert abs(np.mean(r < -2) - 0.5) < 0.04  # as many betas in [0.99, 0.999] as in [0.9, 0.99]
    assert "one_minus_momentum" in to_ray(SPACE)


def test_ray_samples_batch_sizes_as_powers_of_two_only():
    sizes = {s["batch_size"] for s in ray_samples()}
    assert sizes == {2**k for k in range(12)}


def test_ray_integer_bounds_are_inclusive():
    layers = {s["layers"] for s in ray_samples()}
    assert layers == {1, 2, 3}
    units = [s["units"] for s in ray_samples()]
    assert min(units) >= 4 and max(units) <= 512


def test_encode_and_decode_round_trip():
    encoded = encode(SPACE.start, SPACE)
    assert encoded["one_minus_momentum"] == pytest.approx(0.1)
    decoded = decode(encoded)
    assert decoded["momentum"] == pytest.approx(0.9)
    assert {k: v for k, v in decoded.items() if k != "momentum"} == {k: v for k, v in SPACE.start.items() if k != "momentum"}


def test_our_sampler_agrees_with_the_declared_scales():
    rng = np.random.default_rng(0)
    samples = [SPACE.sample(rng) for _ in range(3000)]
    assert all(SPACE.contains(s) for s in samples)
    assert abs(np.mean(np.log10([s["learning_rate"] for s in samples]) < -2) - 0.5) < 0.05


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: LogUniform(0.0, 1.0), "low > 0"),
        (lambda: Uniform(2.0, 1.0), "low <= high"),
        (lambda: PowersOfTwo(3, 64), "powers of two"),
        (lambda: OneMinusLogUniform(0.9, 1.0), "high < 1"),
        (lambda: Choice(()), "at least one"),
        (lambda: Space({"x": Param(Uniform(0, 1))}, start={"x": 2}), "inside its domain"),
    ],
)
def test_domains_check_themselves(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_coarse_to_fine_narrows_around_the_best():
    best = [
        {**SPACE.start, "learning_rate": 0.02, "momentum": 0.95, "batch_size": 32, "optimizer": "adam", "units": 40},
        {**SPACE.start, "learning_rate": 0.05, "momentum": 0.97, "batch_size": 64, "optimizer": "adam", "units": 60},
    ]
    fine = coarse_to_fine(SPACE, best)
    lr = fine.params["learning_rate"].domain
    assert 1e-4 < lr.low <= 0.02 and 0.05 <= lr.high < 1.0
    assert math.log10(lr.high / lr.low) < 1.0  # from four decades to under one
    beta = fine.params["momentum"].domain
    assert 0.9 < beta.low <= 0.95 and 0.97 <= beta.high < 0.999
    assert fine.params["batch_size"].domain.options == (32, 64)
    assert fine.params["optimizer"].domain.options == ("adam",)
    assert all(fine.contains(config) for config in best)
    assert fine.start == best[0]


@pytest.fixture(scope="module")
def problems(prepared, tmp_path_factory):
    import statsmodels.api as sm

    from advisor.loading import load
    from advisor.profiling import profile
    from tuners.data import prepare

    found = {name: prepared(f"{name}.csv") for name in ("wine", "diabetes", "short_texts", "iris_unlabelled")}
    found["digits_images"] = prepared("digits.csv", inputs="image")
    found["sequences"] = prepared("sequences_long.csv", inputs="sequence")
    # A positive target with skewness 3.1 (Grunfeld's investments; the year left out, which would make
    # it a series): the spaces that search the target's scale (tuners.families.base.target_scaling) draw it.
    path = tmp_path_factory.mktemp("skewed") / "grunfeld.csv"
    sm.datasets.grunfeld.load_pandas().data.drop(columns=["year"]).to_csv(path, index=False)
    dataset = load(path, "invest")
    found["skewed_target"] = prepare(dataset.frame, profile(dataset), seed=0)
    return found


@pytest.mark.parametrize("family", sorted(f.value for f in FAMILIES))
def test_every_family_samples_inside_its_space(family, problems):
    from advisor.types import Family

    definition = FAMILIES[Family(family)]
    for name, problem in problems.items():
        if (family == "kmeans") != (name == "iris_unlabelled") or (family == "naive_bayes" and not problem.classes):
            continue
        if (family == "cnn") != (problem.image is not None) or (family == "rnn") != (problem.sequence is not None):
            continue
        space = definition.space(problem)
        assert space.contains(space.start), (family, name)
        domains = to_ray(space)
        drawn = [decode({k: d.sample() for k, d in domains.items()}) for _ in range(200)]
        for config in drawn:
            assert space.contains(config), (family, name, config)
        if family == "boosting" and name == "skewed_target":
            assert "target_scale" in space.params
        if "target_scale" in space.params:  # both scales drawn, and only where the target is skewed
            assert name == "skewed_target" and {c["target_scale"] for c in drawn} == {"raw", "log"}, (family, name)
        for param in space.params.values():
            assert param.why, f"{family}: every range says why"


@pytest.mark.parametrize("columns", [1, 2, 3, 4, 5, 8, 30, 200])
def test_column_sampling_never_leaves_a_tree_fewer_than_two_columns(columns):
    import math

    import numpy as np

    from tuners.families.boosting import column_share

    domain = column_share(columns).domain
    rng = np.random.default_rng(0)
    kept = {max(1, math.floor(domain.sample(rng) * columns)) for _ in range(500)}
    assert min(kept) >= min(2, columns)
    if columns <= 3:
        assert kept == {columns}
