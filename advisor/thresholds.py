"""Every threshold the advisor decides with, in one place, each with where its value comes from.

Seeds are the texts in ../shared/seeds/ (named by file); "measured" points at the evidence in
../shared/DATASETS.md. The rules' decisive thresholds (linearity tolerance, what "lots of data" means
for a table, the naive Bayes corpus size) come from calibration.json, which bench/calibrate.py writes
from the oracle benchmark (bench/results/calibration.md); rerun it rather than editing them here.
"""

import json
from pathlib import Path

CALIBRATION = json.loads(Path(__file__).with_name("calibration.json").read_text(encoding="utf-8"))


def calibrated(name: str) -> dict:
    """{"value", "seed_value", "contradicts_seed", "evidence"} for a calibrated threshold."""
    return CALIBRATION["thresholds"][name]


# --- Input sanity -----------------------------------------------------------------------------
# Fewest labelled rows we accept: a held-out test split plus k-fold CV (seed 000: "optimal
# hyperparameters are found empirically by cross-validation") needs a few rows in every part.
MIN_ROWS = 10

# --- Task inference ---------------------------------------------------------------------------
# An integer-valued numeric target with at most this many distinct values is a class label
# (iris 3, wine 3, digits 10); more distinct values read as a quantity (diabetes: 214).
MAX_CLASSES_FOR_INTEGER_TARGET = 20
# Column names that mark the target when --target is not given (case-insensitive).
TARGET_NAMES = ("target", "label", "class", "y")

# --- Column kinds -----------------------------------------------------------------------------
# Kinds are inferred on a bounded random sample so profiling stays linear and fast on big files.
PROFILE_SAMPLE_ROWS = 100_000
# A string column whose values average at least this many words and are mostly distinct is free
# text (a review, a speech), not a category.
TEXT_MIN_MEAN_WORDS = 3.0
TEXT_MIN_DISTINCT_FRACTION = 0.5
# A string column is a datetime when at least this share of its non-missing values parse as dates.
DATETIME_MIN_PARSED_FRACTION = 0.9
# An id-like column: (nearly) every value distinct, so it carries no pattern a model can reuse.
ID_MIN_DISTINCT_FRACTION = 0.99

# --- Modality detection -----------------------------------------------------------------------
# Pixel CSVs (MNIST style): at least an 8x8 square (scikit-learn's digits) of pixel-named columns
# whose values stay within one byte.
PIXEL_MIN_SIDE = 8
PIXEL_MAX_VALUE = 255.0
PIXEL_NAME_SHARE = 0.9
# Long-format sequences: at least this many series with a median of at least this many steps,
# and one label per series in at least this share of series.
SEQUENCE_MIN_SERIES = 4
SEQUENCE_MIN_MEDIAN_LENGTH = 3
SEQUENCE_LABEL_CONSTANT_SHARE = 0.99
# Wide-format sequences: at least this many consecutively numbered columns whose neighbours
# correlate at least this much (median over steps, on the first rows), and clearly more than steps
# half a series apart. UCR's GunPoint and ItalyPowerDemand in wide form: 0.99 and 0.80 between
# neighbours, 0.09 and 0.52 half a series apart; make_classification's numbered features: 0.00.
SEQUENCE_WIDE_MIN_STEPS = 10
SEQUENCE_WIDE_MIN_NEIGHBOUR_CORRELATION = 0.5
SEQUENCE_WIDE_NEIGHBOUR_MARGIN = 0.1
SEQUENCE_WIDE_SAMPLE_ROWS = 2_000
# Text modality: at least one free-text column and no more than this many other feature columns
# (otherwise it is a table with a text column in it).
TEXT_MAX_SIDE_COLUMNS = 5

# --- Linearity probe --------------------------------------------------------------------------
# The probe cross-validates on a bounded random subsample so its cost does not grow with the file.
PROBE_MAX_ROWS = 2_000
# Regression tables get a larger sample: the non-linear reference (histogram boosting) is cheap, and
# on 2,000 rows of a big noisy table it cannot show what it finds on more. Measured on randhie
# (20,190 rows, bench/results/calibration.md): on 2,000 sampled rows ridge 0.070 R² against
# boosting's -0.055, so "linear"; on 10,000 rows 0.066 against 0.109, and the tuned oracle agrees
# (boosting 0.161 against linear 0.076 on the test split).
PROBE_MAX_ROWS_REGRESSION = 10_000
PROBE_FOLDS = 3
# The problem counts as linear when the linear model scores within this much (accuracy or R²)
# of the non-linear reference. The seed value 0.01 is about the fold-to-fold noise of 3-fold CV at
# 2,000 rows; calibrated against the oracle (which family really wins once tuned).
LINEARITY_TOLERANCE = float(calibrated("LINEARITY_TOLERANCE")["value"])
# Images in the probe are shrunk to at most this side (pixels), sequences resampled to this length.
PROBE_IMAGE_SIDE = 16
PROBE_SEQUENCE_POINTS = 32
PROBE_TEXT_FEATURES = 1_000

# --- Rules ------------------------------------------------------------------------------------
# "Lots of data" for an MLP on a table (seed 002: "Lots of data, complex situation? Deep
# learning"). DATASETS.md measured boosting ahead of MLPs on every tabular set up to 5,000 rows
# (mlc_churn, hpc_data, ames); the seed value 100,000 is the conventional point where deep tabular
# models start to pay; calibrated against the oracle on non-linear tables.
LOTS_OF_DATA_SAMPLES = int(calibrated("LOTS_OF_DATA_SAMPLES")["value"])
# The budget an MLP needs on a table, per 1,000 samples, on this project's 2-core CPU machine
# (bench/results/mlp_budget.md: large_nonlinear, 120,000 rows: the MLP scored R^2 0.554 at 30 s,
# 0.861 at 60 s and 0.885 at 120 s, where boosting scored 0.979 at 30 s; 2 s is the first budget
# not shown short). Under it, lots of data still goes to boosting; with --family mlp (or a GPU
# and a larger --budget) the MLP is tuned as asked.
MLP_SECONDS_PER_1K_SAMPLES = 2.0
# Naive Bayes leads on small text corpora: DATASETS.md measured it ahead at 200 and 2,000 documents
# and tied with logistic regression at 12,808. Past this size the cheaper-to-tune linear model leads.
NAIVE_BAYES_MAX_DOCUMENTS = int(calibrated("NAIVE_BAYES_MAX_DOCUMENTS")["value"])
# The family race (seed 001: "try both, only on a random subset of the data", from cells to
# families): when the rules' first and second family are at most this many points apart, both get
# a short equal budget on one random subset before the search. 10 races every set of the oracle
# benchmark where the runner-up beat the pick by more than 1% (anes96, chirps_wide), 11 races in
# 18 sets; 5 misses anes96 (bench/results/race_margin.md).
RACE_MAX_POINT_GAP = 10

# Below this many steps in all, a forecast backtests the recurrent net only with --family rnn. Measured on
# bench/forecast_corpus.py's series (up to 526 steps, a panel of 1,421): in a run of bench/forecast_peers.py
# at 60 s with the net on every series (commit 22e34b9; bench/results/forecast.md is the rerun without
# it) the net won the backtest on co2_monthly and nile and lost both test windows (MASE 0.398 and 0.940,
# where the rerun's theta scored 0.261 and 0.851). Not calibrated above it: no series there is that long.
FORECAST_RNN_MIN_STEPS = 10_000
