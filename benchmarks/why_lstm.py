"""Why an LSTM: plain RNN, GRU and LSTM on a long-dependency task, and on two of seqrec's recipes.

    python benchmarks/why_lstm.py synthetic [--lengths 10 20 50 100 200 500] [--seeds 3] [--steps 600]
    python benchmarks/why_lstm.py recipes [--speech-epochs 15] [--hands-epochs 15]

synthetic: the label (two classes) is the sign of the first step's first input; every step after
it is Gaussian noise, up to the sequence's length. A one-layer, one-direction recurrence reads the
sequence and a linear layer reads its last hidden state, so the label has to be carried across
every step of noise. Each cell's hidden size is chosen so that the three models (recurrence and
linear layer) have the same number of parameters within 5%. The gated cells' gates start with
chrono initialisation (their memory time scales drawn up to the sequence's length; see
``LastStepClassifier``): with torch's default biases an LSTM's forget gates start near 0.5, and
even an LSTM loses the label within 50 steps before it can learn to keep it (all three cells
scored 49-51% at length 50 with 400 steps). Each trains ``--steps`` Adam steps on fresh batches,
per length and seed, and is scored on 1,000 held-out sequences (chance: 50%). Then
the gradient norm that reaches step t from the loss, ``||dL/dx_t||`` averaged over a batch, for
200-step sequences, at initialisation and after training (seed 0). Writes
``benchmarks/outputs/why_lstm_synthetic.json``, ``docs/why-lstm-accuracy.png`` and
``docs/why-lstm-gradients.png``.

recipes: configs/digits-commands-real.yaml (the shipped speech model's first stage, from scratch:
the second stage starts from its weights) and configs/sign-digits.yaml, each trained with
``model.cell`` lstm, gru and rnn on the same shortened schedule (``--speech-epochs``,
``--hands-epochs``; speech without its speed-perturbed copies), into runs/why_lstm/. Reports the
best dev WER or accuracy, the parameters, the training wall time, and inference speed: the dev
set's features through each trained network in the same process (frames per second, and as a
multiple of the LSTM's). Prepares the data as the build scripts do (needs ../shared/data).
Writes ``benchmarks/outputs/why_lstm_recipes.json``. Runs resume from their checkpoints.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ROOT / "benchmarks" / "outputs"
DOCS = ROOT / "docs"
CELLS = ("rnn", "gru", "lstm")
CELL_TYPES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
N_INPUTS = 3
LSTM_HIDDEN = 32  # the reference size; the GRU and the RNN get as many parameters
GRADIENT_LENGTH = 200
EVAL_SEQUENCES = 1000
BATCH = 64


class LastStepClassifier(nn.Module):
    """A one-layer, one-direction recurrence and a linear layer on its last hidden state.

    ``memory_steps`` sets the gates' biases by chrono initialisation (Tallec & Ollivier, "Can
    recurrent neural networks warp time?", ICLR 2018): each unit's forget gate (an LSTM's; a
    GRU's update gate) starts open enough to keep its state for a time drawn from 1 to
    ``memory_steps``, as a gated cell can be told to; a plain RNN has no gate to set.
    """

    def __init__(self, cell: str, hidden: int, memory_steps: int | None = None):
        super().__init__()
        self.recurrence = CELL_TYPES[cell](N_INPUTS, hidden, batch_first=True)
        self.linear = nn.Linear(hidden, 2)
        if memory_steps and cell != "rnn":
            with torch.no_grad():
                keep = torch.log(torch.empty(hidden).uniform_(1, max(2, memory_steps - 1)))
                b_ih, b_hh = self.recurrence.bias_ih_l0, self.recurrence.bias_hh_l0
                b_hh.zero_()
                b_ih.zero_()
                if cell == "lstm":  # gates i, f, g, o: forget kept, input let in as little
                    b_ih[hidden : 2 * hidden] = keep
                    b_ih[:hidden] = -keep
                else:  # gru: r, z, n; h = (1 - z) n + z h_previous, so z near 1 keeps the state
                    b_ih[hidden : 2 * hidden] = keep

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.recurrence(inputs)
        return self.linear(outputs[:, -1])


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def matched_hidden_sizes() -> dict[str, int]:
    """Each cell's hidden size whose model has the LSTM's parameter count, or the nearest."""
    target = parameter_count(LastStepClassifier("lstm", LSTM_HIDDEN))
    sizes = {}
    for cell in CELLS:
        sizes[cell] = min(
            range(4, 4 * LSTM_HIDDEN),
            key=lambda h: abs(parameter_count(LastStepClassifier(cell, h)) - target),
        )
        count = parameter_count(LastStepClassifier(cell, sizes[cell]))
        assert abs(count - target) <= 0.05 * target, (cell, count, target)
    return sizes


def batch_of(length: int, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences whose label (0 or 1) is the sign of step 0's first input; noise after it."""
    labels = torch.randint(0, 2, (size,), generator=generator)
    inputs = torch.randn(size, length, N_INPUTS, generator=generator)
    inputs[:, 0] = 0.0
    inputs[:, 0, 0] = labels.float() * 2 - 1
    inputs[:, 0, 1] = 1.0  # a marker: this is the step that matters
    return inputs, labels


def train_synthetic(cell: str, hidden: int, length: int, seed: int, steps: int) -> tuple[nn.Module, float]:
    torch.manual_seed(seed)
    model = LastStepClassifier(cell, hidden, memory_steps=length)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(1000 + seed)
    for _ in range(steps):
        inputs, labels = batch_of(length, BATCH, generator)
        loss = nn.functional.cross_entropy(model(inputs), labels)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
    test_inputs, test_labels = batch_of(length, EVAL_SEQUENCES, torch.Generator().manual_seed(7))
    with torch.no_grad():
        accuracy = float((model(test_inputs).argmax(dim=1) == test_labels).float().mean())
    return model, accuracy


def gradient_by_step(model: nn.Module, length: int) -> np.ndarray:
    """``||dL/dx_t||`` per step t, averaged over a batch of 256."""
    inputs, labels = batch_of(length, 256, torch.Generator().manual_seed(11))
    inputs.requires_grad_(True)
    nn.functional.cross_entropy(model(inputs), labels).backward()
    return inputs.grad.norm(dim=2).mean(dim=0).numpy()


def run_synthetic(args) -> dict:
    torch.set_num_threads(2)
    sizes = matched_hidden_sizes()
    params = {cell: parameter_count(LastStepClassifier(cell, sizes[cell])) for cell in CELLS}
    print(f"hidden sizes {sizes}, parameters {params}", flush=True)
    accuracy: dict[str, dict[int, list[float]]] = {cell: {} for cell in CELLS}
    gradients: dict[str, dict[str, list[float]]] = {}
    started = time.perf_counter()
    for length in args.lengths:
        for cell in CELLS:
            for seed in range(args.seeds):
                if seed == 0 and length == GRADIENT_LENGTH:
                    torch.manual_seed(seed)
                    initial = gradient_by_step(LastStepClassifier(cell, sizes[cell], length), length)
                model, score = train_synthetic(cell, sizes[cell], length, seed, args.steps)
                accuracy[cell].setdefault(length, []).append(score)
                if seed == 0 and length == GRADIENT_LENGTH:
                    gradients[cell] = {
                        "initial": initial.tolist(),
                        "trained": gradient_by_step(model, length).tolist(),
                    }
            scores = accuracy[cell][length]
            print(
                f"length {length:4d} {cell:5s} accuracy {np.mean(scores):.3f} "
                f"({', '.join(f'{s:.3f}' for s in scores)})  [{time.perf_counter() - started:.0f} s]",
                flush=True,
            )
    result = {
        "task": "label = sign of step 0's first input, then noise; read from the last hidden state",
        "steps": args.steps,
        "batch": BATCH,
        "seeds": args.seeds,
        "hidden": sizes,
        "parameters": params,
        "accuracy": {cell: {str(n): v for n, v in by_length.items()} for cell, by_length in accuracy.items()},
        "gradient_length": GRADIENT_LENGTH,
        "gradient_norm_by_step": gradients,
    }
    (OUTPUTS / "why_lstm_synthetic.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot_accuracy(result, DOCS / "why-lstm-accuracy.png")
    if gradients:
        _plot_gradients(result, DOCS / "why-lstm-gradients.png")
    return result


def _plot_accuracy(result: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    axis = figure.subplots()
    for cell in CELLS:
        lengths = sorted(int(n) for n in result["accuracy"][cell])
        runs = np.array([result["accuracy"][cell][str(n)] for n in lengths])
        axis.plot(
            lengths,
            runs.mean(axis=1),
            "o-",
            label=f"{cell.upper()} ({result['parameters'][cell]} parameters)",
        )
        axis.fill_between(lengths, runs.min(axis=1), runs.max(axis=1), alpha=0.2)
    axis.axhline(0.5, color="grey", linestyle=":", label="chance")
    axis.set_xscale("log")
    axis.set_xlabel("sequence length (steps of noise after the label)")
    axis.set_ylabel(f"test accuracy (mean, range of {result['seeds']} seeds)")
    axis.set_ylim(0.4, 1.02)
    axis.legend(fontsize=8)
    axis.set_title("Remembering the first step", fontsize=10)
    figure.tight_layout()
    figure.savefig(path)


def _plot_gradients(result: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    axes = figure.subplots(1, 2, sharey=True)
    for axis, when in zip(axes, ("initial", "trained"), strict=True):
        for cell in CELLS:
            norms = np.asarray(result["gradient_norm_by_step"][cell][when])
            axis.plot(np.arange(len(norms)), np.maximum(norms, 1e-30), label=cell.upper())
        axis.set_yscale("log")
        axis.set_xlabel("step t (the loss reads the last step)")
        axis.set_title(f"{'at initialisation' if when == 'initial' else 'after training'}", fontsize=10)
    axes[0].set_ylabel("||dL / dx_t||, mean over 256 sequences")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def _script(name: str):
    """One of scripts/ as a module: its ``prepare`` writes the manifests the recipes read."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_recipes(args) -> dict:
    from seqrec.models import load_bundle
    from seqrec.pipelines.recipes import load_recipe, train_recipe

    shared = ROOT.parent / "shared"
    speech_recipe = ROOT / "configs" / "digits-commands-real.yaml"
    recipe = load_recipe(speech_recipe)
    _script("build_digits_commands").prepare(shared, set(recipe.vocabulary), recipe.features.sample_rate)
    _script("build_hand_models").prepare("sign-digits", shared)
    plans = [
        (speech_recipe, args.speech_epochs, {"data.speeds": []}),
        (ROOT / "configs" / "sign-digits.yaml", args.hands_epochs, {}),
    ]
    rows = []
    for path, epochs, extra in plans:
        for cell in CELLS:
            overrides = {
                **extra,
                "model.cell": cell,
                "train.epochs": epochs,
                "output_dir": str(ROOT / "runs" / "why_lstm" / f"{path.stem}-{cell}"),
            }
            recipe = load_recipe(path, overrides)
            started = time.perf_counter()
            best = train_recipe(recipe, log=lambda *a: None)
            seconds = time.perf_counter() - started
            history = [
                json.loads(line)
                for line in (recipe.run_dir / "history.jsonl").read_text().splitlines()
                if line
            ]
            bundle = load_bundle(best)
            figure = "dev_wer" if recipe.modality == "speech" else _hands_figure(history[-1])
            best_row = (
                min(history, key=lambda h: h[figure])
                if figure == "dev_wer"
                else max(history, key=lambda h: h[figure])
            )
            row = {
                "recipe": path.stem,
                "cell": cell,
                "epochs": len(history),
                "parameters": parameter_count(bundle.model),
                figure: best_row[figure],
                "best_epoch": best_row["epoch"],
                "train_seconds_this_run": round(seconds, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    _inference_speeds(rows)
    result = {"note": "shortened schedules; dev figures, not test", "rows": rows}
    (OUTPUTS / "why_lstm_recipes.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def _hands_figure(last: dict) -> str:
    return next(key for key in last if key.startswith("dev_") and "accuracy" in key)


def _inference_speeds(rows: list[dict]) -> None:
    """Each trained network over the same random inputs of its recipe's shape, batch 32, in this
    process: frames per second, and as a multiple of the LSTM's."""
    from seqrec.models import load_bundle

    torch.set_num_threads(2)
    for recipe in {row["recipe"] for row in rows}:
        mine = [row for row in rows if row["recipe"] == recipe]
        speeds = {}
        for row in mine:
            bundle = load_bundle(ROOT / "runs" / "why_lstm" / f"{recipe}-{row['cell']}" / "best")
            n_input = bundle.model.dims.encoder.n_input
            frames = 100 if recipe.startswith("digits") else 16
            inputs = torch.randn(32, frames, n_input, generator=torch.Generator().manual_seed(0))
            lengths = torch.full((32,), frames)
            with torch.inference_mode():
                bundle.model(inputs, lengths)  # warm up
                repeats, started = 0, time.perf_counter()
                while time.perf_counter() - started < 3.0:
                    bundle.model(inputs, lengths)
                    repeats += 1
            speeds[row["cell"]] = repeats * 32 * frames / (time.perf_counter() - started)
        for row in mine:
            row["inference_frames_per_second"] = round(speeds[row["cell"]])
            row["inference_speed_vs_lstm"] = round(speeds[row["cell"]] / speeds["lstm"], 2)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parts = parser.add_subparsers(dest="part", required=True)
    synthetic = parts.add_parser("synthetic")
    synthetic.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 50, 100, 200, 500])
    synthetic.add_argument("--seeds", type=int, default=3)
    synthetic.add_argument("--steps", type=int, default=600)
    recipes = parts.add_parser("recipes")
    recipes.add_argument("--speech-epochs", type=int, default=15)
    recipes.add_argument("--hands-epochs", type=int, default=15)
    args = parser.parse_args()
    OUTPUTS.mkdir(parents=True, exist_ok=True)
    if args.part == "synthetic":
        run_synthetic(args)
    else:
        run_recipes(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
