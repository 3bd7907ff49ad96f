"""The rules, as data. They cover the whole model-selection tree of seed 002:

    unlabelled -> k-means; linear -> linear/logistic regression; simple (text) -> naive Bayes;
    little data -> boosting; lots of data and complex -> deep learning: vision CNN, time LSTM/GRU,
    other MLP.

Points set precedence: a modality rule (60) outranks the linearity probe (40), which outranks the
size rules (30 and 45 only when non-linear), so the tree's order holds while every family keeps a
score the report can show. A new rule is a new entry here, never a branch in the engine.
"""

from __future__ import annotations

from advisor.thresholds import (CALIBRATION, FORECAST_RNN_MIN_STEPS, LOTS_OF_DATA_SAMPLES, NAIVE_BAYES_MAX_DOCUMENTS,
                                calibrated)
from advisor.types import Family, Modality, Task
from rules.engine import check_rules
from rules.model import Condition, Op, Rule, When, all_of, any_of, boost, exclude

TREE = "seed 002_dec45b93dff8989c.txt (model-selection decision tree)"
TRAINING = "seed 001_f5acf137fc652578.txt (model hyperparameters)"
MEASURED = "measurement: shared/DATASETS.md"
RNN_FORECAST = ("measurement: bench/forecast_peers.py at 60 s with the net on every series (it won the backtest "
                "on co2_monthly and nile and lost both test windows); M4, where deep nets rarely beat statistics")
M4 = ("Makridakis, Spiliotis and Assimakopoulos (2020), The M4 Competition: statistical methods beat most "
      "machine-learning entries at a fraction of the cost")
PROBE = "measurement: the linearity probe on this data"
ONE_SE = ("the one-standard-error rule (Hastie, Tibshirani and Friedman, The Elements of Statistical Learning, "
          "section 7.10): within noise the simpler model is kept; measured in bench/results/probe_noise.md")
SEQUENCE_EVIDENCE = ("measurement: bench/results/regret.md (GunPoint, ItalyPowerDemand and synthetic chirps in wide "
                     "format: the RNN below the best flat family or without a model at 30 s)")
CALIBRATED = f"measurement: {CALIBRATION['citation']} ({CALIBRATION['measured']})"


def evidence(threshold: str) -> str:
    """The calibration's evidence for a threshold, for a rule's source."""
    return f"{CALIBRATED}: {threshold} = {calibrated(threshold)['value']:,} because {calibrated(threshold)['evidence']}"


def seed_overruled(threshold: str) -> str:
    """A sentence for a rule's reason when the measurements moved a threshold against its seed."""
    t = calibrated(threshold)
    if not t["contradicts_seed"]:
        return ""
    said = f"{t['evidence']}".replace("{", "{{").replace("}", "}}")
    return (f" The seeds put this line at {t['seed_value']:,}; the measurements moved it to {t['value']:,} "
            f"({said}), and the rule follows the measurements.")

# The conv1d family's points on labelled series, against the RNN's 60 (time-rnn): from the
# measurement in bench/results/conv1d_sequences.md (conv1d at least the RNN's test accuracy on 3 of 4 sets at 60 s: GunPoint 0.975 vs 0.500, JapaneseVowels 0.984 vs 0.969, synthetic chirps 1.000 vs 1.000; ItalyPowerDemand 0.982 vs 0.986, one test series).
CONV1D_POINTS = 65

MLP_BUDGET_EVIDENCE = ("measurement: bench/results/mlp_budget.md (large_nonlinear, 120,000 rows, 2 cores: the MLP "
                       "R^2 0.554 at 30 s, 0.861 at 60 s, 0.885 at 120 s; boosting 0.979 at 30 s)")

LABELLED = Condition("labelled", Op.IS, True)
CLASSIFICATION = Condition("task", Op.IN, (Task.BINARY, Task.MULTICLASS))
SUPERVISED = (Family.LINEAR, Family.NAIVE_BAYES, Family.BOOSTING, Family.MLP, Family.CNN, Family.CONV1D, Family.RNN)
FOREST_EVIDENCE = ("measurement: bench/results/blend.md (extremely randomised trees as boosting's blend partner, "
                   "partner by partner)")
CONV1D_EVIDENCE = "measurement: bench/results/conv1d_sequences.md (conv1d against the RNN and flat families at equal budget)"


def modality_is(modality: Modality) -> Condition:
    return Condition("modality", Op.EQ, modality)


def modality_is_not(modality: Modality) -> Condition:
    return Condition("modality", Op.NE, modality)


def lots_of_nonlinear_table(*more: When) -> When:
    """A labelled, non-linear table with at least LOTS_OF_DATA_SAMPLES rows, and `more`."""
    return all_of(LABELLED, modality_is(Modality.TABULAR), Condition("samples", Op.GE, LOTS_OF_DATA_SAMPLES),
                  Condition("linear", Op.IS, False), *more)


RULES = check_rules(
    [
        Rule(
            id="unlabelled-kmeans",
            when=Condition("labelled", Op.IS, False),
            effects=(boost(Family.KMEANS, 100), *exclude(*SUPERVISED)),
            reason="No target column: the task is clustering, and the tree's answer for unsupervised data is k-means.",
            source=f"{TREE}: 'Unsupervised? K-means Clustering'",
        ),
        Rule(
            id="labelled-not-kmeans",
            when=LABELLED,
            effects=exclude(Family.KMEANS),
            reason="The data has a target ({target!r}, {task}); clustering would ignore it.",
            source=f"{TREE}: k-means is the unsupervised branch",
        ),
        Rule(
            id="vision-cnn",
            when=all_of(LABELLED, modality_is(Modality.IMAGE)),
            effects=(boost(Family.CNN, 60),),
            reason=(
                "The samples are {image_shape} images: vision goes to a CNN, and even untrained convolutions "
                "beat every flat model on the four image sets measured, small ones included."
            ),
            source=f"{TREE}: 'Vision? CNN'; {MEASURED} (CNN rows: digits, mnist, fashion-mnist)",
        ),
        Rule(
            id="cnn-needs-images",
            when=modality_is_not(Modality.IMAGE),
            effects=exclude(Family.CNN),
            reason="A CNN needs pixels on a grid; this data is {modality}.",
            source=f"{TREE}: CNN is the vision branch",
        ),
        Rule(
            id="forest-not-ranked",
            when=any_of(LABELLED, Condition("labelled", Op.IS, False)),  # always
            effects=exclude(Family.FOREST),
            reason=("The decision tree has no branch for random forests, so the rules do not rank them: they enter a "
                    "run as boosting's blend partner, where the blend validates better, or with --family forest."),
            source=f"{TREE}; {FOREST_EVIDENCE}",
        ),
        Rule(
            id="time-rnn",
            when=all_of(LABELLED, modality_is(Modality.SEQUENCE)),
            effects=(boost(Family.RNN, 60),),
            reason=(
                "The samples are {series} ordered series (median {median_length} steps): time goes to a recurrent "
                "net, with LSTM and GRU tried on a random subset before tuning."
            ),
            source=f"{TREE}: 'Time? LSTM'; {TRAINING}: 'Try both, only on a random subset of the data'",
        ),
        Rule(
            id="time-conv1d",
            when=all_of(LABELLED, modality_is(Modality.SEQUENCE)),
            effects=(boost(Family.CONV1D, CONV1D_POINTS),),
            reason=(
                "The samples are {series} ordered series: convolutions along time rank above the recurrent net, "
                "measured side by side at an equal budget on the same test series (conv1d at least the RNN's test accuracy on 3 of 4 sets at 60 s: GunPoint 0.975 vs 0.500, JapaneseVowels 0.984 vs 0.969, synthetic chirps 1.000 vs 1.000; ItalyPowerDemand 0.982 vs 0.986, one test series); the RNN, with its "
                "LSTM/GRU duel, stays the runner-up (--family rnn)."
            ),
            source=f"{MEASURED} (a convolution or logistic regression won or tied 9 of 11 sequence sets); {CONV1D_EVIDENCE}",
        ),
        Rule(
            id="conv1d-needs-sequences",
            when=modality_is_not(Modality.SEQUENCE),
            effects=exclude(Family.CONV1D),
            reason="Convolutions along time need ordered series; this data is {modality}.",
            source=f"{CONV1D_EVIDENCE}: the family trains on sequences only",
        ),
        Rule(
            id="wide-sequence-flat",
            when=all_of(LABELLED, modality_is(Modality.SEQUENCE), Condition("sequence_layout", Op.EQ, "wide")),
            effects=(boost(Family.RNN, -40), boost(Family.CONV1D, -40), boost(Family.BOOSTING, 15)),
            reason=(
                "The {series} series come one row each (median {median_length} steps), so flat models can read "
                "them too; measured against the oracle, tuned flat models matched or beat the recurrent net on "
                "every such set at an equal budget, at a fraction of its cost (and matched conv1d: "
                "bench/results/conv1d_sequences.md), so the RNN and conv1d step back and the "
                "probe's verdict decides (linear if it looks linear, boosting if not). Long-format series "
                "(several channels, unequal lengths) stay with the deep sequence families."
            ),
            source=(f"{MEASURED} (a convolution or logistic regression won or tied 9 of 11 sequence sets; the seeds' "
                    f"'Time? LSTM' is to be measured before trusted); {SEQUENCE_EVIDENCE}; overrules {TREE}: 'Time? LSTM'"),
        ),
        Rule(
            id="rnn-needs-sequences",
            when=all_of(modality_is_not(Modality.SEQUENCE), Condition("task", Op.NE, Task.FORECAST)),
            effects=exclude(Family.RNN),
            reason="A recurrent net needs ordered series; this data is {modality}.",
            source=f"{TREE}: LSTM is the time branch",
        ),
        Rule(
            id="probe-linear",
            when=Condition("linear", Op.IS, True),
            effects=(boost(Family.LINEAR, 40),),
            reason=(
                "A linear model scored {linear_score} {metric} against {nonlinear_score} for the non-linear "
                "reference, within {LINEARITY_TOLERANCE} plus one standard error of the folds' differences "
                "({gap_se}): the problem looks linear."
            ),
            source=f"{TREE}: 'Linear? Linear regression, logistic regression'; {PROBE}; "
                   f"{evidence('LINEARITY_TOLERANCE')}; {ONE_SE}",
        ),
        Rule(
            id="probe-nonlinear",
            when=Condition("linear", Op.IS, False),
            effects=(boost(Family.BOOSTING, 10), boost(Family.MLP, 5)),
            reason=(
                "The non-linear reference scored {nonlinear_score} {metric} against {linear_score} for a linear "
                "model, ahead by more than {LINEARITY_TOLERANCE} plus one standard error of the folds' differences "
                "({gap_se}): there is structure a linear model misses."
            ),
            source=f"{PROBE}; {ONE_SE}",
        ),
        Rule(
            id="regression-not-naive-bayes",
            when=Condition("task", Op.EQ, Task.REGRESSION),
            effects=exclude(Family.NAIVE_BAYES),
            reason="Naive Bayes predicts classes; the target {target!r} is a quantity.",
            source=f"{TREE}: naive Bayes is a classifier",
        ),
        Rule(
            id="small-text-naive-bayes",
            when=all_of(modality_is(Modality.TEXT), CLASSIFICATION, Condition("samples", Op.LE, NAIVE_BAYES_MAX_DOCUMENTS)),
            effects=(boost(Family.NAIVE_BAYES, 50),),
            reason=(
                "{samples:,} documents of free text, at most {NAIVE_BAYES_MAX_DOCUMENTS:,}: naive Bayes is the tree's "
                "simple model and led on small text corpora."
            ),
            source=f"{TREE}: 'Simple? Naive Bayes'; {MEASURED} (NB ahead at 200 and 2,000 documents); "
                   f"{evidence('NAIVE_BAYES_MAX_DOCUMENTS')}",
        ),
        Rule(
            id="large-text-linear",
            when=all_of(modality_is(Modality.TEXT), Condition("samples", Op.GT, NAIVE_BAYES_MAX_DOCUMENTS)),
            effects=(boost(Family.LINEAR, 45),),
            reason=(
                "{samples:,} documents, more than {NAIVE_BAYES_MAX_DOCUMENTS:,}: naive Bayes only ties a linear model "
                "on corpora this size, and the linear model has more to tune."
            ),
            source=f"{MEASURED} (NB ties logistic regression at 12,808 documents); {evidence('NAIVE_BAYES_MAX_DOCUMENTS')}",
        ),
        Rule(
            id="naive-bayes-needs-text",
            when=all_of(LABELLED, modality_is_not(Modality.TEXT)),
            effects=(boost(Family.NAIVE_BAYES, -10),),
            reason="Naive Bayes never won on {modality} data in the measurements; it stays a fallback.",
            source=f"{MEASURED}: 'It never won on tabular data'",
        ),
        Rule(
            id="forecast-lags-linear",
            when=all_of(LABELLED, Condition("task", Op.EQ, Task.FORECAST)),
            effects=(boost(Family.LINEAR, 50), *exclude(Family.MLP, Family.NAIVE_BAYES)),
            reason=("A series to forecast ({series_count} series, {frequency} steps, season {season_length}): every "
                    "forecaster is measured by backtest (the naive forecasts, drift, Theta, ETS, ridge and boosting "
                    "on lags, their combination) and the simplest model within one standard error of the lowest "
                    "MASE wins; the rules try the linear model on lags first. The MLP on lags runs only with "
                    "--family mlp (it lost to the linear model on the bundled series); naive Bayes does not forecast."),
            source=f"{MEASURED}: a linear model on lags beat boosting and MLPs on all but one bundled series; {M4}",
        ),
        Rule(
            id="forecast-time-rnn",
            when=all_of(LABELLED, Condition("task", Op.EQ, Task.FORECAST), Condition("rows", Op.GE, FORECAST_RNN_MIN_STEPS)),
            effects=(boost(Family.RNN, 20),),
            reason=("{rows:,} steps in all (at least {FORECAST_RNN_MIN_STEPS:,}): time goes to a recurrent net in the "
                    "tree, so the LSTM and GRU duel on a random subset of the windows and the winner is backtested "
                    "beside the others, after them (the measurements put the linear model on lags first)."),
            source=f"{TREE}: 'Time? LSTM'; {TRAINING}: 'Try both, only on a random subset of the data'; {RNN_FORECAST}",
        ),
        Rule(
            id="forecast-short-no-rnn",
            when=all_of(LABELLED, Condition("task", Op.EQ, Task.FORECAST), Condition("rows", Op.LT, FORECAST_RNN_MIN_STEPS)),
            effects=exclude(Family.RNN),
            reason=("{rows:,} steps in all, under {FORECAST_RNN_MIN_STEPS:,}: the recurrent net is left out of the "
                    "backtest (--family rnn still runs it, with its LSTM/GRU duel)."),
            source=RNN_FORECAST,
        ),
        Rule(
            id="little-data-boosting",
            when=all_of(LABELLED, modality_is(Modality.TABULAR), Condition("samples", Op.LT, LOTS_OF_DATA_SAMPLES)),
            effects=(boost(Family.BOOSTING, 30),),
            reason="{samples:,} rows is little data for deep learning (under {LOTS_OF_DATA_SAMPLES:,}): the tree says "
                   "boosting." + seed_overruled("LOTS_OF_DATA_SAMPLES"),
            source=f"{TREE}: 'Little data? Boosting'; {MEASURED} (boosting ahead of MLPs on 1,000-5,000-row tables); "
                   f"{evidence('LOTS_OF_DATA_SAMPLES')}",
        ),
        Rule(
            id="lots-of-data-mlp",
            # No budget (a decision without tuning) or one long enough.
            when=lots_of_nonlinear_table(any_of(Condition("budget_short_for_mlp", Op.IS, None),
                                                Condition("budget_short_for_mlp", Op.IS, False))),
            effects=(boost(Family.MLP, 45),),
            reason=(
                "{samples:,} rows (at least {LOTS_OF_DATA_SAMPLES:,}) and non-linear: lots of data in a complex "
                "situation is where the tree turns to deep learning, and for a table that is an MLP."
                + seed_overruled("LOTS_OF_DATA_SAMPLES")
            ),
            source=f"{TREE}: 'Lots of data, complex situation? Deep learning ... Other? MLP'; "
                   f"{evidence('LOTS_OF_DATA_SAMPLES')}",
        ),
        Rule(
            id="lots-of-data-short-budget-boosting",
            when=lots_of_nonlinear_table(Condition("budget_short_for_mlp", Op.IS, True)),
            effects=(boost(Family.BOOSTING, 30),),
            reason=(
                "{samples:,} rows and non-linear is deep learning's ground, but a {budget_s:,.0f} s budget is under the "
                "{mlp_budget_s:,.0f} s an MLP needs on this many rows on a CPU: boosting trains well in that time. Give "
                "a larger --budget (or --family mlp with GPUs) for the MLP."
            ),
            source=f"{TREE}: 'Lots of data, complex situation? Deep learning'; {MLP_BUDGET_EVIDENCE}",
        ),
    ]
)
