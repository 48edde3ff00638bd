"""Reproduce the TFMOT "Pruning in Keras" tutorial's reference numbers with the course's data,
and write them, with the date and library versions, to benchmarks/results/tfmot_tutorial.json.

    python benchmarks/tfmot_tutorial.py [--json benchmarks/results/tfmot_tutorial.json]

The tutorial's steps, as published (tensorflow.org/model_optimization/guide/pruning/
pruning_with_keras and .../combine/pqat_example): its CNN (Conv 12 3x3, max-pool, Dense 10) trained 4 epochs (Adam,
batch 32, validation split 0.1); pruned with PolynomialDecay 50% -> 80% over 2 epochs (batch 128);
strip_pruning; post-training dynamic-range quantization. And pruning-preserving QAT: 1 epoch
(batch 128) on the stripped pruned model, converted with Optimize.DEFAULT. Accuracy with LiteRT
on the full test set; size gzip -9.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import helpers  # noqa: E402  (first: selects legacy Keras before TensorFlow loads)

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "tfmot_tutorial.json"
SEED = 42


def run(out_dir: Path, verbose: int = 0) -> list[dict]:
    """Run the tutorial's two pipelines; return one result dict per pipeline."""
    import tensorflow_model_optimization as tfmot

    from helpers import data, deploy, metrics, models, pipeline, training

    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train = training.as_float(x_train)
    epochs = (training.run_size(4, 1), training.run_size(2, 1), 1)
    training.set_seed(SEED)
    baseline = models.build_cnn()
    training.fit(baseline, x_train, y_train, epochs=epochs[0], batch_size=32,
                 validation_split=0.1, verbose=verbose)

    end_step = math.ceil(int(len(x_train) * 0.9) / 128) * epochs[1]
    schedule = pipeline.polynomial_schedule(0.80, end_step=end_step, initial_sparsity=0.50)
    pruned = pipeline.prune_model(baseline, schedule)
    training.fit(pruned, x_train, y_train, epochs=epochs[1], batch_size=128, validation_split=0.1,
                 callbacks=[tfmot.sparsity.keras.UpdatePruningStep()], verbose=verbose)
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)

    pqat = pipeline.prune_preserving_qat(stripped)
    training.fit(pqat, x_train, y_train, epochs=epochs[2], batch_size=128, validation_split=0.1,
                 verbose=verbose)

    results = []
    for name, model in (("TFMOT tutorial: pruning + PTQ", stripped),
                        ("TFMOT tutorial: pruning-preserving QAT", pqat)):
        path = out_dir / (name.split(": ")[1].replace(" ", "_").replace("+", "and") + ".tflite")
        deploy.save_tflite(deploy.to_tflite(model, "dynamic"), path)
        results.append({"name": name, "accuracy": metrics.tflite_accuracy(path, x_test, y_test),
                        "bytes": metrics.file_size(path),
                        "gzipped_bytes": metrics.gzipped_size(path)})
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the tutorial and write its figures with the date and versions to a JSON file."""
    from helpers import training
    from helpers.versions import installed_versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--out", type=Path, default=helpers.OUTPUT_DIR / "benchmarks" / "tfmot")
    parser.add_argument("--progress", action="store_true", help="show Keras' epoch lines")
    args = parser.parse_args(argv)
    results = run(args.out, verbose=2 if args.progress else 0)
    versions = installed_versions()  # the tested libraries (helpers.versions.TESTED, from the lock)
    record = {"command": "python benchmarks/tfmot_tutorial.py",
              "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "seed": SEED, "quick_run": training.quick_run(), "versions": versions,
              "results": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    for row in results:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
