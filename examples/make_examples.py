"""Write the example datasets: real ones that scikit-learn ships offline, and small synthetic ones
made so that each branch of the model-selection tree has a set where its family is right.

    python examples/make_examples.py OUT_DIR

The tests call these same functions. Nothing here downloads anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets


def sklearn_csv(name: str, folder: Path) -> Path:
    """iris, wine, breast_cancer, diabetes or digits, with the target column last, as CSV."""
    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def unlabelled_iris_csv(folder: Path) -> Path:
    """Iris without its species: the unsupervised branch (k-means)."""
    frame = datasets.load_iris(as_frame=True).frame.drop(columns="target")
    path = folder / "iris_unlabelled.csv"
    frame.to_csv(path, index=False)
    return path


def digits_image_folder(folder: Path, limit: int | None = None) -> Path:
    """scikit-learn's digits as 8x8 greyscale PNGs, one subfolder per class."""
    from PIL import Image

    digits = datasets.load_digits()
    root = folder / "digits_images"
    for index, (image, label) in enumerate(zip(digits.images, digits.target)):
        if limit is not None and index >= limit:
            break
        target = root / str(label)
        target.mkdir(parents=True, exist_ok=True)
        pixels = (image * (255.0 / 16.0)).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(target / f"{index:04d}.png")
    return root


def interactions_csv(folder: Path, rows: int = 2_000, seed: int = 0) -> Path:
    """A small table whose label is a threshold interaction (XOR of two features) plus a category:
    a linear model cannot see it, trees can. The little-data branch (boosting)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(rows, 6))
    colour = rng.choice(["red", "green", "blue"], size=rows)
    signal = (x[:, 0] > 0) ^ (x[:, 1] > 0)
    signal = np.where(colour == "blue", ~signal, signal)
    flip = rng.random(rows) < 0.05
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(6)])
    frame["colour"] = colour
    frame["label"] = np.where(signal ^ flip, "yes", "no")
    path = folder / "interactions.csv"
    frame.to_csv(path, index=False)
    return path


def large_nonlinear_csv(folder: Path, rows: int = 120_000, seed: int = 0) -> Path:
    """Lots of rows of a smooth non-linear function: the deep-learning branch for tables (MLP)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8)).astype(np.float32)
    y = np.sin(2 * x[:, 0]) * x[:, 1] + np.cos(x[:, 2] * x[:, 3]) + 0.5 * x[:, 4] ** 2 + 0.05 * rng.normal(size=rows)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(8)])
    frame["target"] = y.astype(np.float32)
    path = folder / "large_nonlinear.csv"
    frame.to_csv(path, index=False, float_format="%.5g")
    return path


def sequences_long_csv(folder: Path, series: int = 120, seed: int = 0, lengths: tuple[int, int] = (40, 80),
                       name: str = "sequences_long.csv") -> Path:
    """Long-format series (series_id, step, two value channels), one label per series: whether the
    signal's frequency rises or falls along the series. The time branch (LSTM/GRU)."""
    rng = np.random.default_rng(seed)
    parts = []
    for sid in range(series):
        length = int(rng.integers(*lengths))
        t = np.linspace(0, 1, length)
        rising = sid % 2 == 0
        freq = 2 + (6 * t if rising else 6 * (1 - t))
        phase = rng.uniform(0, 2 * np.pi)
        parts.append(pd.DataFrame({
            "series_id": f"s{sid:03d}",
            "step": np.arange(length),
            "value": np.sin(2 * np.pi * freq * t + phase) + 0.1 * rng.normal(size=length),
            "accel": np.cos(2 * np.pi * freq * t + phase) + 0.1 * rng.normal(size=length),
            "label": "rising" if rising else "falling",
        }))
    path = folder / name
    pd.concat(parts, ignore_index=True).to_csv(path, index=False)
    return path


TOPICS = {
    "sport": "match goal team coach season player score league win stadium referee striker keeper".split(),
    "science": "experiment theory cell energy particle research data lab molecule telescope genome physics".split(),
    "politics": "election vote party senate minister policy law campaign debate parliament budget reform".split(),
}
COMMON = "the a of and to in is was it that for on with as this by at from but said".split()


def short_texts_csv(folder: Path, documents: int = 300, seed: int = 0) -> Path:
    """A small corpus of short documents on three topics: the 'simple' branch (naive Bayes)."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    rows = []
    for index in range(documents):
        topic = topics[index % len(topics)]
        words = []
        for _ in range(int(rng.integers(8, 20))):
            pool = TOPICS[topic] if rng.random() < 0.35 else (COMMON if rng.random() < 0.8 else TOPICS[rng.choice(topics)])
            words.append(str(rng.choice(pool)))
        rows.append({"text": " ".join(words).capitalize() + ".", "label": topic})
    path = folder / "short_texts.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [sklearn_csv(name, folder) for name in ("iris", "wine", "breast_cancer", "diabetes", "digits")]
    paths += [
        unlabelled_iris_csv(folder),
        digits_image_folder(folder),
        interactions_csv(folder),
        large_nonlinear_csv(folder),
        sequences_long_csv(folder),
        short_texts_csv(folder),
    ]
    return paths


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/data")
    for written in write_all(out):
        print(written)
