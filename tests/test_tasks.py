"""tuners/tasks.py: every task is an entry (metric, reason, encoding, splits), and the tuners ask the
entry instead of branching on the task."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from advisor.types import Task
from tuners.tasks import CV_FOLDS, TASKS, TEST_FRACTION

ROOT = Path(__file__).resolve().parent.parent


def test_every_task_has_an_entry():
    assert set(TASKS) == set(Task)


def test_the_tuners_never_branch_on_the_task_outside_its_registry():
    found = []
    for path in sorted((ROOT / "tuners").rglob("*.py")):
        if path.name == "tasks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            for part in ast.walk(node):
                on_task = isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "Task"
                if on_task or (isinstance(part, ast.Attribute) and part.attr == "is_classification"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert found == [], "ask tuners.tasks.TASKS[task] instead:\n" + "\n".join(found)


def test_classification_keeps_each_class_share_in_the_test_split_and_every_fold(examples_dir):
    """Wine's three classes (59/71/48 rows): the test split and each of the 5 folds hold each class
    within one row of its share; regression's splits are shuffled, not sorted by the target."""
    wine = pd.read_csv(examples_dir / "wine.csv")
    y, classes = TASKS[Task.MULTICLASS].encode(wine["target"])
    assert classes == ("0", "1", "2") and y.dtype == np.int64
    train, test = TASKS[Task.MULTICLASS].test_split(len(y), y, seed=0)
    assert len(test) == round(TEST_FRACTION * len(y)) and not set(train) & set(test)
    assert np.all(np.abs(np.bincount(y[test]) - TEST_FRACTION * np.bincount(y)) <= 1)
    folds = TASKS[Task.MULTICLASS].validation_splits(len(train), y[train], seed=0)
    assert len(folds) == CV_FOLDS
    for _, held in folds:
        assert np.all(np.abs(np.bincount(y[train][held]) - np.bincount(y[train]) / CV_FOLDS) <= 1)
    alcohol, _ = TASKS[Task.REGRESSION].encode(wine["alcohol"])
    assert alcohol.dtype == np.float64
    train, test = TASKS[Task.REGRESSION].test_split(len(alcohol), alcohol, seed=0)
    assert not np.all(np.diff(alcohol[test]) >= 0)  # drawn at random, not by value
