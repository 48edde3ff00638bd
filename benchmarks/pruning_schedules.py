"""How close the course gets to Han et al.'s LeNet-300-100 result (about 92% of the weights pruned
without loss) with a real training budget, and write the figures, with the date and library versions,
to benchmarks/results/pruning_schedules.json (notebook 02, section 7, reads them).

    python benchmarks/pruning_schedules.py [--epochs 20] [--prune-epochs 20] [--images N] [--json PATH]

LeNet-300-100 (784 -> 300 ReLU -> 100 ReLU -> 10) is trained for --epochs epochs (Adam 0.001, batch
128, the last 10% of the training images held out for validation). From those weights, three arms
train for the same --prune-epochs epochs, so every arm gets the same optimizer steps:

- "PolynomialDecay": TFMOT's cubic schedule (Zhu & Gupta, 2017) from 0 to Han et al.'s per-layer
  sparsities (92%, 91%, 74%: 91.8% overall), reached after two thirds of the epochs, applied per
  layer with `clone_model(..., clone_function=...)`, then stripped;
- "one-shot + fine-tune": the same per-layer sparsities at once by magnitude, then masked training;
- "control: unpruned": the baseline trained as long, unpruned.

Han et al. (NeurIPS 2015, Table 1) report test error 1.64% before and 1.59% after pruning LeNet-300-100
to 8% of its weights, with far more retraining than this budget.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import helpers  # noqa: E402,F401  (first: selects legacy Keras before TensorFlow loads)

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "pruning_schedules.json"
SEED = 42
HAN_SPARSITY = {"fc1": 0.92, "fc2": 0.91, "fc3": 0.74}  # Han et al. 2015, Table 2 (LeNet-300-100: 8%, 9%, 26% kept)
HAN_ERRORS = {"baseline": 0.0164, "pruned": 0.0159}
BATCH = 128


def lenet_300_100():
    from helpers import keras

    return keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28), name="flatten"),
        keras.layers.Dense(300, activation="relu", name="fc1"),
        keras.layers.Dense(100, activation="relu", name="fc2"),
        keras.layers.Dense(10, name="fc3"),
    ], name="lenet_300_100")


def _evaluate(model, x_val, y_val, x_test, y_test) -> dict:
    from helpers import metrics

    kernels = {name: model.get_layer(name).get_weights()[0] for name in HAN_SPARSITY}
    zeros = sum(int(np.sum(k == 0)) for k in kernels.values())
    return {"val_accuracy": metrics.keras_accuracy(model, x_val, y_val),
            "test_accuracy": metrics.keras_accuracy(model, x_test, y_test),
            "sparsity": {name: float(np.mean(k == 0)) for name, k in kernels.items()},
            "overall_sparsity": zeros / sum(k.size for k in kernels.values())}


def run(epochs: int, prune_epochs: int, images: int | None, verbose: int = 0) -> dict:
    """Train the baseline and the three arms; return the record."""
    import tensorflow_model_optimization as tfmot

    from helpers import data, keras, pruning, training

    sparsity_api = tfmot.sparsity.keras
    (x_all, y_all), (x_test, y_test) = data.load_mnist()
    x_all = training.as_float(x_all)
    if images:
        x_all, y_all = x_all[:images], y_all[:images]
    split = int(len(x_all) * 0.9)  # Keras' validation_split keeps the last 10%
    x_val, y_val = x_all[split:], y_all[split:]
    steps_per_epoch = math.ceil(split / BATCH)

    training.set_seed(SEED)
    baseline = lenet_300_100()
    training.fit(baseline, x_all, y_all, epochs=epochs, batch_size=BATCH, verbose=verbose)
    trained = baseline.get_weights()
    record_rows = {"baseline": {**_evaluate(baseline, x_val, y_val, x_test, y_test),
                                "train_steps": epochs * steps_per_epoch}}

    def fresh():
        model = lenet_300_100()
        model.set_weights(trained)
        return model

    end_step = max(1, (2 * prune_epochs * steps_per_epoch) // 3)
    frequency = max(1, min(100, end_step // 10))  # TFMOT's default 100, fewer steps on a tiny run

    def wrap(layer):
        if layer.name in HAN_SPARSITY:
            return sparsity_api.prune_low_magnitude(layer, pruning_schedule=sparsity_api.PolynomialDecay(
                0.0, HAN_SPARSITY[layer.name], begin_step=0, end_step=end_step, frequency=frequency))
        return layer

    training.set_seed(SEED)
    scheduled = keras.models.clone_model(fresh(), clone_function=wrap)
    training.fit(scheduled, x_all, y_all, epochs=prune_epochs, batch_size=BATCH, verbose=verbose,
                 callbacks=[sparsity_api.UpdatePruningStep()])
    record_rows["PolynomialDecay"] = _evaluate(sparsity_api.strip_pruning(scheduled), x_val, y_val, x_test, y_test)

    training.set_seed(SEED)
    one_shot = fresh()
    masks = {name: pruning.magnitude_mask(one_shot.get_layer(name).get_weights()[0], s)
             for name, s in HAN_SPARSITY.items()}
    pruning.apply_masks(one_shot, masks)
    record_rows["one-shot, no fine-tuning"] = _evaluate(one_shot, x_val, y_val, x_test, y_test)
    training.fit(one_shot, x_all, y_all, epochs=prune_epochs, batch_size=BATCH, verbose=verbose,
                 callbacks=[pruning.KeepMasks(masks)])
    record_rows["one-shot + fine-tune"] = _evaluate(one_shot, x_val, y_val, x_test, y_test)

    training.set_seed(SEED)
    control = fresh()
    training.fit(control, x_all, y_all, epochs=prune_epochs, batch_size=BATCH, verbose=verbose)
    record_rows["control: unpruned"] = _evaluate(control, x_val, y_val, x_test, y_test)
    for name in ("PolynomialDecay", "one-shot + fine-tune", "control: unpruned"):
        record_rows[name]["train_steps"] = (epochs + prune_epochs) * steps_per_epoch
    return {"epochs": epochs, "prune_epochs": prune_epochs, "steps_per_epoch": steps_per_epoch,
            "schedule_end_step": end_step, "schedule_frequency": frequency,
            "train_images": split, "validation_images": len(x_val),
            "test_images": len(x_test), "target_sparsity": HAN_SPARSITY, "han_errors": HAN_ERRORS,
            "rows": record_rows}


def main(argv: list[str] | None = None) -> int:
    """Run the study and write its figures with the date and versions to a JSON file."""
    from helpers import training
    from helpers.versions import installed_versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="baseline training epochs")
    parser.add_argument("--prune-epochs", type=int, default=20, help="epochs of every pruning arm")
    parser.add_argument("--images", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--progress", action="store_true", help="show Keras' epoch lines")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.prune_epochs < 1:
        parser.error("--epochs and --prune-epochs must be positive")
    record = {"date": datetime.date.today().isoformat(), "seed": SEED, "quick_run": training.quick_run(),
              "versions": installed_versions(), "command": " ".join(["python benchmarks/pruning_schedules.py",
                                                                    *(argv if argv is not None else sys.argv[1:])]),
              **run(args.epochs, args.prune_epochs, args.images, verbose=2 if args.progress else 0)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    for name, row in record["rows"].items():
        print(json.dumps({"arm": name, **row}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
