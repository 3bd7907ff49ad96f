"""The rules, as data. They cover the whole model-selection tree of seed 002:

    unlabelled -> k-means; linear -> linear/logistic regression; simple (text) -> naive Bayes;
    little data -> boosting; lots of data and complex -> deep learning: vision CNN, time LSTM/GRU,
    other MLP.

Points set precedence: a modality rule (60) outranks the linearity probe (40), which outranks the
size rules (30 and 45 only when non-linear), so the tree's order holds while every family keeps a
score the report can show. A new rule is a new entry here, never a branch in the engine.
"""

from __future__ import annotations

from advisor.thresholds import LOTS_OF_DATA_SAMPLES, NAIVE_BAYES_MAX_DOCUMENTS
from advisor.types import Family, Modality, Task
from rules.engine import check_rules
from rules.model import Condition, Op, Rule, all_of, boost, exclude

TREE = "seed 002_dec45b93dff8989c.txt (model-selection decision tree)"
TRAINING = "seed 001_f5acf137fc652578.txt (model hyperparameters)"
MEASURED = "measurement: shared/DATASETS.md"
PROBE = "measurement: the linearity probe on this data"

LABELLED = Condition("labelled", Op.IS, True)
CLASSIFICATION = Condition("task", Op.IN, (Task.BINARY, Task.MULTICLASS))
SUPERVISED = (Family.LINEAR, Family.NAIVE_BAYES, Family.BOOSTING, Family.MLP, Family.CNN, Family.RNN)


def modality_is(modality: Modality) -> Condition:
    return Condition("modality", Op.EQ, modality)


def modality_is_not(modality: Modality) -> Condition:
    return Condition("modality", Op.NE, modality)


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
            id="rnn-needs-sequences",
            when=modality_is_not(Modality.SEQUENCE),
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
                "reference (within {LINEARITY_TOLERANCE}): the problem looks linear."
            ),
            source=f"{TREE}: 'Linear? Linear regression, logistic regression'; {PROBE}",
        ),
        Rule(
            id="probe-nonlinear",
            when=Condition("linear", Op.IS, False),
            effects=(boost(Family.BOOSTING, 10), boost(Family.MLP, 5)),
            reason=(
                "The non-linear reference scored {nonlinear_score} {metric} against {linear_score} for a linear "
                "model: there is structure a linear model misses."
            ),
            source=PROBE,
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
            source=f"{TREE}: 'Simple? Naive Bayes'; {MEASURED} (NB ahead at 200 and 2,000 documents)",
        ),
        Rule(
            id="large-text-linear",
            when=all_of(modality_is(Modality.TEXT), Condition("samples", Op.GT, NAIVE_BAYES_MAX_DOCUMENTS)),
            effects=(boost(Family.LINEAR, 45),),
            reason=(
                "{samples:,} documents, more than {NAIVE_BAYES_MAX_DOCUMENTS:,}: naive Bayes only ties a linear model "
                "on corpora this size, and the linear model has more to tune."
            ),
            source=f"{MEASURED} (NB ties logistic regression at 12,808 documents)",
        ),
        Rule(
            id="naive-bayes-needs-text",
            when=all_of(LABELLED, modality_is_not(Modality.TEXT)),
            effects=(boost(Family.NAIVE_BAYES, -10),),
            reason="Naive Bayes never won on {modality} data in the measurements; it stays a fallback.",
            source=f"{MEASURED}: 'It never won on tabular data'",
        ),
        Rule(
            id="little-data-boosting",
            when=all_of(LABELLED, modality_is(Modality.TABULAR), Condition("samples", Op.LT, LOTS_OF_DATA_SAMPLES)),
            effects=(boost(Family.BOOSTING, 30),),
            reason="{samples:,} rows is little data for deep learning (under {LOTS_OF_DATA_SAMPLES:,}): the tree says boosting.",
            source=f"{TREE}: 'Little data? Boosting'; {MEASURED} (boosting ahead of MLPs on 1,000-5,000-row tables)",
        ),
        Rule(
            id="lots-of-data-mlp",
            when=all_of(
                LABELLED,
                modality_is(Modality.TABULAR),
                Condition("samples", Op.GE, LOTS_OF_DATA_SAMPLES),
                Condition("linear", Op.IS, False),
            ),
            effects=(boost(Family.MLP, 45),),
            reason=(
                "{samples:,} rows (at least {LOTS_OF_DATA_SAMPLES:,}) and non-linear: lots of data in a complex "
                "situation is where the tree turns to deep learning, and for a table that is an MLP."
            ),
            source=f"{TREE}: 'Lots of data, complex situation? Deep learning ... Other? MLP'",
        ),
    ]
)
