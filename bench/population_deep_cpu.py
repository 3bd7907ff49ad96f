"""Populations of CNNs and RNNs on the CPU: do they pay here? The trainer alone (population.train,
no Ray), configurations per minute against one at a time, on real data; and, for recurrent nets,
the alternative not taken: a hand-written LSTM cell loop (which vmap could vectorise) against
PyTorch's nn.LSTM.

    python bench/population_deep_cpu.py [--members 1 4 8] [--epochs 5]

CNN: scikit-learn's digits (1,797 8x8 images, and resized to 32x32), 2 blocks of 32 filters, batch norm, batch 64.
RNN: JapaneseVowels (examples/, 270 series of 7-29 steps x 12 channels), 2-layer bidirectional
LSTM of 32 units, batch 32. Members differ in learning rate, momentum, dropout and L2.
Writes bench/results/population_deep_cpu.md and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from bench.common import ROOT, machine_line, write_results  # noqa: E402
from tuners.families import population  # noqa: E402

CNN = dict(blocks=2, filters=32, kernel=3, units=64, activation="relu", batch_norm=True, augment="none",
           batch_size=64, optimizer="adam", lr_decay="none")
RNN = dict(cell="lstm", layers=2, units=32, bidirectional=True, batch_size=32, optimizer="adam", lr_decay="none")


def _members(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [dict(learning_rate=float(10 ** rng.uniform(-4, -2)), momentum=0.9, dropout=float(rng.uniform(0, 0.5)),
                 l1=0.0, l2=float(10 ** rng.uniform(-8, -4))) for _ in range(count)]


def _data(architecture: str, size: int = 8):
    if architecture == "cnn":
        digits = load_digits()
        images = torch.as_tensor((digits.images[:, None] / 16.0).astype(np.float32))
        if size != 8:  # a bigger image of the same digits, as the image loader's resize would give
            images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear")
        return images.numpy(), digits.target, 10
    from advisor.loading import load
    from advisor.profiling import profile
    from tuners.data import prepare

    dataset = load(ROOT / "examples" / "japanesevowels.csv.gz")
    problem = prepare(dataset.frame, profile(dataset), seed=0, inputs="sequence")
    return problem.x_train, problem.y_train, len(problem.classes)


def trainer_rate(architecture: str, members: int, epochs: int, size: int = 8) -> dict:
    x, y, classes = _data(architecture, size)
    shared = CNN if architecture == "cnn" else RNN
    configs = [dict(shared, **m) for m in _members(members)]
    started = time.perf_counter()
    trained = population.train(configs, x, y, classes, seed=0, max_epochs=epochs, patience=epochs,
                               device=torch.device("cpu"), architecture=architecture)
    wall = time.perf_counter() - started
    return {"architecture": architecture, "data": f"digits {size}x{size}" if architecture == "cnn" else "JapaneseVowels",
            "members": members, "wall_s": round(wall, 2),
            "configs_per_min": round(members / wall * 60, 1),
            "best_validation_loss": round(min(min(h[2] for h in m.history) for m in trained), 4)}


def member_drift(optimizer: str, epochs: int, size: int = 32, members: int = 4) -> dict:
    """Member 0's validation loss per epoch trained alone and in a population of `members`."""
    x, y, classes = _data("cnn", size)
    configs = [dict(CNN, **m, optimizer=optimizer) for m in _members(members)]
    curves = [population.train(group, x, y, classes, seed=0, max_epochs=epochs, patience=epochs,
                               device=torch.device("cpu"), architecture="cnn")[0].history for group in (configs[:1], configs)]
    return {"optimizer": optimizer, "alone": [round(h[2], 5) for h in curves[0]],
            "in_population": [round(h[2], 5) for h in curves[1]]}


def _hand_lstm(params: dict, x: torch.Tensor, layers: int) -> torch.Tensor:
    """A bidirectional stacked LSTM written step by step (nn.LSTM's weight layout and gates)."""
    h = x
    for layer in range(layers):
        outs, lasts = [], []
        for reverse in (False, True):
            suffix = f"_l{layer}" + ("_reverse" if reverse else "")
            projected = h @ params["weight_ih" + suffix].T + params["bias_ih" + suffix]
            state = cell = torch.zeros(h.shape[0], params["weight_hh" + suffix].shape[1])
            steps = [None] * h.shape[1]
            for t in (reversed(range(h.shape[1])) if reverse else range(h.shape[1])):
                i, f, g, o = (projected[:, t] + state @ params["weight_hh" + suffix].T + params["bias_hh" + suffix]).chunk(4, -1)
                cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
                state = torch.sigmoid(o) * torch.tanh(cell)
                steps[t] = state
            outs.append(torch.stack(steps, 1))
            lasts.append(state)
        h = torch.cat(outs, -1)
    return torch.cat(lasts, -1)


def hand_cell_vs_nn_lstm(steps: int = 150, rows: int = 64, units: int = 32, layers: int = 2, repeats: int = 3) -> dict:
    """Forward and backward of one batch (GunPoint's 150 steps): nn.LSTM, the hand loop, and the
    hand loop vectorised over 8 members with vmap."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, units, num_layers=layers, batch_first=True, bidirectional=True)
    x = torch.randn(rows, steps, 3)
    params = {k: v.detach().clone().requires_grad_() for k, v in lstm.named_parameters()}
    stacked = {k: v.detach().unsqueeze(0).repeat(8, *[1] * v.dim()).requires_grad_() for k, v in lstm.named_parameters()}

    def timed(run) -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            run().sum().backward()
        return (time.perf_counter() - started) / repeats * 1000

    figures = {"nn_lstm_ms": timed(lambda: lstm(x)[1][0]),
               "hand_loop_ms": timed(lambda: _hand_lstm(params, x, layers)),
               "hand_loop_vmap_8_members_ms": timed(lambda: torch.func.vmap(_hand_lstm, in_dims=(0, None, None))(stacked, x, layers))}
    return {k: round(v, 1) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    cases = [("cnn", 8), ("cnn", 32), ("rnn", 0)]
    rows = [trainer_rate(architecture, m, args.epochs, size) for architecture, size in cases for m in args.members]
    for row in rows:
        single = next(r for r in rows if r["data"] == row["data"] and r["members"] == 1)
        row["vs_one_at_a_time"] = round(row["configs_per_min"] / single["configs_per_min"], 2)
        print(row)
    drift = [member_drift(optimizer, args.epochs) for optimizer in ("sgd", "adam")]
    print(drift)
    cells = hand_cell_vs_nn_lstm()
    print(cells)
    command = "python bench/population_deep_cpu.py " + " ".join(sys.argv[1:])
    results = ROOT / "bench" / "results"
    (results / "population_deep_cpu.json").write_text(json.dumps({"command": command, "trainer": rows, "member_drift": drift, "lstm_cells": cells}, indent=2))
    lines = ["# Populations of CNNs and RNNs on the CPU", "",
             machine_line(torch=torch.__version__), f"Command: `{command}`", "",
             f"The population trainer alone (population.train, {args.epochs} epochs, no Ray). CNN: digits (8x8, and resized to 32x32), 2 conv blocks "
             "of 32 filters with batch norm, batch 64 (members vectorised with vmap). RNN: JapaneseVowels, 2-layer "
             "bidirectional LSTM of 32 units, batch 32 (members in a loop, functional_nets.MemberLoop).", "",
             "| family | data | members | wall s | configs / min | vs one at a time | best validation loss |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['architecture']} | {r['data']} | {r['members']} | {r['wall_s']} | {r['configs_per_min']} | {r['vs_one_at_a_time']}x | "
              f"{r['best_validation_loss']} |" for r in rows]
    lines += ["", "Member 0 is the same configuration in every population, so the best validation loss could only "
              "fall as members are added, but for rounding: on 32x32 images the grouped convolutions that vmap makes of "
              "a population round differently from one convolution, and training amplifies the difference, Adam (this "
              "benchmark's optimiser) most. Member 0's validation loss per epoch on digits 32x32, alone and in a "
              "population of 4:", "", "| optimiser | alone | in the population |", "| --- | --- | --- |"]
    lines += [f"| {d['optimizer']} | {d['alone']} | {d['in_population']} |" for d in drift]
    lines += ["", "One batch forward and backward, 64 series of 150 steps, 2-layer bidirectional LSTM of 32 units "
              "(milliseconds): PyTorch's nn.LSTM against the same cell written step by step, alone and vectorised over "
              "8 members with vmap (nn.LSTM itself has no vmap rule).", "",
              "| nn.LSTM | hand loop | hand loop, vmap over 8 members |", "| ---: | ---: | ---: |",
              f"| {cells['nn_lstm_ms']} | {cells['hand_loop_ms']} | {cells['hand_loop_vmap_8_members_ms']} |"]
    write_results(results / "population_deep_cpu.md", lines)


if __name__ == "__main__":
    main()
