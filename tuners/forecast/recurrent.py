"""The recurrent forecaster: an LSTM or GRU (PyTorch) reading a window of `lags` steps, each taken
relative to the window's last value in its series' scale (as the lag models' are, tuners/forecast/lags.py),
and giving all `horizon` steps at once from its last hidden state (direct, like the ridge). One net
over every series of a panel.

Seed 002's tree sends time to an LSTM; seed 001 says to try LSTM and GRU 'only on a random subset of
the data': the stage's duel (tuners/forecast/stage.py) backtests both cells trained on a seeded half
of the windows, and the winner's configurations are backtested on all of them.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tuners.forecast.lags import MIN_WINDOWS, forecast_direct, lag_choices, training_windows

EPOCHS = 30  # at most: the fit stops sooner when the training loss stops falling (PATIENCE)
BATCH = 64
LEARNING_RATE = 3e-3
PATIENCE = 8  # epochs without a lower training-tail loss before training stops
# One fit's training time at most (a backtest fits once per window): a guard on a slow machine,
# where the epochs then end sooner and the result depends on the machine's speed.
SECONDS = 4.0
CELLS = {"lstm": "LSTM", "gru": "GRU"}  # the duel's cells: their torch.nn layers
DUEL_SHARE = 0.5  # of the training windows, the duel's seeded random subset


class _Net:
    """What forecast_direct calls: predict(rows) -> (n, horizon), rows are the lag features."""

    def __init__(self, module, lags: int):
        self.module, self.lags = module, lags

    def predict(self, rows: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.module(torch.as_tensor(rows[:, :self.lags, None], dtype=torch.float32)).numpy()


def _module(cell: str, hidden: int, horizon: int):
    import torch

    class Recurrent(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(torch.nn, CELLS[cell])(1, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, horizon)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return Recurrent()


def _fit(x: np.ndarray, y: np.ndarray, config: dict[str, Any], horizon: int, seed: int):
    import torch

    torch.manual_seed(seed)
    module = _module(config["cell"], int(config["hidden"]), horizon)
    optimiser = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)
    xs = torch.as_tensor(x[:, :int(config["lags"]), None], dtype=torch.float32)
    ys = torch.as_tensor(y, dtype=torch.float32)
    order = np.random.default_rng(seed)
    best, stale, ends = np.inf, 0, time.perf_counter() + SECONDS
    for _ in range(EPOCHS):
        total = 0.0
        for batch in np.array_split(order.permutation(len(xs)), max(1, len(xs) // BATCH)):
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(module(xs[batch]), ys[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        stale = 0 if total < best * 0.999 else stale + 1
        best = min(best, total)
        if stale >= PATIENCE or time.perf_counter() > ends:
            break
    return module.eval()


def recurrent(values, phases, future_phases, horizon, season_length, config, seed, covariates=None):
    """The net reads the target's own windows: covariates are not among its inputs."""
    lags = int(config["lags"])
    x, y = training_windows(values, phases, lags, horizon, season_length)
    if config.get("subset"):
        keep = np.random.default_rng(seed).choice(len(x), max(1, int(config["subset"] * len(x))), replace=False)
        x, y = x[np.sort(keep)], y[np.sort(keep)]
    net = _Net(_fit(x, y, config, horizon, seed), lags)
    return forecast_direct(net, values, future_phases, lags, horizon, season_length)


def duel_space(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    """Both cells at the first lag count, trained on the seeded subset."""
    lags = lag_choices(season, shortest, horizon)[:1]
    return [{"cell": cell, "lags": p, "hidden": 32, "subset": DUEL_SHARE} for p in lags for cell in CELLS]


def space(season: int, shortest: int, horizon: int) -> list[dict[str, Any]]:
    """Both cells (the stage keeps the duel's winner's), two lag counts, two widths."""
    lags = lag_choices(season, shortest, horizon)[:2]
    return [{"cell": cell, "lags": p, "hidden": h} for cell in CELLS for p in lags for h in (32, 64)
            if p + horizon + MIN_WINDOWS <= shortest or p == lags[0]]
